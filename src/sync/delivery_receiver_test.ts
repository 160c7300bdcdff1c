import assert from "node:assert/strict";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { SyncCounters } from "../stats/counters.ts";
import {
  decodeDeliveryMessage,
  type Ledger,
  NackKind,
  type NackRange,
} from "./delivery_message.ts";
import { DEFAULT_RECEIVER_LIMITS, DeliveryReceiver, type NackToSend } from "./delivery_receiver.ts";
import { DEFAULT_SENDER_LIMITS, DeliverySender } from "./delivery_sender.ts";

const PEER = "2001:db8::1";

/** Datagram `i` of a sender: 60 bytes, distinct for distinct `i`. */
function datagram(i: number): Uint8Array {
  const bytes = new Uint8Array(60);
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
}

/** A sender and a receiver with a wire between them that drops what the test says. */
function link(options: { firstSeq?: number; epoch?: number; clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const counters = new SyncCounters();
  const receiver = new DeliveryReceiver(clock, counters);
  let sender = new DeliverySender(
    "default",
    options.epoch ?? 7,
    0,
    DEFAULT_SENDER_LIMITS,
    options.firstSeq ?? 0,
  );
  let sent = 0;
  return {
    clock,
    counters,
    receiver,
    get sender() {
      return sender;
    },
    /** The sender restarts with a new epoch. */
    restart(epoch: number) {
      sender = new DeliverySender("default", epoch, 0);
    },
    /** Sends `n` datagrams; those whose index (from 0, over the link's life) is in `lost` vanish. */
    send(n: number, lost: Iterable<number> = []) {
      const dropped = new Set(lost);
      for (let i = 0; i < n; i++, sent++) {
        const bytes = datagram(sent);
        sender.record(bytes);
        if (dropped.has(sent)) continue;
        const peer = receiver.peer(PEER);
        if (peer !== null) peer.noteDatagram(bytes);
        else receiver.noteUnknown(PEER, bytes);
      }
    },
    /** The sender's LEDGERs (or a heartbeat), delivered unless `lose`. */
    announce(options: { heartbeat?: boolean; lose?: boolean } = {}) {
      for (const bytes of sender.takeLedgers(options.heartbeat ?? false)) {
        if (!options.lose) receiver.ledger(PEER, decodeDeliveryMessage(bytes) as Ledger);
      }
    },
    /** Moves time past the check delay and checks. */
    check(ms = DEFAULT_RECEIVER_LIMITS.checkDelayMs): NackToSend[] {
      clock.advance(ms);
      return receiver.check();
    },
  };
}

const data = (first: number, count: number): NackRange => ({ first, count, kind: NackKind.DATA });
const ledgers = (first: number, count: number): NackRange => ({
  first,
  count,
  kind: NackKind.LEDGER,
});

Deno.test("a new peer: its datagrams before its first LEDGER count, so losses in it are NACKed", () => {
  const l = link();
  l.receiver.noteUnknown("2001:db8::77", datagram(1)); // another host's: not taken for PEER's
  l.send(5, [1, 2]); // before its first LEDGER: nobody knew the host
  l.announce();
  assert.deepEqual(l.check(), [{ peer: PEER, epoch: 7, ranges: [data(1, 2)] }]);
  l.send(10, [6, 7, 9, 12]);
  l.announce();
  const [nack] = l.check(DEFAULT_RECEIVER_LIMITS.nackRetryMs);
  assert.deepEqual(nack.ranges, [data(1, 2), data(6, 2), data(9, 1), data(12, 1)]);
  assert.equal(l.counters.syncGaps, 6);
  const state = l.receiver.states().get(PEER)!;
  assert.deepEqual([state.inSync, state.missing], [false, 6]);
});

Deno.test("rules of a peer known before its LEDGERs (a unicast peer, a restart)", () => {
  const cases: {
    name: string;
    /** ms between the receiver's start and the peer's first LEDGER. */
    afterMs: number;
    firstSeq: number;
    lost: number[];
    nacks: NackRange[];
  }[] = [
    { name: "nothing lost", afterMs: 0, firstSeq: 0, lost: [], nacks: [] },
    { name: "a loss in its first LEDGER", afterMs: 0, firstSeq: 0, lost: [2], nacks: [data(2, 1)] },
    {
      name: "first LEDGER from a later seq while we are young: checked from there",
      afterMs: 0,
      firstSeq: 100,
      lost: [1],
      nacks: [data(101, 1)],
    },
    {
      name: "first LEDGER from a later seq once we are not young: its first LEDGERs were lost",
      afterMs: 60_000,
      firstSeq: 100,
      lost: [],
      nacks: [ledgers(0, 100)],
    },
    {
      name: "across the wrap of seqs",
      afterMs: 0,
      firstSeq: 0xfffffffe,
      lost: [1, 2],
      nacks: [data(0xffffffff, 2)],
    },
  ];
  for (const c of cases) {
    const clock = new ManualClock();
    const l = link({ firstSeq: c.firstSeq, clock });
    l.receiver.expect(PEER);
    clock.advance(c.afterMs);
    l.send(4, c.lost);
    l.announce();
    assert.deepEqual(l.check().flatMap((n) => n.ranges), c.nacks, c.name);
  }
});

Deno.test("lost LEDGERs: their hashes are asked for, then only what is really missing", () => {
  const l = link();
  l.receiver.expect(PEER);
  l.send(4);
  l.announce();
  l.check();
  l.send(4, [5]);
  l.announce({ lose: true });
  l.send(2);
  l.announce();
  const [asked] = l.check();
  assert.deepEqual(asked.ranges, [ledgers(4, 4)]);
  assert.equal(l.counters.syncGaps, 0, "not announced is not missing");
  const answer = l.sender.answer({ type: 4, instance: "default", ...asked }, 0);
  for (const bytes of answer.messages) {
    l.receiver.ledger(PEER, decodeDeliveryMessage(bytes) as Ledger);
  }
  const [nack] = l.check(DEFAULT_RECEIVER_LIMITS.nackRetryMs);
  assert.deepEqual(nack.ranges, [data(5, 1)]);
  assert.equal(l.counters.syncGaps, 1);
});

Deno.test("a heartbeat past the last seq checked finds a lost last LEDGER", () => {
  const l = link();
  l.receiver.expect(PEER);
  l.send(3);
  l.announce();
  l.check();
  l.send(2);
  l.announce({ lose: true });
  l.announce({ heartbeat: true });
  assert.deepEqual(l.check().flatMap((n) => n.ranges), [ledgers(3, 2)]);
});

Deno.test("a LEDGER waits for its datagrams: those still in the socket are not NACKed", () => {
  const l = link();
  l.receiver.expect(PEER);
  const late: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    late.push(datagram(i));
    l.sender.record(datagram(i));
  }
  l.announce();
  l.clock.advance(DEFAULT_RECEIVER_LIMITS.checkDelayMs - 1);
  for (const bytes of late) l.receiver.peer(PEER)!.noteDatagram(bytes);
  assert.deepEqual(l.check(1), []);
});

Deno.test("RESENDs: taken once, for what is missing, in the epoch asked; then in sync again", () => {
  const l = link();
  l.receiver.expect(PEER);
  l.send(4, [1]);
  l.announce();
  l.check();
  assert.equal(l.receiver.resent(PEER, 99, 1), false, "another epoch");
  assert.equal(l.receiver.resent(PEER, 7, 2), false, "not missing: another peer's copy");
  assert.equal(l.receiver.resent("2001:db8::9", 7, 1), false, "another host");
  assert.equal(l.receiver.resent(PEER, 7, 1), true);
  assert.equal(l.receiver.resent(PEER, 7, 1), false, "a second copy");
  assert.equal(l.counters.syncRepaired, 1);
  l.announce({ heartbeat: true });
  assert.deepEqual(l.check(), []);
  const state = l.receiver.states().get(PEER)!;
  assert.deepEqual([state.inSync, state.missing, state.knownGap], [true, 0, false]);
  assert.equal(state.lastConfirmedMs, l.clock.now());
});

Deno.test("unanswered NACKs are repeated, then given up: the table is asked for, a known gap until it comes", () => {
  const l = link();
  l.receiver.expect(PEER);
  l.send(2, [0]);
  l.announce();
  const { nackRetryMs: retry, nackAttempts } = DEFAULT_RECEIVER_LIMITS;
  assert.deepEqual(l.check().flatMap((n) => n.ranges), [data(0, 1)]);
  assert.deepEqual(l.check(retry / 2), [], "not before the retry interval");
  assert.equal(l.check(retry / 2).length, 1);
  for (let attempt = 3; attempt <= nackAttempts; attempt++) {
    assert.deepEqual(l.check(retry).flatMap((n) => n.ranges), [data(0, 1)], `NACK ${attempt}`);
  }
  const table = { first: 0, count: 0, kind: NackKind.ADVERTISE };
  assert.deepEqual(l.check(retry).flatMap((n) => n.ranges), [table], "given up: the table");
  assert.equal(l.counters.syncGapsUnrepaired, 1);
  l.announce({ heartbeat: true });
  l.check();
  assert.deepEqual(
    [l.receiver.states().get(PEER)!.inSync, l.receiver.states().get(PEER)!.knownGap],
    [false, true],
  );
  l.sender.markAdvertised();
  l.announce({ heartbeat: true });
  l.check();
  assert.equal(l.receiver.states().get(PEER)!.inSync, true);
  assert.equal(l.receiver.nextCheckInMs(), null, "nothing left to check");
});

Deno.test("a restart (new epoch) forgets the old epoch's gaps", () => {
  const l = link();
  l.receiver.expect(PEER);
  l.send(3, [1]);
  l.announce();
  assert.equal(l.check().length, 1);
  l.restart(8);
  l.send(2);
  l.announce();
  assert.deepEqual(l.check(), []);
  assert.equal(l.receiver.resent(PEER, 7, 1), false, "the old epoch's copy");
  assert.deepEqual(l.receiver.states().get(PEER), {
    epoch: 8,
    inSync: true,
    lastConfirmedMs: l.clock.now(),
    missing: 0,
    knownGap: false,
  });
});

Deno.test("more missing than tracked: the whole table is asked for, once per retry", () => {
  const clock = new ManualClock();
  const counters = new SyncCounters();
  const receiver = new DeliveryReceiver(clock, counters, {
    ...DEFAULT_RECEIVER_LIMITS,
    maxMissing: 4,
  });
  const sender = new DeliverySender("default", 7, 0);
  receiver.expect(PEER);
  for (let i = 0; i < 10; i++) sender.record(datagram(i));
  for (const bytes of sender.takeLedgers(false)) {
    receiver.ledger(PEER, decodeDeliveryMessage(bytes) as Ledger);
  }
  clock.advance(50);
  const ranges = receiver.check().flatMap((n) => n.ranges);
  assert.deepEqual(ranges, [{ first: 0, count: 0, kind: NackKind.ADVERTISE }, data(0, 4)]);
});

Deno.test("bounded work: LEDGERs waiting per peer, entries checked per check, the search window", () => {
  const clock = new ManualClock();
  const counters = new SyncCounters();
  const limits = {
    ...DEFAULT_RECEIVER_LIMITS,
    maxPendingLedgers: 3,
    entriesPerCheck: 8,
    entriesPerPeerCheck: 8,
    searchWindow: 4,
  };
  const receiver = new DeliveryReceiver(clock, counters, limits);
  const sender = new DeliverySender("default", 7, 0);
  const peer = receiver.expect(PEER);
  const ledgers: Ledger[] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 4; i++) {
      const bytes = datagram(4 * round + i);
      sender.record(bytes);
      peer.noteDatagram(bytes);
    }
    ledgers.push(decodeDeliveryMessage(sender.takeLedgers(false)[0]) as Ledger);
  }
  assert.deepEqual(ledgers.map((ledger) => receiver.ledger(PEER, ledger)), [
    true,
    true,
    true,
    false,
  ]);
  clock.advance(50);
  // 8 entries a check: two LEDGERs of 4; the third waits. Their datagrams are more than
  // the window (4) behind the last noted: not found.
  const [nack] = receiver.check();
  assert.deepEqual(nack.ranges, [data(0, 8)]);
  assert.equal(receiver.states().get(PEER)!.missing, 8);
  clock.advance(50);
  receiver.check();
  assert.equal(receiver.states().get(PEER)!.missing, 12, "the third, a check later");
});

Deno.test("a busy receiver: a LEDGER waits until the sync socket was found empty after it, 1 s at most", () => {
  const l = link();
  l.receiver.expect(PEER);
  l.receiver.socketDrained(); // the daemon reports its reads
  l.receiver.socketRead(); // and it read some: more may wait
  const backlog: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    backlog.push(datagram(i));
    l.sender.record(datagram(i));
  }
  l.announce();
  assert.deepEqual(l.check(200), [], "the socket was not found empty since: not checked");
  for (const bytes of backlog) l.receiver.peer(PEER)!.noteDatagram(bytes);
  l.receiver.socketDrained();
  assert.deepEqual(l.check(1), [], "read at last: nothing missing");
  assert.equal(l.receiver.states().get(PEER)!.inSync, true);

  l.receiver.socketRead();
  l.sender.record(datagram(9)); // lost, and the socket never empty again
  l.announce();
  assert.deepEqual(l.check(500), []);
  assert.deepEqual(l.check(500).flatMap((n) => n.ranges), [data(3, 1)], "after 1 s, checked");

  // An idle socket (found empty after its last read) holds nothing: checked after the delay.
  l.receiver.socketDrained();
  l.sender.record(datagram(10)); // lost
  l.announce();
  assert.deepEqual(l.check().flatMap((n) => n.ranges), [data(4, 1)]);
});
