/**
 * Per-peer traffic, for the JSON stats. Bounded: a flood of spoofed
 * sources cannot grow it past {@link MAX_PEERS}.
 *
 * @module
 */

/** Peers tracked by name; the rest are summed under {@link OTHER_PEERS}. */
export const MAX_PEERS = 256;
/** The key that sums peers beyond {@link MAX_PEERS}. */
export const OTHER_PEERS = "other";

/** What one peer sent. */
export interface PeerCounters {
  datagrams: number;
  bytes: number;
  /** Datagrams dropped before the kernel (invalid, too large). */
  dropped: number;
  /** Milliseconds since the epoch of its last datagram. */
  lastSeenMs: number;
}

/** Counters per peer (`address:port`). */
export class PeerTable {
  readonly #peers = new Map<string, PeerCounters>();

  /** The counters of `peer`, created on first sight. */
  get(peer: string): PeerCounters {
    let counters = this.#peers.get(peer);
    if (counters === undefined) {
      const key = this.#peers.size < MAX_PEERS ? peer : OTHER_PEERS;
      counters = this.#peers.get(key);
      if (counters === undefined) {
        counters = { datagrams: 0, bytes: 0, dropped: 0, lastSeenMs: 0 };
        this.#peers.set(key, counters);
      }
    }
    return counters;
  }

  /** A copy of every peer's counters. */
  snapshot(): Record<string, PeerCounters> {
    return Object.fromEntries([...this.#peers].map(([peer, counters]) => [peer, { ...counters }]));
  }
}
