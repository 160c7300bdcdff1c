/**
 * The receiving side of lossless delivery (docs/lossless.md): per peer
 * host, the short hashes of its recent sync datagrams; its LEDGERs checked
 * against them a moment after they arrive; what is missing NACKed (again,
 * a few times) and given up after; RESENDs taken only for what is missing;
 * and whether the peer is in sync, with when that was last confirmed. Pure
 * state: the caller sends the NACKs it returns and calls {@link
 * DeliveryReceiver.check} on a timer.
 *
 * @module
 */

import type { SyncCounters } from "../stats/counters.ts";
import type { PeerDeliveryState } from "../stats/delivery_states.ts";
import {
  datagramHash,
  type Ledger,
  LedgerFlag,
  MAX_NACK_RANGE_COUNT,
  MAX_NACK_RANGES,
  type NackKind,
  NackKind as Kind,
  type NackRange,
  seqAdd,
  seqDistance,
} from "./delivery_message.ts";

/** Sizes and timing of a receiver. */
export interface DeliveryReceiverLimits {
  /** Hashes of a peer's datagrams kept (a power of two). */
  ringHashes: number;
  /** Peer hosts tracked; the least recently heard is forgotten first. */
  maxPeers: number;
  /** Missing seqs tracked per peer; beyond, its whole table is asked for. */
  maxMissing: number;
  /**
   * How long a LEDGER waits for its datagrams; and, once the sync socket's
   * reads are reported ({@link DeliveryReceiver.socketDrained}), until the
   * socket was found empty that long after it came (a busy receiver's
   * backlog is not taken for losses), at most `maxCheckWaitMs`.
   */
  checkDelayMs: number;
  maxCheckWaitMs: number;
  /** Between two NACKs of the same seq. */
  nackRetryMs: number;
  /** NACKs of a seq before it is given up. */
  nackAttempts: number;
  /** After this receiver's start, a peer is taken from its first LEDGER on (resync covers the rest). */
  startGraceMs: number;
  /** How far back in a peer's ring a hash is looked for (at most `ringHashes`). */
  searchWindow: number;
  /** LEDGER entries checked per check, for all peers, and for one peer. */
  entriesPerCheck: number;
  entriesPerPeerCheck: number;
  /** LEDGERs waiting per peer; beyond, new ones are refused. */
  maxPendingLedgers: number;
}

/** Defaults (docs/lossless.md). */
export const DEFAULT_RECEIVER_LIMITS: DeliveryReceiverLimits = {
  ringHashes: 4096,
  maxPeers: 64,
  maxMissing: 4096,
  checkDelayMs: 50,
  maxCheckWaitMs: 1_000,
  nackRetryMs: 300,
  // On a link losing 10% each way, a NACK and its RESEND fail 8 tries in a row 2 times in 10^6.
  nackAttempts: 8,
  startGraceMs: 10_000,
  // A forged LEDGER costs a search per entry: at most 4096 × 1024 comparisons (a few ms) a check.
  searchWindow: 1024,
  entriesPerCheck: 4096,
  entriesPerPeerCheck: 1024,
  maxPendingLedgers: 64,
};

/** A seq found missing (DATA), or not announced to us (LEDGER). */
interface Missing {
  kind: NackKind;
  nacks: number;
  lastNackMs: number;
}

/** A NACK to send to a peer. */
export interface NackToSend {
  peer: string;
  epoch: number;
  ranges: NackRange[];
}

/** What the receiver reads time from. */
export interface ReceiverClock {
  /** Wall-clock ms (when a peer was last confirmed). */
  now(): number;
  /** Monotonic ms (timing). */
  monotonic(): number;
}

/** One peer host: its datagrams' hashes (the hot path notes them) and its sequence state. */
export class PeerDelivery {
  readonly #ring: Uint32Array;
  readonly #mask: number;
  /** Hashes noted in all (the ring's write position). */
  #total = 0;
  /** The first ring position not matched yet. */
  #cursor = 0;
  /** Whether any LEDGER was checked: `epoch` and `next` mean something. */
  started = false;
  epoch = 0;
  /** The seq after the last one checked. */
  next = 0;
  readonly missing = new Map<number, Missing>();
  /** Its whole table asked for (more missing than tracked); null: not asked. */
  advertiseAsk: Missing | null = null;
  /** LEDGERs waiting for their check, with when they arrived (monotonic ms). */
  readonly pending: { ledger: Ledger; arrivedMs: number }[] = [];
  inSync = false;
  lastConfirmedMs = 0;
  knownGap = false;

  readonly #window: number;

  constructor(ringHashes: number, window: number) {
    this.#ring = new Uint32Array(ringHashes);
    this.#mask = ringHashes - 1;
    this.#window = Math.min(window, ringHashes);
  }

  /** Notes a sync datagram from this host (its bytes as received, or as opened). */
  noteDatagram(datagram: Uint8Array): void {
    this.noteHash(datagramHash(datagram));
  }

  /** Notes the hash of a sync datagram from this host. */
  noteHash(hash: number): void {
    this.#ring[this.#total & this.#mask] = hash;
    this.#total++;
  }

  /**
   * Finds `hash` among the datagrams noted since the last match (within the
   * search window); moves past it.
   */
  find(hash: number): boolean {
    const ring = this.#ring;
    const end = this.#total;
    for (let at = Math.max(this.#cursor, end - this.#window); at < end; at++) {
      if (ring[at & this.#mask] === hash) {
        this.#cursor = at + 1;
        return true;
      }
    }
    return false;
  }

  /**
   * Finds `hash` in the search window, the cursor left alone: for the
   * hashes of LEDGERs that came again, whose datagrams the cursor passed.
   */
  findEarlier(hash: number): boolean {
    const ring = this.#ring;
    for (let at = this.#total - 1; at >= Math.max(0, this.#total - this.#window); at--) {
      if (ring[at & this.#mask] === hash) return true;
    }
    return false;
  }
}

/** See the module documentation. */
export class DeliveryReceiver {
  readonly #limits: DeliveryReceiverLimits;
  readonly #clock: ReceiverClock;
  readonly #counters: Pick<SyncCounters, "syncGaps" | "syncGapsUnrepaired" | "syncRepaired">;
  readonly #startedMs: number;
  /** By host key, least recently heard first. */
  readonly #peers = new Map<string, PeerDelivery>();
  /** When the sync socket was last found empty (monotonic ms); null: not reported. */
  #drainedMs: number | null = null;
  /** Whether datagrams were read since: the socket may hold more (a busy receiver). */
  #readSinceDrained = false;
  /**
   * The hashes of the last datagrams from hosts not tracked yet, with their
   * hosts: a host's first LEDGER is checked against them.
   */
  readonly #limboHosts: (string | undefined)[];
  readonly #limboHashes: Uint32Array;
  #limboTotal = 0;

  constructor(
    clock: ReceiverClock,
    counters: Pick<SyncCounters, "syncGaps" | "syncGapsUnrepaired" | "syncRepaired">,
    limits: DeliveryReceiverLimits = DEFAULT_RECEIVER_LIMITS,
  ) {
    if ((limits.ringHashes & (limits.ringHashes - 1)) !== 0) {
      throw new RangeError("ringHashes: a power of two");
    }
    this.#limits = limits;
    this.#clock = clock;
    this.#counters = counters;
    this.#startedMs = clock.monotonic();
    this.#limboHosts = new Array(limits.ringHashes);
    this.#limboHashes = new Uint32Array(limits.ringHashes);
  }

  /** Notes a sync datagram from host `key`, not tracked (yet): see {@link ledger}. */
  noteUnknown(key: string, datagram: Uint8Array): void {
    const at = this.#limboTotal & (this.#limboHashes.length - 1);
    this.#limboHosts[at] = key;
    this.#limboHashes[at] = datagramHash(datagram);
    this.#limboTotal++;
  }

  /** The peer with host `key`, if it sent a LEDGER: its datagrams are to be noted. */
  peer(key: string): PeerDelivery | null {
    return this.#peers.get(key) ?? null;
  }

  /**
   * A LEDGER from host `key` (instance checked by the caller): checked at
   * the next check due. False if refused: too many of the host's wait.
   */
  ledger(key: string, ledger: Ledger): boolean {
    let peer = this.#peers.get(key);
    if (peer !== undefined && peer.pending.length >= this.#limits.maxPendingLedgers) return false;
    if (peer === undefined) {
      peer = this.#newPeer();
      // Its datagrams that came before: its first LEDGER is checked against them.
      const limbo = this.#limboHashes.length;
      for (let at = Math.max(0, this.#limboTotal - limbo); at < this.#limboTotal; at++) {
        if (this.#limboHosts[at & (limbo - 1)] === key) {
          peer.noteHash(this.#limboHashes[at & (limbo - 1)]);
        }
      }
      if (this.#peers.size >= this.#limits.maxPeers) {
        this.#peers.delete(this.#peers.keys().next().value!);
      }
    } else {
      this.#peers.delete(key);
    }
    this.#peers.set(key, peer);
    peer.pending.push({ ledger, arrivedMs: this.#clock.monotonic() });
    return true;
  }

  #newPeer(): PeerDelivery {
    const { ringHashes, searchWindow } = this.#limits;
    return new PeerDelivery(ringHashes, searchWindow);
  }

  /** Starts noting host `key`'s datagrams before its first LEDGER (a peer known from elsewhere). */
  expect(key: string): PeerDelivery {
    let peer = this.#peers.get(key);
    if (peer !== undefined) return peer;
    peer = this.#newPeer();
    if (this.#peers.size >= this.#limits.maxPeers) {
      this.#peers.delete(this.#peers.keys().next().value!);
    }
    this.#peers.set(key, peer);
    return peer;
  }

  /** The sync socket was read until it was empty: the datagrams sent before are all noted. */
  socketDrained(): void {
    this.#drainedMs = this.#clock.monotonic();
    this.#readSinceDrained = false;
  }

  /** A datagram was read from the sync socket (cheap: on every one). */
  socketRead(): void {
    this.#readSinceDrained = true;
  }

  /** Whether a LEDGER that came at `arrivedMs` may be checked at `now`. */
  #due(arrivedMs: number, now: number): boolean {
    const { checkDelayMs, maxCheckWaitMs } = this.#limits;
    if (arrivedMs + checkDelayMs > now) return false;
    const drained = this.#drainedMs;
    // Found empty after its last read (an idle socket), or after the LEDGER's delay.
    return drained === null || !this.#readSinceDrained || drained >= arrivedMs + checkDelayMs ||
      arrivedMs + maxCheckWaitMs <= now;
  }

  /** Milliseconds until {@link check} has work; null: none until a LEDGER comes. */
  nextCheckInMs(): number | null {
    for (const peer of this.#peers.values()) {
      if (peer.pending.length > 0 || peer.missing.size > 0 || peer.advertiseAsk !== null) {
        return this.#limits.checkDelayMs;
      }
    }
    return null;
  }

  /**
   * Checks the LEDGERs that waited long enough, gives up what was NACKed
   * enough, and returns the NACKs due.
   */
  check(): NackToSend[] {
    const now = this.#clock.monotonic();
    const nacks: NackToSend[] = [];
    const { entriesPerCheck, entriesPerPeerCheck } = this.#limits;
    let budget = entriesPerCheck;
    for (const [key, peer] of this.#peers) {
      let checked = false;
      let peerBudget = entriesPerPeerCheck;
      // Bounded work a check: what is over waits for the next (a flood of forged LEDGERs).
      while (
        budget > 0 && peerBudget > 0 && peer.pending.length > 0 &&
        this.#due(peer.pending[0].arrivedMs, now)
      ) {
        const { ledger } = peer.pending.shift()!;
        const entries = Math.max(1, ledger.hashes.length);
        budget -= entries;
        peerBudget -= entries;
        this.#apply(peer, ledger, now);
        checked = true;
      }
      this.#nacksOf(key, peer, now, nacks);
      if (checked) {
        peer.inSync = peer.missing.size === 0 && peer.advertiseAsk === null && !peer.knownGap;
        if (peer.inSync) peer.lastConfirmedMs = this.#clock.now();
      } else if (peer.missing.size > 0 || peer.knownGap) {
        peer.inSync = false;
      }
    }
    return nacks;
  }

  /**
   * A RESEND of `seq` from host `key`: true if it is one this receiver
   * misses (its payload goes to the kernel), false for a copy another
   * peer asked for, or a stale one.
   */
  resent(key: string, epoch: number, seq: number): boolean {
    const peer = this.#peers.get(key);
    if (peer === undefined || !peer.started || peer.epoch !== epoch) return false;
    const missing = peer.missing.get(seq);
    if (missing === undefined) return false;
    peer.missing.delete(seq);
    // One whose LEDGER was lost, sent again for another peer: taken, but maybe not missed.
    if (missing.kind === Kind.DATA) this.#counters.syncRepaired++;
    return true;
  }

  /** Every tracked peer's state, by host key. */
  states(): Map<string, PeerDeliveryState> {
    const states = new Map<string, PeerDeliveryState>();
    for (const [key, peer] of this.#peers) {
      if (!peer.started) continue;
      states.set(key, {
        epoch: peer.epoch,
        inSync: peer.inSync,
        lastConfirmedMs: peer.lastConfirmedMs,
        missing: peer.missing.size,
        knownGap: peer.knownGap,
      });
    }
    return states;
  }

  #apply(peer: PeerDelivery, ledger: Ledger, now: number): void {
    const count = ledger.hashes.length;
    if (!peer.started || ledger.epoch !== peer.epoch) {
      peer.started = true;
      peer.epoch = ledger.epoch;
      peer.missing.clear();
      peer.advertiseAsk = null;
      peer.knownGap = false;
      const young = now - this.#startedMs < this.#limits.startGraceMs;
      peer.next = ledger.first === 0 || young ? ledger.first : 0;
    }
    if ((ledger.flags & LedgerFlag.ADVERTISED) !== 0) {
      peer.knownGap = false;
      peer.advertiseAsk = null;
    }
    const skipped = seqDistance(ledger.first, peer.next);
    if (skipped > 0) {
      // LEDGERs were lost: ask for their hashes, then for what is really missing.
      if (skipped > this.#limits.maxMissing - peer.missing.size) this.#askTable(peer);
      else {
        for (let i = 0; i < skipped; i++) this.#miss(peer, seqAdd(peer.next, i), Kind.LEDGER);
      }
      peer.next = ledger.first;
    }
    for (let i = 0; i < count; i++) {
      const seq = seqAdd(ledger.first, i);
      const hash = ledger.hashes[i];
      if (seqDistance(seq, peer.next) >= 0) {
        if (!peer.find(hash)) {
          this.#counters.syncGaps++;
          if (peer.missing.size >= this.#limits.maxMissing) this.#askTable(peer);
          else this.#miss(peer, seq, Kind.DATA);
        }
        peer.next = seqAdd(seq, 1);
        continue;
      }
      const missing = peer.missing.get(seq);
      if (missing?.kind !== Kind.LEDGER) continue;
      if (peer.findEarlier(hash)) {
        peer.missing.delete(seq);
      } else {
        this.#counters.syncGaps++;
        missing.kind = Kind.DATA;
        missing.nacks = 0;
      }
    }
  }

  #miss(peer: PeerDelivery, seq: number, kind: NackKind): void {
    peer.missing.set(seq, { kind, nacks: 0, lastNackMs: -Infinity });
    peer.inSync = false;
  }

  #askTable(peer: PeerDelivery): void {
    peer.advertiseAsk ??= { kind: Kind.ADVERTISE, nacks: 0, lastNackMs: -Infinity };
    peer.inSync = false;
  }

  /** The NACKs due for `peer` (into `nacks`); what was NACKed enough is given up. */
  #nacksOf(key: string, peer: PeerDelivery, now: number, nacks: NackToSend[]): void {
    const { nackRetryMs, nackAttempts } = this.#limits;
    const due: number[] = [];
    for (const [seq, missing] of peer.missing) {
      if (now - missing.lastNackMs < nackRetryMs) continue;
      if (missing.nacks >= nackAttempts) {
        peer.missing.delete(seq);
        if (missing.kind === Kind.DATA) this.#counters.syncGapsUnrepaired++;
        peer.knownGap = true;
        // What the NACKs did not bring, the peer's table still has.
        this.#askTable(peer);
        continue;
      }
      missing.nacks++;
      missing.lastNackMs = now;
      due.push(seq);
    }
    const ranges: NackRange[] = [];
    const ask = peer.advertiseAsk;
    if (ask !== null && now - ask.lastNackMs >= nackRetryMs) {
      if (ask.nacks >= nackAttempts) {
        peer.advertiseAsk = null;
        peer.knownGap = true;
      } else {
        ask.nacks++;
        ask.lastNackMs = now;
        ranges.push({ first: 0, count: 0, kind: Kind.ADVERTISE });
      }
    }
    const base = peer.next;
    due.sort((a, b) => seqDistance(a, base) - seqDistance(b, base));
    for (const seq of due) {
      const kind = peer.missing.get(seq)!.kind;
      const last = ranges.at(-1);
      if (
        last !== undefined && last.kind === kind && last.count < MAX_NACK_RANGE_COUNT &&
        seqAdd(last.first, last.count) === seq
      ) {
        last.count++;
      } else {
        ranges.push({ first: seq, count: 1, kind });
      }
    }
    for (let i = 0; i < ranges.length; i += MAX_NACK_RANGES) {
      nacks.push({ peer: key, epoch: peer.epoch, ranges: ranges.slice(i, i + MAX_NACK_RANGES) });
    }
  }
}
