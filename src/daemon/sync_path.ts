/**
 * The sync path, wired: over one kernel link and one peer channel, the
 * relay each way and the advertiser, the kernel's batches and overruns
 * going to them. It is what the daemon runs minus sockets and reactor, so
 * tests drive it whole with a fake kernel and an in-memory channel.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
import { Advertiser } from "./advertiser.ts";
import type { Clock } from "./clock.ts";
import type { DropReporter } from "./drop_report.ts";
import type { FlushNudge } from "./flush_nudge.ts";
import { KernelToNetwork } from "./kernel_to_network.ts";
import type { LocalJool } from "./local_jool.ts";
import type { SyncMeasures } from "./measures.ts";
import { NetworkToKernel } from "./network_to_kernel.ts";
import { GroupSender, type PeerChannel } from "./peer_channel.ts";

/** What the sync path runs on. */
export interface SyncPathDeps {
  kernel: Pick<KernelLink, "listen" | "add" | "advertise" | "sessionPage">;
  /** The group. */
  channel: PeerChannel;
  jool: LocalJool;
  drops: DropReporter;
  measures: SyncMeasures;
  counters: SyncCounters;
  logger: Logger;
  clock: Clock;
  /** Bytes the channel adds to each datagram (see KernelToNetworkDeps). */
  datagramOverhead?: number;
  /** Told of every batch and overrun, where the daemon nudges the kernel's queue. */
  flushNudge?: Pick<FlushNudge, "batchArrived"> | null;
}

/** The parts of a wired sync path. */
export interface SyncPath {
  /** Drain it when the channel is readable. */
  toKernel: NetworkToKernel;
  /** Already listening to the kernel link. */
  toNetwork: KernelToNetwork;
  /** Already told of overruns; resync answers go to it too. */
  advertiser: Advertiser;
  /** Every datagram of sessions to the group goes through it. */
  sender: GroupSender;
  /** Told each kernel batch's size in bytes once it is relayed; null: nobody. */
  onKernelBatch: ((payloadBytes: number) => void) | null;
}

/** Builds the relays and the advertiser and makes the kernel link deliver to them. */
export function wireSyncPath(deps: SyncPathDeps): SyncPath {
  const sender = new GroupSender(deps.channel, deps.counters, deps.logger, deps.clock.now);
  const toKernel = new NetworkToKernel({ ...deps, filter: deps.jool.filter });
  const toNetwork = new KernelToNetwork({ ...deps, sender });
  const advertiser = new Advertiser({ ...deps, sender });
  // Sessions lost to failed sends were ACKed already: only the table has them.
  sender.onRecovered = (failed) => advertiser.offer(`${failed} datagrams could not be sent`);
  const nudge = deps.flushNudge ?? null;
  const path: SyncPath = { toKernel, toNetwork, advertiser, sender, onKernelBatch: null };
  deps.kernel.listen({
    onBatch: (payload, version, receivedAt) => {
      nudge?.batchArrived();
      toNetwork.relay(payload, version, receivedAt);
      path.onKernelBatch?.(payload.byteLength);
    },
    onOverrun: () => {
      nudge?.batchArrived();
      advertiser.afterOverrun();
    },
  });
  return path;
}
