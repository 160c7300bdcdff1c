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
import { type NetworkEnvironment, systemEnvironment } from "../config/environment.ts";
import type { Logger } from "../log.ts";
import { GenericNetlinkSocket } from "../netlink/socket.ts";
import { SyncCounters } from "../stats/counters.ts";
import { errorText, KernelLink } from "../sync/kernel_link.ts";

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
 * Opens the C library and a running reactor, calls `use`, then stops the
 * reactor and closes everything, whatever `use` did.
 */
export async function withSystem<T>(
  logger: Logger,
  use: (tools: SystemTools) => Promise<T>,
): Promise<T> {
  const libc = Libc.open();
  try {
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
  } finally {
    libc.close();
  }
}

/**
 * A kernel link for requests only. Unlike {@link KernelLink.open} it does
 * not join the `joold` group: a command running next to the daemon must
 * not receive (and ACK) the daemon's session batches.
 */
export class RequestLink {
  readonly #link: KernelLink;
  readonly #close: () => void;
  #closed = false;

  private constructor(link: KernelLink, close: () => void) {
    this.#link = link;
    this.#close = close;
  }

  /**
   * Opens a netlink socket on the running reactor and resolves the Jool
   * family. Throws JoolModuleMissingError if it is absent, SyscallError if
   * the socket cannot be opened.
   */
  static async open(tools: SystemTools, instance: string): Promise<RequestLink> {
    const socket = GenericNetlinkSocket.open(tools.sockets);
    const link = new KernelLink(
      { logger: tools.logger, counters: new SyncCounters() },
      socket,
      instance,
    );
    let watching = false;
    const requests = new RequestLink(link, () => {
      link.close();
      if (watching) tools.reactor.unwatch(socket.fd);
      socket.close();
    });
    try {
      tools.reactor.watch(socket.fd, { readable: true }, () => {
        for (let datagram = socket.receive(); datagram !== null; datagram = socket.receive()) {
          link.receive(datagram);
        }
      });
      watching = true;
      await link.resolve();
    } catch (error) {
      requests.close();
      throw error;
    }
    return requests;
  }

  /** The Jool family's id. */
  get familyId(): number {
    return this.#link.familyId;
  }

  /** See {@link KernelLink.instanceExists}. */
  instanceExists(): Promise<boolean> {
    return this.#link.instanceExists();
  }

  /** See {@link KernelLink.probe}. */
  probe(): Promise<void> {
    return this.#link.probe();
  }

  /** See {@link KernelLink.advertise}. */
  advertise(): Promise<void> {
    return this.#link.advertise();
  }

  /** Closes the link and its socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#close();
  }
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

/** Whether this process has CAP_NET_ADMIN in effect; null if it cannot tell. */
export async function hasNetAdmin(): Promise<boolean | null> {
  let status: string;
  try {
    status = await Deno.readTextFile("/proc/self/status");
  } catch {
    return null;
  }
  const effective = parseEffectiveCapabilities(status);
  return effective === null ? null : (effective & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
}
