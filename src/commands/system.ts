/**
 * The real machine for the operator commands: the C library, a running
 * reactor, a kernel link that only makes requests, the configuration
 * loaders, and the process's capabilities.
 *
 * @module
 */

import { Libc } from "../../ffi/libc.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { readSystemFile } from "../../ffi/system_files.ts";
import { type NetworkEnvironment, systemEnvironment } from "../config/environment.ts";
import type { Logger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { errorText } from "../error_text.ts";
import { KernelLink } from "../sync/kernel_link.ts";
import { EXIT_FAILURE } from "../exit_status.ts";

/** What the commands run on; valid only inside {@link withSystem}. */
export interface SystemTools {
  libc: Libc;
  sockets: Sockets;
  /** Running: netlink requests complete. */
  reactor: Reactor;
  environment: NetworkEnvironment;
  logger: Logger;
}

/**
 * Opens the C library for `use` and closes it afterwards, whatever `use`
 * did: how every command opens it.
 *
 * @throws {Error} Naming the library, if it cannot be opened.
 */
export async function usingLibc<T>(use: (libc: Libc) => T | Promise<T>): Promise<T> {
  const libc = Libc.open();
  try {
    return await use(libc);
  } finally {
    libc.close();
  }
}

/**
 * {@link usingLibc} for a command that returns an exit status: if the
 * library cannot be opened, logs why and returns EXIT_FAILURE.
 */
export async function withLibc(
  logger: Logger,
  use: (libc: Libc) => number | Promise<number>,
): Promise<number> {
  let opened = false;
  try {
    return await usingLibc((libc) => {
      opened = true;
      return use(libc);
    });
  } catch (error) {
    if (opened) throw error;
    logger.error(errorText(error));
    return EXIT_FAILURE;
  }
}

/**
 * Opens the C library and a running reactor, calls `use`, then stops the
 * reactor and closes everything, whatever `use` did.
 */
export function withSystem<T>(
  logger: Logger,
  use: (tools: SystemTools) => Promise<T>,
): Promise<T> {
  return usingLibc(async (libc) => {
    const reactor = Reactor.open(libc, (fd, error) => {
      logger.error(`Unexpected failure handling descriptor ${fd}: ${errorText(error)}`);
    });
    const running = reactor.run();
    try {
      return await use({
        libc,
        sockets: new Sockets(libc),
        reactor,
        environment: systemEnvironment(libc),
        logger,
      });
    } finally {
      reactor.stop();
      await running;
      reactor.close();
    }
  });
}

/**
 * A kernel link for requests only, on the running reactor: it does not
 * join the `joold` group, so a command running next to the daemon never
 * takes (and ACKs) the daemon's session batches. Throws
 * JoolModuleMissingError if the family is absent, SyscallError if the
 * socket cannot be opened.
 */
export function openRequestLink(tools: SystemTools, instance: string): Promise<KernelLink> {
  return KernelLink.open(
    { ...tools, counters: new SyncCounters() },
    instance,
    { joinGroup: false },
  );
}

/**
 * Who may own the key file: root, and this process's effective uid (from
 * `/proc/self/status`, read through libc); null if that cannot be read.
 */
export function keyFileOwners(libc: Libc): number[] | null {
  const status = ownStatus(libc);
  if (status === null) return null;
  const match = /^Uid:\s*\d+\s+(\d+)/m.exec(status);
  return match === null ? null : [...new Set([0, Number(match[1])])];
}

/** Capability number of CAP_NET_ADMIN (linux/capability.h). */
export const CAP_NET_ADMIN = 12;

/**
 * The effective capability set from the text of `/proc/self/status`
 * (`CapEff:` in hexadecimal), or null if it has none.
 */
export function parseEffectiveCapabilities(status: string): bigint | null {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return match === null ? null : BigInt(`0x${match[1]}`);
}

/**
 * Whether this process has CAP_NET_ADMIN in effect; null if it cannot tell.
 * Read through libc: Deno refuses /proc to the shipped binary's
 * `--allow-read` (see ffi/system_files.ts).
 */
export function hasNetAdmin(libc: Libc): boolean | null {
  const status = ownStatus(libc);
  if (status === null) return null;
  const effective = parseEffectiveCapabilities(status);
  return effective === null ? null : (effective & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
}

/** The text of `/proc/self/status`, or null if it cannot be read. */
function ownStatus(libc: Libc): string | null {
  try {
    return readSystemFile(libc, "/proc/self/status");
  } catch {
    return null;
  }
}
