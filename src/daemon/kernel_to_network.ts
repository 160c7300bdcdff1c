/**
 * The relay from the kernel to the peers: each batch of our instance's
 * sessions (already ACKed by the kernel link) goes to the group, split
 * into datagrams of whole sessions if the kernel made it larger than the
 * peers read (a raised ss-max-payload).
 *
 * @module
 */

import { splitBatch } from "../sync/batch_split.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { LocalJool } from "./local_jool.ts";
import type { SyncMeasures } from "./measures.ts";
import type { GroupSender } from "./peer_channel.ts";

/** The largest UDP payload over IPv4 (IPv6 allows 20 bytes more). */
const MAX_UDP_PAYLOAD = 65507;

/**
 * Sealed mode: how long the first batch of a sealed datagram waits for
 * others to join it. Under a burst Jool 4.1.9 sends a batch of about ten
 * sessions every millisecond or two; sealing each alone cost more CPU than
 * the relay itself and the kernel dropped sessions while the daemon was
 * busy (BENCHMARKS.md). A few milliseconds are nothing against
 * ss-flush-deadline's 2 s, and peers get a few datagrams instead of dozens.
 */
export const SEALED_COALESCE_MS = 5;

/**
 * Sealed mode: the most bytes of sessions gathered into one sealed
 * datagram (the size of Jool 4.1.9's largest batches; a larger batch
 * still goes alone, up to UDP's limit).
 */
export const SEALED_COALESCE_BYTES = 32 * 1024;

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
   * default 0. When set, batches are not split for the C joold's 2 KiB
   * buffer and the MTU: only our daemons read sealed datagrams, and they
   * read any size, while each seal costs mostly per call. So the batches of
   * {@link SEALED_COALESCE_MS} go together as one sealed datagram of up to
   * {@link SEALED_COALESCE_BYTES}, and the IP layer fragments what exceeds
   * the link's MTU.
   */
  datagramOverhead?: number;
}

/** Sends the kernel's batches to the peers. */
export class KernelToNetwork {
  readonly #deps: KernelToNetworkDeps;
  /** `deps.datagramOverhead`; non-zero: sealed mode. */
  readonly #overhead: number;
  /** Sealed mode: the sessions of the batches waiting, in order (reused). */
  readonly #pending: Uint8Array;
  #pendingBytes = 0;
  /** Sealed mode: when each waiting batch came in (`performance.now()`). */
  readonly #pendingReceivedAt: number[] = [];
  /** Sealed mode: `clock.monotonic()` when the oldest waiting batch came in. */
  #pendingSince = 0;
  #flushTimer: TimerHandle | null = null;
  readonly #flushOnTimer = () => {
    this.#flushTimer = null;
    this.flush();
  };

  constructor(deps: KernelToNetworkDeps) {
    this.#deps = deps;
    this.#overhead = deps.datagramOverhead ?? 0;
    this.#pending = new Uint8Array(this.#overhead === 0 ? 0 : SEALED_COALESCE_BYTES);
  }

  /**
   * Relays one batch (see `KernelLinkHandlers.onBatch`): its payload, the
   * kernel's version, and `performance.now()` when it came in.
   */
  relay(payload: Uint8Array, kernelVersion: number, receivedAt: number): void {
    this.#deps.jool.learnFromBatch(kernelVersion);
    if (this.#overhead === 0 || payload.byteLength > this.#pending.byteLength) {
      if (this.#pendingBytes > 0) this.flush(); // keep the order
      if (this.#send(payload)) this.#relayed(receivedAt);
      return;
    }
    if (this.#pendingBytes + payload.byteLength > this.#pending.byteLength) this.flush();
    const { clock } = this.#deps;
    // The payload is a view into the socket's buffer, which the next read
    // overwrites: it is copied into the datagram being gathered.
    this.#pending.set(payload, this.#pendingBytes);
    this.#pendingBytes += payload.byteLength;
    this.#pendingReceivedAt.push(receivedAt);
    if (this.#pendingReceivedAt.length === 1) {
      this.#pendingSince = clock.monotonic();
      this.#flushTimer = clock.setTimer(this.#flushOnTimer, SEALED_COALESCE_MS);
    } else if (clock.monotonic() - this.#pendingSince >= SEALED_COALESCE_MS) {
      // Under a burst the event loop's timers can run late (the reactor
      // keeps the thread while events come): batches flush what is due.
      this.flush();
    }
  }

  /** Sealed mode: sends the batches gathered so far now (also at stop). */
  flush(): void {
    if (this.#flushTimer !== null) {
      this.#deps.clock.clearTimer(this.#flushTimer);
      this.#flushTimer = null;
    }
    if (this.#pendingBytes === 0) return;
    const datagram = this.#pending.subarray(0, this.#pendingBytes);
    this.#pendingBytes = 0;
    const receivedAt = this.#pendingReceivedAt.splice(0);
    if (this.#send(datagram)) { for (const at of receivedAt) this.#relayed(at); }
  }

  /** Records that the sessions of a batch received at `receivedAt` went out. */
  #relayed(receivedAt: number): void {
    const { measures, clock } = this.#deps;
    measures.relayLatency.recordMs(clock.monotonic() - receivedAt);
    measures.lastSyncMs = clock.now();
  }

  /** Sends sessions; true if any datagram of them went out. */
  #send(payload: Uint8Array): boolean {
    const { sender } = this.#deps;
    // With a raised ss-max-payload, peers get datagrams of whole sessions
    // that fit the MTU; an ordinary batch is one part, as it came.
    let sent = false;
    const overhead = this.#overhead;
    const parts = overhead === 0
      ? splitBatch(payload)
      : splitBatch(payload, MAX_UDP_PAYLOAD - overhead, MAX_UDP_PAYLOAD - overhead);
    for (const part of parts) sent = sender.send(part) || sent;
    return sent;
  }
}
