/**
 * What the daemon measures besides its counters, for the stats port and
 * the Prometheus endpoint: traffic per peer, latencies, and when sessions
 * last moved.
 *
 * @module
 */

import { LatencyHistogram } from "../stats/latency.ts";
import { PeerTable } from "../stats/peers.ts";
import type { DeliveryStates } from "../stats/delivery_states.ts";

/** The measures one daemon keeps. */
export class SyncMeasures {
  /** Datagrams, bytes and drops per peer. */
  readonly peers = new PeerTable();
  /** Kernel batch received to ACK sent. */
  readonly ackLatency = new LatencyHistogram();
  /** Kernel batch received to sent to the group. */
  readonly relayLatency = new LatencyHistogram();
  /** Milliseconds since the epoch the daemon started. */
  readonly startedMs: number;
  /** Milliseconds since the epoch of the last session batch relayed or added, 0 if none. */
  lastSyncMs = 0;
  /** Lossless delivery's per-peer states, once it runs; null: it does not. */
  deliveryStates: DeliveryStates | null = null;

  constructor(startedMs: number) {
    this.startedMs = startedMs;
  }
}
