/**
 * `joold follow` on the real machine: a netlink socket that joins the Jool
 * family's `joold` group and, after resolving the family, sends nothing
 * (no ADD; an ACK per batch only with `--ack`), and/or a socket on the sync
 * multicast group that never sends. Each wake-up's sessions are printed with one write; a closed
 * stdout (`joold follow | head`), SIGINT or SIGTERM ends it with status 0.
 *
 * @module
 */

import { SyscallError } from "../../ffi/errors.ts";
import { assessStatus, type DaemonReport, readStatusSources } from "./status.ts";
import {
  DEFAULT_STATE_DIRECTORY,
  TuningStateFile,
  type TuningStateStore,
} from "../daemon/tuning_state.ts";
import { type InstanceControl, InstanceSetup } from "../daemon/instance_setup.ts";
import { FlushNudge } from "../daemon/flush_nudge.ts";
import { type Clock, systemClock } from "../daemon/clock.ts";
import { flushNudgeDelayMs } from "../sync/instance_tuning.ts";
import { type ModsocketConfig, parseModsocketConfig } from "../config/modsocket.ts";
import { readSystemFile, readSystemLink } from "../../ffi/system_files.ts";
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
  groupListeners,
  KernelFollower,
  optOutFlag,
  sessionsOfDatagram,
  type SyncedSession,
} from "./follow.ts";
import { PROXY_DEFAULT_TTL, proxyNetsocket } from "./proxy.ts";
import { openRequestLink, type SystemTools, withSystem } from "./system.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
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

/** How long the group may stay silent while the kernel sends, before a hint on the port. */
export const SILENT_GROUP_HINT_MS = 10_000;

/** The port the example netsocket files of packaging/examples use. */
export const EXAMPLES_PORT = "6464";

/**
 * Prints synced sessions until SIGINT, SIGTERM or a closed stdout (status
 * 0). A bad flag the machine refuses (an unknown interface or service): one
 * line through `usage`, status 2. No Jool module with the kernel as a
 * source, or a socket refused: one error line, status 1. `say` gets the
 * line that tells the mode at start, whatever the log level.
 */
export async function runFollowCommand(
  options: FollowOptions,
  logger: Logger,
  write: OutputWriter,
  usage: (line: string) => void,
  say: (line: string) => void,
): Promise<number> {
  try {
    return await withSystem(logger, (tools) => follow(options, tools, write, usage, say));
  } catch (error) {
    logger.error(errorText(error));
    return EXIT_FAILURE;
  }
}

/**
 * What to say when the group stayed silent for {@link SILENT_GROUP_HINT_MS}
 * though the port was not given and the kernel sent batches (`kernelBatches`:
 * null when the kernel is not followed): a daemon set up from the examples
 * uses another port than `jool session proxy`'s default. Null otherwise.
 */
export function silentGroupWarning(
  options: Pick<FollowOptions, "portGiven">,
  group: { address: string; port: number },
  kernelBatches: number | null,
  groupDatagrams: number,
): string | null {
  if (options.portGiven || groupDatagrams > 0 || kernelBatches === 0) return null;
  return `Nothing came on group ${group.address} port ${group.port} in ` +
    `${SILENT_GROUP_HINT_MS / 1000} s` +
    (kernelBatches === null ? "" : ` while the kernel sent ${kernelBatches} batches`) +
    `: port ${group.port} is \`jool session proxy\`'s default; a daemon set up from the ` +
    `examples uses "multicast port": ${EXAMPLES_PORT} (give -p ${EXAMPLES_PORT})`;
}

/**
 * Why `--ack` is refused: a daemon of ours runs for the instance in this
 * network namespace (`reports`: what `joold status` finds in a state
 * directory), and ACKs its batches; with a second ACKer the kernel sends as
 * fast as the quicker of the two, not at the daemon's pace. Null if none.
 */
export function ackRefusal(
  options: FollowOptions,
  reports: readonly DaemonReport[],
): string | null {
  if (!options.ack) return null;
  const running = reports.filter((report) => report.verdict !== "not-running" && report.status);
  if (running.length === 0) return null;
  const daemons = running.map((report) => `process ${report.status!.pid} (${report.path})`);
  return `--ack refused: joold ${daemons.join(", ")} synchronises instance ` +
    `'${options.instance}' here and ACKs its batches; a second ACK would let the kernel send ` +
    "faster than the daemon takes them. Follow it with `joold follow` (no --ack)";
}

/** The state directories our daemons use: /run/joold, and /run/joold/NAME of joold@NAME. */
function stateDirectories(): string[] {
  const directories = [DEFAULT_STATE_DIRECTORY];
  try {
    for (const entry of Deno.readDirSync(DEFAULT_STATE_DIRECTORY)) {
      if (entry.isDirectory) directories.push(`${DEFAULT_STATE_DIRECTORY}/${entry.name}`);
    }
  } catch {
    // No state directory: no daemon of ours publishes a status here.
  }
  return directories;
}

/** What `joold status` finds of the daemons of `instance` in this namespace. */
function daemonsOf(tools: SystemTools, instance: string): DaemonReport[] {
  return stateDirectories().flatMap((stateDirectory) =>
    assessStatus(
      readStatusSources(tools.libc, {
        stateDirectory,
        instance,
        json: false,
        quiet: false,
        help: false,
      }),
    ).daemons
  );
}

/**
 * The start line: the mode, and what the other listeners of Jool's `joold`
 * group (`listeners`: their netlink port ids; null if unknown) mean for it.
 * A daemon's socket cannot be told from a follower's there, nor its
 * instance: the line says what it may be.
 */
export function modeLine(options: FollowOptions, listeners: number[] | null): {
  line: string;
  warning: string | null;
} {
  const others = listeners === null
    ? null
    : listeners.length === 0
    ? "no other process listens to Jool's joold group"
    : `${listeners.length} other netlink socket(s) listen to Jool's joold group ` +
      `(port ids ${listeners.join(", ")})`;
  if (options.ack) {
    return {
      line: `ACK mode: acknowledging every batch of instance '${options.instance}', as ` +
        "`jool session follow` does, so the kernel sends the next one at once (for running " +
        "without a daemon)" + (others === null ? "" : `; ${others}`),
      warning: listeners !== null && listeners.length > 0
        ? `${others}: a joold daemon or \`jool session proxy\` of instance '${options.instance}' ` +
          "among them ACKs too, and then the kernel no longer waits for it: run joold follow " +
          "without --ack next to a daemon"
        : null,
    };
  }
  return {
    line: `Listen-only mode: no ACKs, so a daemon beside it keeps the kernel's pace` +
      (others === null ? "" : `; ${others}`),
    warning: listeners !== null && listeners.length === 0 && options.source !== "group"
      ? "With nothing ACKing, the kernel sends one batch per ss-flush-deadline and drops what " +
        "its queue cannot hold: use --ack when no daemon runs"
      : null,
  };
}

/** Where the tunings' settings come from, for the messages that name it. */
const FOLLOW_TUNING_SOURCE = "joold follow's command line";

/**
 * The daemon's settings for the globals it tunes (its modsocket file's
 * defaults), without those `--no-KEY` leaves alone: the same keys, read by
 * the modsocket file's own parser.
 */
export function followTuningConfig(
  options: Pick<FollowOptions, "instance" | "untuned">,
): ModsocketConfig {
  const settings = Object.fromEntries(options.untuned.map((key) => [key, false]));
  const text = JSON.stringify({ instance: options.instance, ...settings });
  return parseModsocketConfig(text, FOLLOW_TUNING_SOURCE).config;
}

/**
 * In ACK mode, follow is the instance's only ACKer, as a daemon would be,
 * and the kernel queues for it as for a daemon: it changes the same
 * globals the daemon changes while it runs, through the daemon's code
 * (src/daemon/instance_setup.ts), with the same state file (`store`), so
 * that a follow killed by SIGKILL is repaired by the next daemon or follow.
 * The lines that say a change go to `say`: they print whatever the log
 * level. Returns what puts the values back at exit; null in listen-only
 * mode, which touches nothing (the daemon beside it owns the instance).
 */
export async function tuneForAck(
  options: Pick<FollowOptions, "ack" | "instance" | "untuned">,
  kernel: InstanceControl,
  kernelVersion: number | null,
  logger: Logger,
  say: (line: string) => void,
  store: TuningStateStore | null,
): Promise<InstanceSetup | null> {
  if (!options.ack) return null;
  const saying: Logger = {
    error: (message) => logger.error(message),
    warning: (message) => logger.warning(message),
    info: say,
    debug: (message) => logger.debug(message),
    enabled: (level) => level === "info" || logger.enabled(level),
  };
  const setup = new InstanceSetup(
    kernel,
    followTuningConfig(options),
    saying,
    store,
    (tuning) => `give ${optOutFlag(tuning.key)}`,
  );
  await setup.tune(kernelVersion);
  return setup;
}

/**
 * In ACK mode, where the daemon would nudge the kernel a deadline after
 * its last batch (the deadline it lowered; src/daemon/flush_nudge.ts), the
 * same nudge (`nudge`: an extra ACK), so that the last sessions of a quiet
 * spell reach the follower then, not at the kernel's own check up to 2 s
 * later. Null where the daemon would not nudge, and listening only.
 */
export function ackFlushNudge(
  options: Pick<FollowOptions, "ack" | "instance" | "untuned">,
  kernelVersion: number | null,
  clock: Pick<Clock, "monotonic" | "setTimer" | "clearTimer">,
  nudge: () => void,
): FlushNudge | null {
  if (!options.ack) return null;
  const delayMs = flushNudgeDelayMs(followTuningConfig(options), kernelVersion);
  return delayMs === null ? null : new FlushNudge({ clock, nudge, delayMs });
}

/** The state file of `instance` in this network namespace, where the daemon keeps its own. */
function followStateFile(tools: SystemTools, instance: string): TuningStateStore {
  let netns: string | null = null;
  try {
    netns = readSystemLink(tools.libc, "/proc/self/ns/net");
  } catch (error) {
    tools.logger.warning(`Cannot tell the network namespace: ${errorText(error)}`);
  }
  return new TuningStateFile(DEFAULT_STATE_DIRECTORY, instance, netns);
}

async function follow(
  options: FollowOptions,
  tools: SystemTools,
  write: OutputWriter,
  usage: (line: string) => void,
  say: (line: string) => void,
): Promise<number> {
  const { logger, reactor, sockets } = tools;
  const followKernel = options.source !== "group";
  const refusal = ackRefusal(options, daemonsOf(tools, options.instance));
  if (refusal !== null) {
    logger.error(refusal);
    return EXIT_FAILURE;
  }
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
  const printer = new LinePrinter(write, options);
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => finish = resolve);
  const flushOrFinish = () => {
    if (!printer.flush()) finish();
  };

  const closers: (() => void)[] = [];
  let kernelBatches = 0;
  let groupDatagrams = 0;
  let flushNudge: FlushNudge | null = null;
  // From before any global is changed: a signal ends the run, and the finally puts them back.
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, finish);
  try {
    // A request-only link for the pool6 (the dst6 of raw36 sessions), and
    // in ACK mode for the globals changed until exit. Without the module,
    // only the group can be followed.
    let link: KernelLink | null = null;
    try {
      link = await openRequestLink(tools, options.instance);
    } catch (error) {
      if (followKernel) throw error;
      logger.warning(`${errorText(error)}; following the group only`);
    }
    if (link !== null) {
      const opened = link;
      try {
        context.pool6 = await opened.readPool6();
      } catch (error) {
        logger.warning(`Cannot read instance '${options.instance}''s pool6: ${errorText(error)}`);
      }
      if (options.ack) {
        closers.push(() => opened.close());
      } else {
        opened.close();
        link = null;
      }
    }
    if (options.format === "csv" && options.headers) printer.line(FOLLOW_CSV_HEADER);
    flushOrFinish();
    if (!followKernel) say("Listen-only mode: the group's datagrams, nothing sent");
    if (followKernel) {
      const socket = GenericNetlinkSocket.open(sockets);
      closers.push(() => socket.close());
      socket.setReceiveBuffer(RECEIVE_BUFFER_BYTES);
      const follower = new KernelFollower(
        socket,
        context,
        (sessions) => {
          if (sessions.length > 0) {
            kernelBatches++;
            flushNudge?.batchArrived();
          }
          printer.add(sessions);
        },
        (problem) => logger.warning(problem),
        options.ack,
      );
      reactor.watch(socket.fd, { readable: true }, () => {
        drainNetlink(socket, (datagram) => follower.receive(datagram), () => {
          flushNudge?.batchArrived();
          logger.warning("Missed kernel batches: the netlink receive buffer overflowed");
        });
        flushOrFinish();
      });
      const group = await follower.resolve();
      // Before joining: every listener found is another process's socket.
      const mode = modeLine(options, otherListeners(tools, group, logger));
      say(mode.line);
      if (mode.warning !== null) logger.warning(mode.warning);
      if (link !== null && options.ack) {
        const store = followStateFile(tools, options.instance);
        const setup = await tuneForAck(options, link, version, logger, say, store);
        // Put back before the link closes.
        if (setup !== null) closers.unshift(() => setup.restore());
        const requests = link;
        flushNudge = ackFlushNudge(options, version, systemClock, () => requests.nudge());
        const nudging = flushNudge;
        if (nudging !== null) closers.unshift(() => nudging.stop());
      }
      socket.joinGroup(group);
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
          groupDatagrams++;
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
    if (netsocket !== null && !options.portGiven) {
      const group = netsocket;
      const hint = setTimeout(() => {
        const warning = silentGroupWarning(
          options,
          group,
          followKernel ? kernelBatches : null,
          groupDatagrams,
        );
        if (warning !== null) logger.warning(warning);
      }, SILENT_GROUP_HINT_MS);
      closers.push(() => clearTimeout(hint));
    }
    say(
      `Following instance '${options.instance}': ` +
        [
          followKernel ? "the kernel's batches" : null,
          netsocket === null ? null : `group ${netsocket.address} port ${netsocket.port}`,
        ].filter((part) => part !== null).join(" and "),
    );
    await finished;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, finish);
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

/** Other sockets in Jool's `joold` group, from /proc/net/netlink; null if it cannot be told. */
function otherListeners(tools: SystemTools, group: number, logger: Logger): number[] | null {
  try {
    return groupListeners(readSystemFile(tools.libc, "/proc/net/netlink"), group);
  } catch (error) {
    logger.debug(`Cannot read /proc/net/netlink: ${errorText(error)}`);
    return null;
  }
}
