/**
 * The daemon: wires the kernel link, the multicast sockets and the stats
 * server to one reactor, and relays sessions both ways.
 *
 * @module
 */

import type { Libc } from "../ffi/libc.ts";
import { Reactor } from "../ffi/reactor.ts";
import { SyscallError } from "../ffi/errors.ts";
import type { IpSocketAddress } from "../ffi/sockaddr.ts";
import type { Sockets } from "../ffi/sockets.ts";
import type { ModsocketConfig } from "./config/modsocket.ts";
import type { NetsocketConfig } from "./config/netsocket.ts";
import { ssEnableCommand } from "./jool/cli_hint.ts";
import { formatVersion } from "./jool/header.ts";
import { kernelAdvertises } from "./jool/kernel_behaviour.ts";
import { GlobalAttribute } from "./jool/protocol.ts";
import { sessionEncodingFor } from "./jool/session.ts";
import { type Logger, RateLimiter } from "./log.ts";
import type { SyncCounters } from "./stats/counters.ts";
import { LatencyHistogram } from "./stats/latency.ts";
import { PeerTable } from "./stats/peers.ts";
import { statsAnswer, type StatsSources } from "./stats/report.ts";
import { StatsServer } from "./stats/stats_server.ts";
import { MetricsServer } from "./stats/metrics_server.ts";
import { formatPrometheus } from "./stats/prometheus.ts";
import { splitBatch } from "./sync/batch_split.ts";
import { decodeControlMessage, encodeControlMessage } from "./sync/control_message.ts";
import { DatagramFilter } from "./sync/datagram_filter.ts";
import { errorText } from "./error_text.ts";
import { isSyncDisabledRefusal, KernelRefusalError } from "./sync/kernel_errors.ts";
import { KernelLink } from "./sync/kernel_link.ts";
import { MulticastSocket, type PeerDatagram } from "./sync/multicast_socket.ts";
import { describePeer } from "./sync/peer_address.ts";
import { ResyncCoordinator } from "./sync/resync.ts";
import { dumpSessionTable } from "./sync/table_dump.ts";
import { instanceTunings } from "./sync/instance_tuning.ts";
import { VERSION } from "./version.ts";

/** What the daemon runs with. */
export interface DaemonConfig {
  netsocket: NetsocketConfig;
  modsocket: ModsocketConfig;
  /** UDP port of the stats server, or null for none. */
  statsPort: number | null;
  /** TCP port of the Prometheus endpoint, or null for none. */
  metricsPort: number | null;
  /** The local Jool module's version, if known (e.g. /sys/module/jool/version). */
  kernelVersion: number | null;
}

/** What the daemon runs on. */
export interface DaemonDeps {
  libc: Libc;
  sockets: Sockets;
  logger: Logger;
  counters: SyncCounters;
}

/** Datagrams read from a socket per wake-up before yielding. */
const MAX_DATAGRAMS_PER_WAKE = 256;

/** One log line per peer and problem per this interval. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** Local re-advertisements after overruns: at most one per this interval. */
const OVERRUN_ADVERTISE_INTERVAL_MS = 5_000;

/** Between two pages of a table dump: spreads a large table's datagrams out. */
const DUMP_PAGE_PAUSE_MS = 1;

/** A running session-sync daemon. Create with {@link Daemon.start}. */
export class Daemon {
  readonly #deps: DaemonDeps;
  readonly #reactor: Reactor;
  readonly #running: Promise<void>;
  readonly #peers = new PeerTable();
  readonly #ackLatency = new LatencyHistogram();
  readonly #relayLatency = new LatencyHistogram();
  readonly #dropLog = new RateLimiter(DROP_LOG_INTERVAL_MS);
  readonly #startedMs = Date.now();
  #lastSyncMs = 0;
  #lastOverrunAdvertiseMs = 0;
  /** The local Jool module's version: from /sys at start, else from its batches. */
  #kernelVersion: number | null = null;
  /** The table dump under way, if any: one serves every request, it goes to the group. */
  #dump: Promise<void> | null = null;
  #filter = new DatagramFilter(null);
  #kernel: KernelLink | null = null;
  #network: MulticastSocket | null = null;
  #control: MulticastSocket | null = null;
  #resync: ResyncCoordinator | null = null;
  #stats: StatsServer | null = null;
  #metrics: MetricsServer | null = null;
  /** The sender of the last peer datagram (MulticastSocket reuses it) and its name. */
  #lastPeer: IpSocketAddress | null | undefined = undefined;
  #lastOrigin = "";
  /** The globals we raised, with the values found at start: put back at exit. */
  readonly #raised: { type: number; name: string; found: number }[] = [];
  #dropReportTimer: ReturnType<typeof setInterval> | null = null;
  #stopped = false;

  private constructor(deps: DaemonDeps, reactor: Reactor) {
    this.#deps = deps;
    this.#reactor = reactor;
    this.#running = reactor.run();
  }

  /**
   * Opens every socket, checks the instance and turns session sync on if
   * allowed. Throws (after closing what it opened) on any setup failure:
   * JoolModuleMissingError, KernelRefusalError for a missing instance,
   * SyscallError for sockets.
   */
  static async start(config: DaemonConfig, deps: DaemonDeps): Promise<Daemon> {
    const reactor = Reactor.open(deps.libc, (fd, error) => {
      deps.logger.error(`Unexpected failure handling descriptor ${fd}: ${errorText(error)}`);
    });
    const daemon = new Daemon(deps, reactor);
    try {
      await daemon.#setUp(config);
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  async #setUp(config: DaemonConfig): Promise<void> {
    const { logger, sockets, counters } = this.#deps;
    this.#kernelVersion = config.kernelVersion;
    if (config.kernelVersion !== null) {
      this.#filter = new DatagramFilter(sessionEncodingFor(config.kernelVersion));
      logger.info(
        `Jool module ${formatVersion(config.kernelVersion)}: peers' sessions must be in the ` +
          `${this.#filter.encoding} encoding`,
      );
    }
    const kernel = await KernelLink.open(
      { sockets, reactor: this.#reactor, logger, counters, ackLatency: this.#ackLatency },
      config.modsocket.instance,
    );
    this.#kernel = kernel;
    await this.#ensureSyncEnabled(kernel, config.modsocket);
    await this.#tuneInstance(kernel, config);

    const network = MulticastSocket.open(sockets, config.netsocket);
    this.#network = network;
    this.#reactor.watch(network.fd, { readable: true }, () => this.#drainNetwork());
    this.#dropReportTimer = setInterval(() => this.#reportSuppressedDrops(), DROP_LOG_INTERVAL_MS);
    logger.info(
      `Network socket ready: group ${config.netsocket.address} port ${config.netsocket.port}`,
    );

    kernel.listen({
      onBatch: (payload, version, receivedAt) => this.#relayToNetwork(payload, version, receivedAt),
      onOverrun: () => this.#readvertiseAfterOverrun(),
    });

    const sources: StatsSources = {
      counters,
      peers: this.#peers,
      ackLatency: this.#ackLatency,
      relayLatency: this.#relayLatency,
      startedMs: this.#startedMs,
      lastSyncMs: () => this.#lastSyncMs,
      instance: config.modsocket.instance,
      version: VERSION,
    };
    if (config.statsPort !== null) {
      const stats = StatsServer.open(
        sockets,
        config.statsPort,
        (request) => statsAnswer(request, sources, Date.now()),
      );
      this.#stats = stats;
      this.#reactor.watch(stats.fd, { readable: true }, () => stats.serve());
      logger.info(`Stats server listening on UDP port ${config.statsPort} (IPv4 and IPv6)`);
    }
    if (config.metricsPort !== null) {
      this.#metrics = MetricsServer.open(
        sockets,
        this.#reactor,
        config.metricsPort,
        () => formatPrometheus(sources),
      );
      logger.info(
        `Prometheus metrics at http://[::]:${config.metricsPort}/metrics (TCP, IPv4 and IPv6)`,
      );
    }

    if (config.netsocket.controlPort !== null) {
      this.#startResync(kernel, config.netsocket, config.netsocket.controlPort);
    }
  }

  /**
   * Probes the instance (an empty JOOLD_ADD: the kernel checks the instance
   * and its SS state). A missing instance is fatal; SS off is turned on
   * unless the modsocket file says `"enable ss": false`.
   */
  async #ensureSyncEnabled(kernel: KernelLink, modsocket: ModsocketConfig): Promise<void> {
    const { logger } = this.#deps;
    const disabled = async (): Promise<KernelRefusalError | null> => {
      try {
        await kernel.probe();
        return null;
      } catch (error) {
        if (isSyncDisabledRefusal(error)) {
          return error;
        }
        throw error;
      }
    };
    const refusal = await disabled();
    if (refusal === null) {
      logger.info(`Session sync is enabled on instance '${modsocket.instance}'`);
      return;
    }
    if (!modsocket.enableSs) {
      // The instance exists; SS can be enabled later without restarting us.
      logger.error(
        `${refusal.message}; enable it with \`${ssEnableCommand(modsocket.instance)}\` ` +
          `(${modsocket.file} says "enable ss": false, so joold leaves it alone)`,
      );
      return;
    }
    await kernel.updateGlobal(
      { type: GlobalAttribute.JOOLD_ENABLED, value: true },
      "ss-enabled on the instance",
    );
    const stillDisabled = await disabled();
    if (stillDisabled !== null) throw stillDisabled;
    logger.info(
      `Session sync was disabled on instance '${modsocket.instance}'; joold enabled it ` +
        `(set "enable ss": false in ${modsocket.file} to prevent this)`,
    );
  }

  /**
   * Raises the globals that size the kernel's queue of sessions awaiting our
   * ACK (src/sync/instance_tuning.ts says which, on which Jool): raised
   * only, never lowered, and put back at exit (see {@link stop}). Failures
   * are logged, not fatal: sync works without them.
   */
  async #tuneInstance(kernel: KernelLink, config: DaemonConfig): Promise<void> {
    const { logger } = this.#deps;
    for (const tuning of instanceTunings(config.modsocket, config.kernelVersion)) {
      const { type, name, unit, wanted } = tuning;
      try {
        const found = await kernel.readGlobalU32(type);
        if (found === null) {
          logger.warning(`The kernel does not report ${name}; leaving it alone`);
          continue;
        }
        if (found >= wanted) {
          logger.info(`${name} is ${found} ${unit} already`);
          continue;
        }
        await kernel.updateGlobal({ type, value: wanted }, name);
        this.#raised.push({ type, name, found });
        logger.info(
          `Raised ${name} from ${found} to ${wanted} ${unit}, so that ${tuning.reason}; it goes ` +
            `back to ${found} at exit (set "${tuning.key}": false in ${config.modsocket.file} ` +
            "to prevent this)",
        );
      } catch (error) {
        logger.warning(`Cannot raise ${name} (sync works without it): ${errorText(error)}`);
      }
    }
  }

  #startResync(kernel: KernelLink, netsocket: NetsocketConfig, controlPort: number): void {
    const { logger, sockets, counters } = this.#deps;
    const control = MulticastSocket.open(sockets, { ...netsocket, port: controlPort });
    this.#control = control;
    const resync = new ResyncCoordinator(kernel.instance, {
      send: (message) => {
        try {
          control.send(encodeControlMessage(message));
        } catch (error) {
          logger.error(`Cannot send a resync message: ${errorText(error)}`);
        }
      },
      advertise: (reason) => this.#advertise(reason),
      logger,
      setTimer: (callback, ms) => setTimeout(callback, ms),
      clearTimer: (handle) => clearTimeout(handle),
      random: Math.random,
      nonce: () => crypto.getRandomValues(new BigUint64Array(1))[0],
    });
    this.#resync = resync;
    this.#reactor.watch(control.fd, { readable: true }, () => {
      for (let i = 0; i < MAX_DATAGRAMS_PER_WAKE; i++) {
        const datagram = control.receive();
        if (datagram === null) return;
        const message = decodeControlMessage(datagram.data);
        if (message === null) {
          counters.controlDropped++;
          continue;
        }
        resync.receive(message, describePeer(datagram.from));
      }
    });
    logger.info(`Resync control port ${controlPort} ready; asking peers for their sessions`);
    counters.resyncRequests++;
    resync.requestFromPeers();
  }

  /**
   * Sends our whole table to the peers; logs failures. Jool 4.1.11 and
   * later do it themselves on JOOLD_ADVERTISE; for older ones the daemon
   * reads the table and sends it as ordinary batches.
   */
  async #advertise(reason: string): Promise<void> {
    const { logger, counters } = this.#deps;
    const kernel = this.#kernel;
    if (kernel === null || this.#stopped) return;
    counters.advertisements++;
    if (reason.startsWith("resync")) counters.resyncAnswers++;
    const version = this.#kernelVersion;
    if (version !== null && !kernelAdvertises(version)) {
      if (this.#dump !== null) {
        logger.info(`Already sending the session table to the group; that serves ${reason} too`);
        return this.#dump;
      }
      this.#dump = this.#dumpTable(kernel, version, reason).finally(() => {
        this.#dump = null;
      });
      return this.#dump;
    }
    try {
      await kernel.advertise();
      logger.info(`Advertised the session table (${reason})`);
    } catch (error) {
      logger.error(`Cannot advertise the session table (${reason}): ${errorText(error)}`);
    }
  }

  async #dumpTable(kernel: KernelLink, version: number, reason: string): Promise<void> {
    const { logger, counters } = this.#deps;
    try {
      const result = await dumpSessionTable(
        {
          page: (protocol, after) => kernel.sessionPage(protocol, after),
          send: (datagram) => {
            const network = this.#network;
            return network !== null && !this.#stopped && this.#sendToNetwork(network, datagram);
          },
          pause: () => new Promise((resolve) => setTimeout(resolve, DUMP_PAGE_PAUSE_MS)),
        },
        sessionEncodingFor(version),
      );
      counters.advertisedSessions += result.sessions;
      counters.advertisedDatagrams += result.datagrams;
      if (result.datagrams > 0) this.#lastSyncMs = Date.now();
      const failed = result.failed === 0 ? "" : `; ${result.failed} datagrams could not be sent`;
      logger.info(
        `Advertised the session table (${reason}): ${result.sessions} sessions in ` +
          `${result.datagrams} datagrams, read from the table because Jool ` +
          `${formatVersion(version)} ignores JOOLD_ADVERTISE${failed}`,
      );
    } catch (error) {
      if (this.#stopped) return;
      logger.error(`Cannot advertise the session table (${reason}): ${errorText(error)}`);
    }
  }

  /** Batches our kernel dropped never reached the peers: send them everything. */
  #readvertiseAfterOverrun(): void {
    const now = Date.now();
    if (now - this.#lastOverrunAdvertiseMs < OVERRUN_ADVERTISE_INTERVAL_MS) return;
    this.#lastOverrunAdvertiseMs = now;
    this.#advertise("netlink overrun lost batches").catch(() => {});
  }

  #relayToNetwork(payload: Uint8Array, kernelVersion: number, receivedAt: number): void {
    const { logger } = this.#deps;
    const network = this.#network;
    if (network === null) return;
    if (this.#filter.encoding === null) {
      this.#kernelVersion ??= kernelVersion;
      this.#filter.learn(sessionEncodingFor(kernelVersion));
      logger.info(`Peers' sessions must be in the ${this.#filter.encoding} encoding`);
    }
    // With a raised ss-max-payload, peers get datagrams of whole sessions
    // that fit the MTU; an ordinary batch is one part, as it came.
    let sent = false;
    for (const part of splitBatch(payload)) sent = this.#sendToNetwork(network, part) || sent;
    if (sent) {
      this.#relayLatency.recordMs(performance.now() - receivedAt);
      this.#lastSyncMs = Date.now();
    }
  }

  /** Sends one datagram to the group; false (logged and counted) if it could not. */
  #sendToNetwork(network: MulticastSocket, datagram: Uint8Array): boolean {
    const { counters, logger } = this.#deps;
    try {
      if (network.send(datagram)) {
        counters.netSentPackets++;
        counters.netSentBytes += datagram.byteLength;
        return true;
      }
      counters.netSendFailures++;
      logger.error(
        `Dropped ${datagram.byteLength} bytes of sessions: the multicast socket's send buffer is full`,
      );
    } catch (error) {
      counters.netSendFailures++;
      if (!(error instanceof SyscallError)) throw error;
      logger.error(
        `Cannot send ${datagram.byteLength} bytes of sessions to the group: ${error.message}`,
      );
    }
    return false;
  }

  #drainNetwork(): void {
    const network = this.#network;
    const kernel = this.#kernel;
    if (network === null || kernel === null) return;
    const { counters, logger } = this.#deps;
    // One clock reading per wake-up: under an emulated CPU a reading costs
    // as much as checking a datagram.
    const now = Date.now();
    for (let i = 0; i < MAX_DATAGRAMS_PER_WAKE; i++) {
      let datagram: PeerDatagram | null;
      try {
        datagram = network.receive();
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        logger.error(`Error receiving from the network: ${error.message}`);
        return;
      }
      if (datagram === null) return;
      counters.netReceivedPackets++;
      counters.netReceivedBytes += datagram.fullLength;
      if (datagram.from !== this.#lastPeer) {
        this.#lastPeer = datagram.from;
        this.#lastOrigin = describePeer(datagram.from);
      }
      const origin = this.#lastOrigin;
      const peer = this.#peers.get(origin);
      peer.datagrams++;
      peer.bytes += datagram.fullLength;
      peer.lastSeenMs = now;
      const problem = datagram.fullLength > datagram.data.byteLength
        ? `too large (${datagram.fullLength} bytes)`
        : this.#filter.check(datagram.data);
      if (problem !== null) {
        counters.netDropped++;
        peer.dropped++;
        const suppressed = this.#dropLog.allow(origin, now);
        if (suppressed !== null) {
          logger.warning(
            `Dropped a datagram from ${origin}: ${problem}` +
              (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : ""),
          );
        }
        continue;
      }
      try {
        kernel.add(datagram.data, origin);
        this.#lastSyncMs = now;
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        counters.kernelErrors++;
        logger.error(`Cannot hand sessions from ${origin} to the kernel: ${error.message}`);
      }
    }
  }

  /**
   * The drops that the rate limit kept out of the log, per peer, once its
   * interval is over (or all of them, at exit).
   */
  #reportSuppressedDrops(atExit = false): void {
    for (const [origin, count] of this.#dropLog.takeSuppressed(Date.now(), atExit)) {
      this.#deps.logger.warning(
        `Dropped ${count} more datagram${count === 1 ? "" : "s"} from ${origin} ` +
          (atExit ? "since the last report" : `in the last ${DROP_LOG_INTERVAL_MS / 1000} s`) +
          " (per-peer counts: the JSON stats)",
      );
    }
  }

  /** Resolves when the daemon has stopped. */
  get done(): Promise<void> {
    return this.#running;
  }

  /** Stops the loop and closes every socket. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#running;
    this.#stopped = true;
    this.#resync?.close();
    if (this.#dropReportTimer !== null) clearInterval(this.#dropReportTimer);
    this.#reportSuppressedDrops(true);
    this.#restoreTunedGlobals();
    this.#reactor.stop();
    try {
      await this.#running;
    } finally {
      this.#closeAll();
    }
  }

  /** Puts back the globals found at start, where we raised them. */
  #restoreTunedGlobals(): void {
    const kernel = this.#kernel;
    if (kernel === null) return;
    for (const { type, name, found } of this.#raised.splice(0)) {
      try {
        kernel.setGlobalNow({ type, value: found });
        this.#deps.logger.info(`Put ${name} back to ${found}`);
      } catch (error) {
        this.#deps.logger.warning(`Cannot put ${name} back to ${found}: ${errorText(error)}`);
      }
    }
  }

  #closeAll(): void {
    const closables = [this.#metrics, this.#stats, this.#control, this.#network, this.#kernel];
    for (const closable of closables) {
      try {
        closable?.close();
      } catch (error) {
        this.#deps.logger.warning(`Error while closing: ${errorText(error)}`);
      }
    }
    this.#reactor.close();
  }
}
