/**
 * The relay from the kernel to the peers: each batch of our instance's
 * sessions (already ACKed by the kernel link) goes to the group, split
 * into datagrams of whole sessions if the kernel made it larger than the
 * peers read (a raised ss-max-payload).
 *
 * @module
 */

import { SPLIT_DATAGRAM_BYTES, splitBatch } from "../sync/batch_split.ts";
import { RESEND_HEADER_LENGTH } from "../sync/delivery_message.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { LocalJool } from "./local_jool.ts";
import type { SyncMeasures } from "./measures.ts";
import type { GroupSender } from "./peer_channel.ts";

/** The packet size sealed datagrams are made for: Ethernet's MTU. */
const SEALED_PACKET_BYTES = 1500;
/** IPv6 and UDP headers (IPv4's are 20 bytes less). */
const IP_UDP_HEADER_BYTES = 48;

/**
 * Sealed mode: how long the first batch of a sealed datagram waits for
 * others to join it. Under a burst Jool 4.1.9 sends a batch of about ten
 * sessions every millisecond or two; sealing each alone cost more CPU than
 * the relay itself and the kernel dropped sessions while the daemon was
 * busy (BENCHMARKS.md's git history). A few milliseconds are nothing against
 * ss-flush-deadline's 2 s, and peers get a few datagrams instead of dozens.
 */
export const SEALED_COALESCE_MS = 5;

/**
 * Sealed mode: the most bytes of sessions in one sealed datagram that adds
 * `overhead`: so many that it crosses a 1500-byte link in one packet (a
 * lost fragment would lose the whole datagram), and so does its RESEND on
 * the control port (docs/lossless.md).
 */
export function sealedDatagramBytes(overhead: number): number {
  return SEALED_PACKET_BYTES - IP_UDP_HEADER_BYTES - overhead - RESEND_HEADER_LENGTH;
}

/**
 * Bytes of sessions in one datagram the daemon makes itself (a table
 * dump's, a repair's): a clear datagram's, or sealed, {@link sealedDatagramBytes}.
 */
export function sessionDatagramBytes(overhead: number): number {
  return overhead === 0 ? SPLIT_DATAGRAM_BYTES : sealedDatagramBytes(overhead);
}

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
   * default 0. When set, each seal costs mostly per call, so the batches
   * of {@link SEALED_COALESCE_MS} go together, in sealed datagrams of whole
   * sessions of up to {@link sealedDatagramBytes}: never fragmented.
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
    this.#pending = new Uint8Array(this.#overhead === 0 ? 0 : sealedDatagramBytes(this.#overhead));
  }

  /**
   * Relays one batch (see `KernelLinkHandlers.onBatch`): its payload, the
   * kernel's version, and `performance.now()` when it came in.
   */
  relay(payload: Uint8Array, kernelVersion: number, receivedAt: number): void {
    this.#deps.jool.learnFromBatch(kernelVersion);
    if (this.#overhead === 0) {
      if (this.#send(payload)) this.#relayed(receivedAt);
      return;
    }
    const limit = this.#pending.byteLength;
    let sentAlone = false;
    for (const part of splitBatch(payload, limit, limit)) {
      if (this.#pendingBytes + part.byteLength > limit) this.flush();
      if (part.byteLength > limit) {
        // One entry larger than a packet (or a malformed rest): alone, for the peers to judge.
        sentAlone = this.#deps.sender.send(part) || sentAlone;
        continue;
      }
      // The payload is a view into the socket's buffer, which the next read
      // overwrites: it is copied into the datagram being gathered.
      this.#pending.set(part, this.#pendingBytes);
      this.#pendingBytes += part.byteLength;
    }
    if (this.#pendingBytes === 0) {
      if (sentAlone) this.#relayed(receivedAt);
      return;
    }
    const { clock } = this.#deps;
    this.#pendingReceivedAt.push(receivedAt);
    if (this.#flushTimer === null) {
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
    if (this.#deps.sender.send(datagram)) { for (const at of receivedAt) this.#relayed(at); }
  }

  /** Records that the sessions of a batch received at `receivedAt` went out. */
  #relayed(receivedAt: number): void {
    const { measures, clock } = this.#deps;
    measures.relayLatency.recordMs(clock.monotonic() - receivedAt);
    measures.lastSyncMs = clock.now();
  }

  /** Sends sessions in clear; true if any datagram of them went out. */
  #send(payload: Uint8Array): boolean {
    const { sender } = this.#deps;
    // With a raised ss-max-payload, peers get datagrams of whole sessions
    // that fit the MTU; an ordinary batch is one part, as it came.
    let sent = false;
    for (const part of splitBatch(payload)) sent = sender.send(part) || sent;
    return sent;
  }
}
