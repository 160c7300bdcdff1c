/**
 * The daemon: wires the kernel link, the multicast socket and the stats
 * server to one reactor, and relays sessions both ways.
 *
 * @module
 */

import type { Libc } from "../ffi/libc.ts";
import { Reactor } from "../ffi/reactor.ts";
import { SyscallError } from "../ffi/errors.ts";
import type { Sockets } from "../ffi/sockets.ts";
import type { ModsocketConfig } from "./config/modsocket.ts";
import type { NetsocketConfig } from "./config/netsocket.ts";
import type { Logger } from "./log.ts";
import { formatReferenceStats, type SyncCounters } from "./stats/counters.ts";
import { StatsServer } from "./stats/stats_server.ts";
import { errorText, KernelLink, KernelRefusalError } from "./sync/kernel_link.ts";
import { MulticastSocket, type PeerDatagram } from "./sync/multicast_socket.ts";
import { describePeer } from "./sync/peer_address.ts";

/** What the daemon runs with. */
export interface DaemonConfig {
  netsocket: NetsocketConfig;
  modsocket: ModsocketConfig;
  /** UDP port of the stats server, or null for none. */
  statsPort: number | null;
}

/** What the daemon runs on. */
export interface DaemonDeps {
  libc: Libc;
  sockets: Sockets;
  logger: Logger;
  counters: SyncCounters;
}

/** Datagrams read from the group per wake-up before yielding. */
const MAX_DATAGRAMS_PER_WAKE = 256;

/** The "Session sync is disabled" refusal is EINVAL with this text (Jool 4.1). */
const SS_DISABLED_HINT = "enable it with `jool global update ss-enabled true`";

/** A running session-sync daemon. Create with {@link Daemon.start}. */
export class Daemon {
  readonly #deps: DaemonDeps;
  readonly #reactor: Reactor;
  readonly #running: Promise<void>;
  #kernel: KernelLink | null = null;
  #network: MulticastSocket | null = null;
  #stats: StatsServer | null = null;
  #stopped = false;

  private constructor(deps: DaemonDeps, reactor: Reactor) {
    this.#deps = deps;
    this.#reactor = reactor;
    this.#running = reactor.run();
  }

  /**
   * Opens every socket and checks the instance. Throws (after closing what
   * it opened) on any setup failure: JoolModuleMissingError,
   * KernelRefusalError for a missing instance, SyscallError for sockets.
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
    const kernel = await KernelLink.open(
      { sockets, reactor: this.#reactor, logger, counters },
      config.modsocket.instance,
    );
    this.#kernel = kernel;
    try {
      await kernel.probe();
    } catch (error) {
      if (!(error instanceof KernelRefusalError)) throw error;
      if (!/disabled/i.test(error.kernelMessage)) throw error;
      // The instance exists; SS can be enabled later without restarting us.
      logger.error(`${error.message}; ${SS_DISABLED_HINT}`);
    }

    const network = MulticastSocket.open(sockets, config.netsocket);
    this.#network = network;
    this.#reactor.watch(network.fd, { readable: true }, () => this.#drainNetwork());
    logger.info(
      `Network socket ready: group ${config.netsocket.address} port ${config.netsocket.port}`,
    );

    kernel.listen({
      onBatch: (payload) => this.#relayToNetwork(payload),
      onOverrun: () => {},
    });

    if (config.statsPort !== null) {
      const stats = StatsServer.open(
        sockets,
        config.statsPort,
        () => new TextEncoder().encode(formatReferenceStats(counters)),
      );
      this.#stats = stats;
      this.#reactor.watch(stats.fd, { readable: true }, () => stats.serve());
      logger.info(`Stats server listening on UDP port ${config.statsPort} (IPv4 and IPv6)`);
    }
  }

  #relayToNetwork(payload: Uint8Array): void {
    const { counters, logger } = this.#deps;
    const network = this.#network;
    if (network === null) return;
    try {
      if (network.send(payload)) {
        counters.netSentPackets++;
        counters.netSentBytes += payload.byteLength;
      } else {
        counters.netSendFailures++;
        logger.error(
          `Dropped a ${payload.byteLength}-byte batch: the multicast socket's send buffer is full`,
        );
      }
    } catch (error) {
      counters.netSendFailures++;
      if (!(error instanceof SyscallError)) throw error;
      logger.error(`Cannot send a ${payload.byteLength}-byte batch to the group: ${error.message}`);
    }
  }

  #drainNetwork(): void {
    const network = this.#network;
    const kernel = this.#kernel;
    if (network === null || kernel === null) return;
    const { counters, logger } = this.#deps;
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
      const origin = describePeer(datagram.from);
      if (datagram.fullLength > datagram.data.byteLength) {
        counters.netDropped++;
        logger.error(`Dropped a ${datagram.fullLength}-byte datagram from ${origin}: too large`);
        continue;
      }
      try {
        kernel.add(datagram.data, origin);
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        counters.kernelErrors++;
        logger.error(`Cannot hand sessions from ${origin} to the kernel: ${error.message}`);
      }
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
    this.#reactor.stop();
    try {
      await this.#running;
    } finally {
      this.#closeAll();
    }
  }

  #closeAll(): void {
    const closers: Array<() => void> = [];
    if (this.#stats !== null) {
      const stats = this.#stats;
      closers.push(() => stats.close());
    }
    if (this.#network !== null) {
      const network = this.#network;
      closers.push(() => network.close());
    }
    if (this.#kernel !== null) {
      const kernel = this.#kernel;
      closers.push(() => kernel.close());
    }
    for (const close of closers) {
      try {
        close();
      } catch (error) {
        this.#deps.logger.warning(`Error while closing: ${errorText(error)}`);
      }
    }
    this.#reactor.close();
  }
}
