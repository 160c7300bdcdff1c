/**
 * Per-peer traffic, for the JSON stats. Bounded: a flood of spoofed
 * sources cannot grow it past {@link MAX_PEERS}, nor keep the real peers
 * out of it. A peer gets its own entry with its first valid datagram
 * ({@link PeerTable.get}); what others send is counted under
 * {@link OTHER_PEERS} ({@link PeerTable.find}). When the table is full, a new
 * peer takes the place of the one seen least recently, whose counts move
 * to {@link OTHER_PEERS}.
 *
 * @module
 */

/** Peers tracked by name; the rest are summed under {@link OTHER_PEERS}. */
export const MAX_PEERS = 256;
/** The key that sums senders without an entry of their own. */
export const OTHER_PEERS = "other";

/** What one peer sent. */
export interface PeerCounters {
  datagrams: number;
  bytes: number;
  /** Datagrams dropped before the kernel (invalid, too large). */
  dropped: number;
  /** Milliseconds since the epoch of its last datagram. */
  lastSeenMs: number;
  /**
   * Datagrams in another Jool 4.1 session encoding than the local kernel's,
   * converted before the kernel, by their encoding (e.g. `nested-4.1.0`).
   */
  converted: Record<string, number>;
}

function zero(): PeerCounters {
  return { datagrams: 0, bytes: 0, dropped: 0, lastSeenMs: 0, converted: {} };
}

function copy(counters: PeerCounters): PeerCounters {
  return { ...counters, converted: { ...counters.converted } };
}

/** Counters per peer (`address:port`). */
export class PeerTable {
  readonly #peers = new Map<string, PeerCounters>();
  #other: PeerCounters | null = null;

  /** The counters of `peer`, which gets an entry of its own if it has none. */
  get(peer: string): PeerCounters {
    let counters = this.#peers.get(peer);
    if (counters === undefined) {
      if (this.#peers.size >= MAX_PEERS) this.#evictLeastRecent();
      counters = zero();
      this.#peers.set(peer, counters);
    }
    return counters;
  }

  /** The counters of `peer` if it has an entry, else those of {@link OTHER_PEERS}. */
  find(peer: string): PeerCounters {
    return this.#peers.get(peer) ?? this.#others();
  }

  #others(): PeerCounters {
    return this.#other ??= zero();
  }

  /** Moves the peer seen least recently (the first of equals) into {@link OTHER_PEERS}. */
  #evictLeastRecent(): void {
    let oldest: string | null = null;
    let oldestMs = Infinity;
    for (const [peer, counters] of this.#peers) {
      if (counters.lastSeenMs < oldestMs) {
        oldest = peer;
        oldestMs = counters.lastSeenMs;
      }
    }
    if (oldest === null) return;
    const evicted = this.#peers.get(oldest)!;
    this.#peers.delete(oldest);
    const other = this.#others();
    other.datagrams += evicted.datagrams;
    other.bytes += evicted.bytes;
    other.dropped += evicted.dropped;
    other.lastSeenMs = Math.max(other.lastSeenMs, evicted.lastSeenMs);
    for (const [encoding, count] of Object.entries(evicted.converted)) {
      other.converted[encoding] = (other.converted[encoding] ?? 0) + count;
    }
  }

  /** A copy of every peer's counters, {@link OTHER_PEERS} last if anything was counted there. */
  snapshot(): Record<string, PeerCounters> {
    const entries = [...this.#peers].map(([peer, counters]) => [peer, copy(counters)] as const);
    if (this.#other !== null) entries.push([OTHER_PEERS, copy(this.#other)]);
    return Object.fromEntries(entries);
  }
}
