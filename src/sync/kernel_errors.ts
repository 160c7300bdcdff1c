/**
 * How the kernel says no: the Jool module is missing, or the Jool family
 * answered a request with its own error report. The daemon and the
 * commands tell these apart from other failures.
 *
 * @module
 */

import { decodeGenericMessage } from "../netlink/genetlink.ts";
import type { Message } from "../netlink/message.ts";
import { decodeJoolError } from "../jool/kernel_messages.ts";

/** The Jool family is not registered: the module is not loaded. */
export class JoolModuleMissingError extends Error {
  constructor() {
    super(
      "The Jool kernel module is not loaded in this network namespace: " +
        "Generic Netlink has no 'Jool' family (try `modprobe jool`)",
    );
    this.name = "JoolModuleMissingError";
  }
}

/** The kernel answered a request with a Jool error message. */
export class KernelRefusalError extends Error {
  /** Positive errno from the kernel. */
  readonly code: number;
  /** The kernel's own explanation, verbatim. */
  readonly kernelMessage: string;

  constructor(operation: string, code: number, kernelMessage: string) {
    super(`${operation} failed: the kernel said: ${kernelMessage} (error ${code})`);
    this.name = "KernelRefusalError";
    this.code = code;
    this.kernelMessage = kernelMessage;
  }
}

/**
 * Whether `error` is the kernel refusing because session sync is off on
 * the instance ("Session sync is disabled on this instance.", EINVAL: the
 * message is the only way to tell it from other refusals).
 */
export function isSyncDisabledRefusal(error: unknown): error is KernelRefusalError {
  return error instanceof KernelRefusalError && /disabled/i.test(error.kernelMessage);
}

/**
 * The Jool error report among the replies to `operation`, as a
 * {@link KernelRefusalError}; null if none of the Jool family's replies
 * (family `familyId`) is one.
 */
export function refusalIn(
  operation: string,
  replies: Message[],
  familyId: number,
): KernelRefusalError | null {
  for (const reply of replies) {
    if (reply.header.type !== familyId) continue;
    const error = decodeJoolError(decodeGenericMessage(reply));
    if (error !== null) return new KernelRefusalError(operation, error.code, error.message);
  }
  return null;
}
