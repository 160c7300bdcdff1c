/**
 * The relay from the kernel to the peers: each batch of our instance's
 * sessions (already ACKed by the kernel link) goes to the group, split
 * into datagrams of whole sessions if the kernel made it larger than the
 * peers read (a raised ss-max-payload).
 *
 * @module
 */

import { SPLIT_DATAGRAM_BYTES, splitBatch } from "../sync/batch_split.ts";
import type { Clock } from "./clock.ts";
import type { LocalJool } from "./local_jool.ts";
import type { SyncMeasures } from "./measures.ts";
import type { GroupSender } from "./peer_channel.ts";

/** What the relay works with. */
export interface KernelToNetworkDeps {
  /** The group. */
  sender: GroupSender;
  /** Learns the module's version from the first batch if it was not known. */
  jool: LocalJool;
  /** Relay latency and the time of the last sync. */
  measures: SyncMeasures;
  clock: Clock;
  /**
   * Bytes the channel adds to each datagram (sealing: "auth key file");
   * default 0. When set, every batch that would not fit a 1500-byte MTU
   * once sealed is split, not only the large ones: only our daemons read
   * sealed datagrams, and they read any size.
   */
  datagramOverhead?: number;
}

/** Sends the kernel's batches to the peers. */
export class KernelToNetwork {
  readonly #deps: KernelToNetworkDeps;

  constructor(deps: KernelToNetworkDeps) {
    this.#deps = deps;
  }

  /**
   * Relays one batch (see `KernelLinkHandlers.onBatch`): its payload, the
   * kernel's version, and `performance.now()` when it came in.
   */
  relay(payload: Uint8Array, kernelVersion: number, receivedAt: number): void {
    const { sender, jool, measures, clock } = this.#deps;
    jool.learnFromBatch(kernelVersion);
    // With a raised ss-max-payload, peers get datagrams of whole sessions
    // that fit the MTU; an ordinary batch is one part, as it came.
    let sent = false;
    const overhead = this.#deps.datagramOverhead ?? 0;
    const parts = overhead === 0
      ? splitBatch(payload)
      : splitBatch(payload, SPLIT_DATAGRAM_BYTES - overhead, SPLIT_DATAGRAM_BYTES - overhead);
    for (const part of parts) sent = sender.send(part) || sent;
    if (sent) {
      measures.relayLatency.recordMs(clock.monotonic() - receivedAt);
      measures.lastSyncMs = clock.now();
    }
  }
}
