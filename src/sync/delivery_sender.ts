/**
 * The sending side of lossless delivery (docs/lossless.md): numbers each
 * sync datagram in this start's epoch, keeps its short hash and its bytes
 * in a bounded resend buffer, makes the LEDGERs that announce them, and
 * answers NACKs from the buffer within a byte budget. Pure state: the
 * caller sends what it returns and owns the timers.
 *
 * @module
 */

import {
  datagramHash,
  encodeLedger,
  encodeResend,
  LedgerFlag,
  MAX_LEDGER_COUNT,
  type Nack,
  NackKind,
  seqAdd,
  seqDistance,
} from "./delivery_message.ts";

/** Sizes and budgets of a sender. */
export interface DeliverySenderLimits {
  /** Bytes of datagrams kept for resending. */
  bufferBytes: number;
  /** Datagrams whose hashes are kept (a power of two). */
  slots: number;
  /** Bytes of answers (RESENDs and LEDGERs) a second, for all requesters together. */
  answerBytesPerSecond: number;
  /** Bytes of answers at once. */
  answerBurstBytes: number;
}

/** Defaults: 4 MiB of datagrams (some 100k sessions), 8192 hashes, 4 MiB/s of answers. */
export const DEFAULT_SENDER_LIMITS: DeliverySenderLimits = {
  bufferBytes: 4 * 1024 * 1024,
  slots: 8192,
  answerBytesPerSecond: 4 * 1024 * 1024,
  answerBurstBytes: 4 * 1024 * 1024,
};

/** What a NACK's answer came to. */
export interface NackAnswer {
  /** The messages to send on the control port, in order. */
  messages: Uint8Array[];
  /** Datagrams resent among them. */
  resent: number;
  /** Whether some of what was asked is no longer buffered (or the whole table was asked). */
  expired: boolean;
  /** Whether the budget cut the answer short (the receiver asks again). */
  overBudget: boolean;
}

/** See the module documentation. */
export class DeliverySender {
  /** This start's epoch: random, never 0. */
  readonly epoch: number;
  readonly #instance: string;
  readonly #limits: DeliverySenderLimits;
  readonly #mask: number;
  readonly #hashes: Uint32Array;
  readonly #offsets: Uint32Array;
  readonly #lengths: Uint32Array;
  readonly #bytes: Uint8Array;
  #writeAt = 0;
  /** The seq the next datagram gets. */
  #next = 0;
  /** Datagrams numbered in this epoch (beyond u32: hashes before seq 0 are gone too). */
  #numbered = 0;
  /** The oldest seq whose bytes are still buffered. */
  #oldestBytes = 0;
  /** The first seq not announced in a LEDGER yet. */
  #announced = 0;
  /** LedgerFlag bits for the next LEDGER. */
  #flags = 0;
  #tokens: number;
  #tokensAtMs: number;

  /** `firstSeq`: 0 at a start; another only to test the wrap-around. */
  constructor(
    instance: string,
    epoch: number,
    nowMs: number,
    limits: DeliverySenderLimits = DEFAULT_SENDER_LIMITS,
    firstSeq = 0,
  ) {
    if (epoch === 0 || epoch !== epoch >>> 0) throw new RangeError("An epoch is a u32, not 0");
    if ((limits.slots & (limits.slots - 1)) !== 0) throw new RangeError("slots: a power of two");
    this.epoch = epoch;
    this.#instance = instance;
    this.#limits = limits;
    this.#mask = limits.slots - 1;
    this.#hashes = new Uint32Array(limits.slots);
    this.#offsets = new Uint32Array(limits.slots);
    this.#lengths = new Uint32Array(limits.slots);
    this.#bytes = new Uint8Array(limits.bufferBytes);
    this.#tokens = limits.answerBurstBytes;
    this.#tokensAtMs = nowMs;
    this.#next = this.#oldestBytes = this.#announced = firstSeq >>> 0;
  }

  /** The seq the next datagram gets. */
  get nextSeq(): number {
    return this.#next;
  }

  /** Datagrams sent and not announced yet. */
  get unannounced(): number {
    return seqDistance(this.#next, this.#announced);
  }

  /** Numbers one datagram (sent, or whose send failed: a NACK brings it again). */
  record(datagram: Uint8Array): void {
    const seq = this.#next;
    const slot = seq & this.#mask;
    this.#hashes[slot] = datagramHash(datagram);
    const length = datagram.byteLength;
    this.#next = seqAdd(seq, 1);
    this.#numbered++;
    // A slot reused retires the seq it held.
    if (seqDistance(this.#next, this.#oldestBytes) > this.#limits.slots) {
      this.#oldestBytes = seqAdd(this.#next, -this.#limits.slots);
    }
    if (length > this.#bytes.byteLength) {
      this.#oldestBytes = this.#next;
      return;
    }
    if (this.#writeAt + length > this.#bytes.byteLength) this.#writeAt = 0;
    const start = this.#writeAt;
    const end = start + length;
    // Bytes written over retire their seqs (the oldest ones: the ring is written in order).
    while (this.#oldestBytes !== seq) {
      const old = this.#oldestBytes & this.#mask;
      const oldStart = this.#offsets[old];
      if (oldStart >= end || oldStart + this.#lengths[old] <= start) break;
      this.#oldestBytes = seqAdd(this.#oldestBytes, 1);
    }
    this.#bytes.set(datagram, start);
    this.#offsets[slot] = start;
    this.#lengths[slot] = length;
    this.#writeAt = end;
  }

  /** The next LEDGER says the table was advertised (the receivers' known gaps may close). */
  markAdvertised(): void {
    this.#flags |= LedgerFlag.ADVERTISED;
  }

  /**
   * The LEDGERs that announce every datagram not announced yet (at most
   * {@link MAX_LEDGER_COUNT} hashes each); with none, a heartbeat (count 0)
   * if `heartbeat`, else nothing.
   */
  takeLedgers(heartbeat: boolean): Uint8Array[] {
    const ledgers: Uint8Array[] = [];
    let pending = this.unannounced;
    // Hashes overwritten before they were announced: announce what is left.
    if (pending > this.#limits.slots) {
      this.#announced = seqAdd(this.#next, -this.#limits.slots);
      pending = this.#limits.slots;
    }
    if (pending === 0 && !heartbeat) return ledgers;
    do {
      const count = Math.min(pending, MAX_LEDGER_COUNT);
      ledgers.push(this.#ledger(this.#announced, count, this.#flags));
      this.#flags = 0;
      this.#announced = seqAdd(this.#announced, count);
      pending -= count;
    } while (pending > 0);
    return ledgers;
  }

  #ledger(first: number, count: number, flags: number): Uint8Array {
    return encodeLedger(this.#instance, this.epoch, first, count, flags, this.#hashes, this.#mask);
  }

  /** Answers a NACK for this epoch (the caller checked instance and epoch) at `nowMs`. */
  answer(nack: Nack, nowMs: number): NackAnswer {
    const result: NackAnswer = { messages: [], resent: 0, expired: false, overBudget: false };
    this.#refill(nowMs);
    for (const range of nack.ranges) {
      if (range.kind === NackKind.ADVERTISE) {
        result.expired = true;
        continue;
      }
      let first = range.first;
      let count = range.count;
      // Only what was announced can be asked for; the rest is not ours to answer.
      const known = seqDistance(this.#announced, first);
      if (known <= 0 || count === 0) continue;
      count = Math.min(count, known);
      const oldest = range.kind === NackKind.DATA
        ? this.#oldestBytes
        : seqAdd(this.#next, -Math.min(this.#limits.slots, this.#numbered));
      const lost = seqDistance(oldest, first);
      if (lost > 0) {
        result.expired = true;
        if (lost >= count) continue;
        first = oldest;
        count -= lost;
      }
      if (range.kind === NackKind.LEDGER) {
        for (let done = 0; done < count;) {
          const n = Math.min(count - done, MAX_LEDGER_COUNT);
          const ledger = this.#ledger(seqAdd(first, done), n, 0);
          if (!this.#spend(ledger.byteLength)) return { ...result, overBudget: true };
          result.messages.push(ledger);
          done += n;
        }
        continue;
      }
      for (let i = 0; i < count; i++) {
        const seq = seqAdd(first, i);
        const slot = seq & this.#mask;
        const length = this.#lengths[slot];
        if (!this.#spend(length)) return { ...result, overBudget: true };
        const start = this.#offsets[slot];
        const payload = this.#bytes.subarray(start, start + length);
        result.messages.push(encodeResend(this.#instance, this.epoch, seq, payload));
        result.resent++;
      }
    }
    return result;
  }

  #refill(nowMs: number): void {
    const { answerBytesPerSecond, answerBurstBytes } = this.#limits;
    const elapsed = Math.max(0, nowMs - this.#tokensAtMs);
    this.#tokens = Math.min(answerBurstBytes, this.#tokens + elapsed * answerBytesPerSecond / 1000);
    this.#tokensAtMs = nowMs;
  }

  #spend(bytes: number): boolean {
    if (this.#tokens < bytes) return false;
    this.#tokens -= bytes;
    return true;
  }
}
