/**
 * The daemon: opens the kernel link, the multicast sockets and the stats
 * endpoints on one reactor and wires the parts in src/daemon/ to them (the
 * instance setup, the sync path, the resync exchange, the drop reports),
 * each tested on its own without sockets.
 *
 * @module
 */

import { Reactor } from "../ffi/reactor.ts";
import { errorText } from "./error_text.ts";
import { KernelLink } from "./sync/kernel_link.ts";
import { MulticastSocket } from "./sync/multicast_socket.ts";
import type { Advertiser } from "./daemon/advertiser.ts";
import { type KernelToNetwork, sealedDatagramBytes } from "./daemon/kernel_to_network.ts";
import { type Clock, systemClock, type TimerHandle } from "./daemon/clock.ts";
import { DropReporter } from "./daemon/drop_report.ts";
import { InstanceSetup } from "./daemon/instance_setup.ts";
import { FlushNudge } from "./daemon/flush_nudge.ts";
import { flushNudgeDelayMs } from "./sync/instance_tuning.ts";
import { DEFAULT_STATE_DIRECTORY, TuningStateFile } from "./daemon/tuning_state.ts";
import { readSystemLink } from "../ffi/system_files.ts";
import { monotonicMicroseconds } from "../ffi/process.ts";
import { type PeersHeard, statusFileName, SyncState } from "./daemon/sync_state.ts";
import { StatusPublisher } from "./daemon/status_publisher.ts";
import { knownGapCount } from "./stats/delivery_states.ts";
import { OTHER_PEERS } from "./stats/peers.ts";
import { LocalJool } from "./daemon/local_jool.ts";
import { SyncMeasures } from "./daemon/measures.ts";
import { ResyncChannel } from "./daemon/resync_channel.ts";
import { type ReliableDelivery, wireReliableDelivery } from "./daemon/reliable_delivery.ts";
import { reliableDeliveryOn } from "./config/netsocket.ts";
import { describeHost } from "./sync/peer_address.ts";
import { PeerSockets, type Sealing } from "./daemon/peer_sockets.ts";
import { systemEnvironment } from "./config/environment.ts";
import { type KeyRing, SEALED_OVERHEAD, warmUpSealing } from "./auth/sealed_datagram.ts";
import { loadChaCha20Poly1305 } from "./auth/chacha20_poly1305.ts";
import { type Closable, openStatsEndpoints } from "./daemon/stats_endpoints.ts";
import { wireSyncPath } from "./daemon/sync_path.ts";
import { warmUpRelayPath, warmUpShortfall } from "./daemon/warm_up.ts";
import { KernelWatchdog } from "./daemon/kernel_watchdog.ts";
import { type KernelDropWatch, startOwnOffers } from "./daemon/kernel_drop_watch.ts";
import { type ConvergenceCheck, startConvergenceCheck } from "./daemon/convergence_check.ts";
import { openSyncInterfaceWatch } from "./daemon/sync_interface.ts";
import type { DaemonConfig, DaemonDeps } from "./daemon/daemon_config.ts";
import type { Logger } from "./log.ts";

export type { DaemonConfig, DaemonDeps };

/**
 * Reads the instance's pool6 for conversions from raw36 (peers on Jool
 * 4.1.13+ when the local kernel is older); a failure only disables those.
 */
async function readPool6(kernel: KernelLink, jool: LocalJool, logger: Logger): Promise<void> {
  try {
    jool.pool6 = await kernel.readPool6();
  } catch (error) {
    logger.warning(`Cannot read the instance's pool6: ${errorText(error)}`);
  }
}

/** How often a resync's table is looked at, while it comes, to tell when it is in. */
const SETTLE_CHECK_MS = 250;

/** A running session-sync daemon. Create with {@link Daemon.start}. */
export class Daemon {
  readonly #deps: DaemonDeps;
  readonly #clock: Clock = systemClock;
  readonly #reactor: Reactor;
  readonly #running: Promise<void>;
  readonly #measures: SyncMeasures;
  readonly #drops: DropReporter;
  readonly #syncState: SyncState;
  #status: StatusPublisher | null = null;
  #settleTimer: TimerHandle | null = null;
  /** The sockets and servers, in the order they were opened: closed in reverse. */
  readonly #opened: Closable[] = [];
  #setup: InstanceSetup | null = null;
  #advertiser: Advertiser | null = null;
  #toNetwork: KernelToNetwork | null = null;
  #resync: ResyncChannel | null = null;
  #delivery: ReliableDelivery | null = null;
  #watchdog: KernelWatchdog | null = null;
  #dropWatch: KernelDropWatch | null = null;
  #convergence: ConvergenceCheck | null = null;
  #flushNudge: FlushNudge | null = null;
  #peerSockets: PeerSockets | null = null;
  #failure: string | null = null;
  #stopped = false;

  private constructor(deps: DaemonDeps, reactor: Reactor) {
    this.#deps = deps;
    this.#reactor = reactor;
    this.#measures = new SyncMeasures(this.#clock.now());
    this.#drops = new DropReporter(deps.logger, this.#clock);
    this.#syncState = new SyncState(this.#clock.now());
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
    deps.notifier?.ready(daemon.#status?.describe());
    return daemon;
  }

  async #setUp(config: DaemonConfig): Promise<void> {
    const { logger, sockets, counters } = this.#deps;
    const { netsocket, modsocket: { instance }, kernelVersion } = config;
    const reactor = this.#reactor;
    // Compile the relay's code now, not on the first sessions (BENCHMARKS.md, exposure window).
    const warmUpStart = this.#clock.monotonic();
    const datagramOverhead = config.keys ? SEALED_OVERHEAD : 0;
    const common = { counters, logger, clock: this.#clock, measures: this.#measures };
    const shortfall = warmUpShortfall(
      warmUpRelayPath(kernelVersion, instance, common, datagramOverhead),
    );
    if (shortfall !== null) logger.warning(`The relay path's warm-up fell short: ${shortfall}`);
    logger.debug(
      `Relay path warmed up in ${(this.#clock.monotonic() - warmUpStart).toFixed(1)} ms`,
    );
    let sealing: Sealing | null = null;
    if (config.keys) {
      const sealStart = this.#clock.monotonic();
      // Deno's Node layer comes with the AEAD: only a daemon with keys loads it.
      const aead = await loadChaCha20Poly1305();
      if (!warmUpSealing(aead, sealedDatagramBytes(SEALED_OVERHEAD))) {
        throw new Error("Cannot seal datagrams: a sealed test datagram did not open again");
      }
      sealing = { keys: config.keys, aead };
      logger.debug(
        `Sealing loaded and warmed up in ${(this.#clock.monotonic() - sealStart).toFixed(1)} ms`,
      );
    }
    const directory = this.#stateDirectory(config);
    const netns = directory === null ? null : this.#networkNamespace();
    const status = new StatusPublisher({
      state: this.#syncState,
      path: directory === null ? null : `${directory}/${statusFileName(instance, netns)}`,
      identity: { pid: Deno.pid, instance },
      peers: () => this.#peersHeard(),
      knownGaps: () => knownGapCount(this.#measures.deliveryStates?.() ?? new Map()),
      monotonicMs: () => Number(monotonicMicroseconds(this.#deps.libc)) / 1000,
      notifier: this.#deps.notifier ?? null,
      clock: this.#clock,
      logger,
      counters,
    });
    this.#status = status;
    status.start();
    const jool = new LocalJool(kernelVersion, logger);
    const link = { ...common, sockets, reactor, ackLatency: this.#measures.ackLatency };
    const receiveBuffer = config.modsocket.netlinkReceiveBuffer;
    const kernel = await KernelLink.open(link, instance, { receiveBuffer });
    this.#opened.push(kernel);
    const stateFile = directory === null
      ? null
      : new TuningStateFile(directory, config.modsocket.instance, netns);
    this.#setup = new InstanceSetup(kernel, config.modsocket, logger, stateFile);
    await this.#setup.enableSync();
    await this.#setup.tune(kernelVersion);
    await readPool6(kernel, jool, logger);
    const enableSync = () => this.#setup!.enableSync();
    const fatal = (reason: string) => this.#fail(reason);
    this.#watchdog = new KernelWatchdog({ kernel, clock: this.#clock, logger, enableSync, fatal });
    this.#watchdog.start();

    const drops = this.#drops;
    const peerSockets = new PeerSockets(netsocket, sealing, {
      ...common,
      sockets,
      drops,
      network: systemEnvironment(this.#deps.libc),
    });
    this.#peerSockets = peerSockets;
    this.#opened.push(peerSockets);
    const opened = peerSockets.openSync();
    this.#opened.push(opened.socket);
    const network = opened.socket;
    const nudgeDelayMs = flushNudgeDelayMs(config.modsocket, kernelVersion);
    if (nudgeDelayMs !== null) {
      const nudge = () => kernel.nudge();
      this.#flushNudge = new FlushNudge({ clock: this.#clock, nudge, delayMs: nudgeDelayMs });
    }
    const sync = wireSyncPath({
      ...common,
      kernel,
      channel: opened.channel,
      jool,
      drops,
      datagramOverhead,
      flushNudge: this.#flushNudge,
    });
    this.#advertiser = sync.advertiser;
    this.#toNetwork = sync.toNetwork;
    reactor.watch(network.fd, { readable: true }, () => sync.toKernel.drain());
    this.#drops.start();
    logger.info(`Network socket ready: ${opened.description}`);
    openStatsEndpoints({ ...config, instance }, { ...common, sockets, reactor }, this.#opened);

    const groupSockets = network instanceof MulticastSocket ? [network] : [];
    const interfaceWatch = openSyncInterfaceWatch({
      ...common,
      libc: this.#deps.libc,
      sockets,
      reactor,
      options: netsocket,
      groupSockets,
      // While deaf we missed the peers' sessions: ask for them again.
      onBack: () => this.#resync?.requestFromPeers("the sync interface is back"),
    });
    if (interfaceWatch !== null) this.#opened.push(interfaceWatch);

    if (netsocket.controlPort === null) {
      this.#syncState.noResync("no control port: this node does not resync", this.#clock.now());
      status.publish();
      return;
    }
    const controlOpened = peerSockets.openControl(netsocket.controlPort);
    const control = controlOpened.socket;
    this.#opened.push(control);
    if (control instanceof MulticastSocket) groupSockets.push(control);
    const delivery = reliableDeliveryOn(netsocket)
      ? wireReliableDelivery(sync, {
        ...common,
        control: controlOpened.channel,
        instance,
        advertise: (reason) => sync.advertiser.advertise(reason),
        knownHosts: netsocket.unicastPeers?.map((peer) => describeHost(peer.address)),
      })
      : null;
    this.#delivery = delivery;
    const convergence = startConvergenceCheck(sync, {
      ...common,
      kernel,
      jool,
      control: controlOpened.channel,
      instance,
      datagramOverhead,
    }, delivery !== null);
    this.#convergence = convergence;
    this.#measures.deliveryStates = delivery === null ? null : () => delivery.states();
    const advertise = (reason: string) => sync.advertiser.advertise(reason);
    const resync = new ResyncChannel({
      ...common,
      control: controlOpened.channel,
      instance,
      advertise,
      settled: (outcome) => {
        this.#syncState.resyncOutcome(outcome, this.#clock.now());
        if (this.#syncState.settling) this.#watchSettling(status);
        status.publish();
      },
      other: delivery === null
        ? undefined
        : (datagram) => delivery.receive(datagram) || (convergence?.receive(datagram) ?? false),
    });
    if (delivery !== null) logger.info(`Reliable delivery on, epoch ${delivery.epoch}`);
    this.#resync = resync;
    sync.toKernel.onSessions = (origin) => resync.sessionsFrom(origin);
    reactor.watch(control.fd, { readable: true }, () => resync.drain());
    this.#syncState.resyncing("asking peers for their sessions", this.#clock.now());
    resync.requestFromPeers(`control port ${netsocket.controlPort} ready`);
    // What the kernel made while no daemon relayed it, or dropped, reached no peer.
    this.#dropWatch = startOwnOffers(sync, { ...common, kernel, jool }, delivery !== null);
    status.publish();
  }

  /** Until the answerer's table is in (src/daemon/sync_state.ts), looks every {@link SETTLE_CHECK_MS}. */
  #watchSettling(status: StatusPublisher): void {
    if (this.#settleTimer !== null) return;
    this.#settleTimer = this.#clock.repeat(() => {
      if (!this.#syncState.settle(this.#peersHeard(), this.#clock.now())) return;
      this.#clock.clearTimer(this.#settleTimer!);
      this.#settleTimer = null;
      status.publish();
    }, SETTLE_CHECK_MS);
  }

  /** Peers heard on the sync port, with when each was last heard. */
  #peersHeard(): PeersHeard {
    const heard = new Map<string, number>();
    for (const [peer, counters] of Object.entries(this.#measures.peers.snapshot())) {
      if (peer !== OTHER_PEERS) heard.set(peer, counters.lastSeenMs);
    }
    return heard;
  }

  /**
   * Seals and opens with `keys` from now on (SIGHUP after a key rotation
   * step); false if the daemon runs without "auth key file".
   */
  reloadKeys(keys: KeyRing): boolean {
    return this.#peerSockets?.reloadKeys(keys) ?? false;
  }

  /** Where the state and status files of this daemon go, or null for nowhere. */
  #stateDirectory(config: DaemonConfig): string | null {
    return config.stateDirectory === undefined ? DEFAULT_STATE_DIRECTORY : config.stateDirectory;
  }

  /** The network namespace, which names the files in the state directory; null if unknown. */
  #networkNamespace(): string | null {
    try {
      return readSystemLink(this.#deps.libc, "/proc/self/ns/net");
    } catch (error) {
      this.#deps.logger.warning(`Cannot tell the network namespace: ${errorText(error)}`);
      return null;
    }
  }

  /** Resolves when the daemon has stopped. */
  get done(): Promise<void> {
    return this.#running;
  }

  /** Why the daemon stopped by itself (the kernel side went away), or null. */
  get failure(): string | null {
    return this.#failure;
  }

  /** Stops the daemon because the kernel side went away; see {@link failure}. */
  #fail(reason: string): void {
    this.#failure ??= reason;
    this.stop().catch((error) => this.#deps.logger.error(`Cannot stop: ${errorText(error)}`));
  }

  /** Stops the loop and closes every socket. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#running;
    this.#stopped = true;
    this.#deps.notifier?.stopping();
    if (this.#settleTimer !== null) this.#clock.clearTimer(this.#settleTimer);
    this.#status?.stop();
    this.#watchdog?.stop();
    this.#dropWatch?.stop();
    this.#convergence?.stop();
    this.#flushNudge?.stop();
    this.#advertiser?.close();
    this.#resync?.close();
    this.#delivery?.close();
    this.#drops.stop();
    this.#setup?.restore();
    // Sessions gathered for a sealed datagram were ACKed: send them.
    this.#toNetwork?.flush();
    this.#reactor.stop();
    try {
      await this.#running;
    } finally {
      for (const closable of this.#opened.splice(0).reverse()) {
        try {
          closable.close();
        } catch (error) {
          this.#deps.logger.warning(`Error while closing: ${errorText(error)}`);
        }
      }
      this.#reactor.close();
    }
  }
}
