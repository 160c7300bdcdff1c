/**
 * `joold follow` on the real machine: a netlink socket that joins the Jool
 * family's `joold` group and sends nothing after resolving the family (no
 * ACK, no ADD), and/or a socket on the sync multicast group that never
 * sends. Each wake-up's sessions are printed with one write; a closed
 * stdout (`joold follow | head`), SIGINT or SIGTERM ends it with status 0.
 *
 * @module
 */

import { SyscallError } from "../../ffi/errors.ts";
import { sessionEncodingFor } from "../jool/session.ts";
import { readJoolModuleVersion } from "../jool_module_version.ts";
import { errorText } from "../error_text.ts";
import type { Logger } from "../log.ts";
import { drain, RECEIVE_BUFFER_BYTES } from "../net/drain.ts";
import { MulticastSocket } from "../sync/multicast_socket.ts";
import { drainNetlink, GenericNetlinkSocket } from "../sync/netlink_socket.ts";
import { describePeer } from "../sync/peer_address.ts";
import {
  FOLLOW_CSV_HEADER,
  type FollowContext,
  type FollowOptions,
  formatSyncedSession,
  KernelFollower,
  sessionsOfDatagram,
  type SyncedSession,
} from "./follow.ts";
import { PROXY_DEFAULT_TTL, proxyNetsocket } from "./proxy.ts";
import { openRequestLink, type SystemTools, withSystem } from "./system.ts";
import { CommandLineError } from "../command_line.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../exit_status.ts";

/** Writes all of `bytes`; throws Deno.errors.BrokenPipe when the reader has gone. */
export type OutputWriter = (bytes: Uint8Array) => void;

/** Collects one wake-up's lines and writes them at once. */
class LinePrinter {
  readonly #write: OutputWriter;
  readonly #options: FollowOptions;
  readonly #encoder = new TextEncoder();
  #lines: string[] = [];
  /** Set when stdout is closed: printing is over. */
  closed = false;

  constructor(write: OutputWriter, options: FollowOptions) {
    this.#write = write;
    this.#options = options;
  }

  add(sessions: SyncedSession[]): void {
    for (const event of sessions) {
      this.#lines.push(formatSyncedSession(event, this.#options.format));
    }
  }

  line(text: string): void {
    this.#lines.push(text);
  }

  /** Writes what was collected; false once the reader has gone. */
  flush(): boolean {
    if (this.closed) return false;
    if (this.#lines.length === 0) return true;
    const text = this.#lines.join("\n") + "\n";
    this.#lines = [];
    try {
      this.#write(this.#encoder.encode(text));
    } catch (error) {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      this.closed = true;
      return false;
    }
    return true;
  }
}

/**
 * Prints synced sessions until SIGINT, SIGTERM or a closed stdout (status
 * 0). A bad flag the machine refuses (an unknown interface or service): one
 * line through `usage`, status 2. No Jool module with the kernel as a
 * source, or a socket refused: one error line, status 1.
 */
export async function runFollowCommand(
  options: FollowOptions,
  logger: Logger,
  write: OutputWriter,
  usage: (line: string) => void,
): Promise<number> {
  try {
    return await withSystem(logger, (tools) => follow(options, tools, write, usage));
  } catch (error) {
    logger.error(errorText(error));
    return EXIT_FAILURE;
  }
}

async function follow(
  options: FollowOptions,
  tools: SystemTools,
  write: OutputWriter,
  usage: (line: string) => void,
): Promise<number> {
  const { logger, reactor, sockets } = tools;
  const followKernel = options.source !== "group";
  const followGroup = options.source !== "kernel";
  let netsocket = null;
  if (followGroup && options.group !== null) {
    try {
      netsocket = proxyNetsocket({
        group: options.group,
        port: options.port,
        devIn: options.devIn,
        devOut: null,
        ttl: PROXY_DEFAULT_TTL,
        controlPort: null,
      }, tools.environment).config;
    } catch (error) {
      if (!(error instanceof CommandLineError)) throw error;
      usage(error.message);
      return EXIT_USAGE;
    }
  }

  const version = readJoolModuleVersion(tools.libc, logger);
  const context: FollowContext = {
    instance: options.instance,
    localEncoding: version === null ? null : sessionEncodingFor(version),
    pool6: null,
  };
  // A request-only link for the pool6 (the dst6 of raw36 sessions).
  // Without the module, only the group can be followed.
  try {
    const link = await openRequestLink(tools, options.instance);
    try {
      context.pool6 = await link.readPool6();
    } catch (error) {
      logger.warning(`Cannot read instance '${options.instance}''s pool6: ${errorText(error)}`);
    } finally {
      link.close();
    }
  } catch (error) {
    if (followKernel) throw error;
    logger.warning(`${errorText(error)}; following the group only`);
  }

  const printer = new LinePrinter(write, options);
  if (options.format === "csv" && options.headers) printer.line(FOLLOW_CSV_HEADER);
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => finish = resolve);
  const flushOrFinish = () => {
    if (!printer.flush()) finish();
  };
  flushOrFinish();

  const closers: (() => void)[] = [];
  try {
    if (followKernel) {
      const socket = GenericNetlinkSocket.open(sockets);
      closers.push(() => socket.close());
      socket.setReceiveBuffer(RECEIVE_BUFFER_BYTES);
      const follower = new KernelFollower(
        socket,
        context,
        (sessions) => printer.add(sessions),
        (problem) => logger.warning(problem),
      );
      reactor.watch(socket.fd, { readable: true }, () => {
        drainNetlink(socket, (datagram) => follower.receive(datagram), () => {
          logger.warning("Missed kernel batches: the netlink receive buffer overflowed");
        });
        flushOrFinish();
      });
      socket.joinGroup(await follower.resolve());
      closers.unshift(() => reactor.unwatch(socket.fd));
    }
    if (netsocket !== null) {
      let network: MulticastSocket;
      try {
        network = MulticastSocket.open(sockets, netsocket);
      } catch (error) {
        if (!(error instanceof SyscallError && error.code === "EADDRINUSE")) throw error;
        // The daemon's socket does not share its port (SO_REUSEADDR).
        throw new Error(
          `${error.message}: the daemon bound to port ${netsocket.port} does not share it ` +
            `(Jool 4.1.12 and earlier's joold needs "reuseaddr": 1 in its netsocket file); ` +
            "follow the kernel only with --source=kernel",
        );
      }
      closers.push(() => network.close());
      reactor.watch(network.fd, { readable: true }, () => {
        drain(() => {
          const datagram = network.receive();
          if (datagram === null) return false;
          const origin = describePeer(datagram.from);
          const sessions = sessionsOfDatagram(datagram.data, origin, context);
          if (typeof sessions === "string") {
            logger.warning(`Ignoring a datagram from ${origin}: ${sessions}`);
          } else {
            printer.add(sessions);
          }
          return true;
        });
        flushOrFinish();
      });
      closers.unshift(() => reactor.unwatch(network.fd));
    }
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const signal of signals) Deno.addSignalListener(signal, finish);
    logger.info(
      `Following instance '${options.instance}': ` +
        [
          followKernel ? "the kernel's batches" : null,
          netsocket === null ? null : `group ${netsocket.address} port ${netsocket.port}`,
        ].filter((part) => part !== null).join(" and "),
    );
    try {
      await finished;
    } finally {
      for (const signal of signals) Deno.removeSignalListener(signal, finish);
    }
  } finally {
    for (const close of closers) {
      try {
        close();
      } catch (error) {
        logger.warning(`Error while closing: ${errorText(error)}`);
      }
    }
  }
  return 0;
}
