import assert from "node:assert/strict";
import {
  datagramHash,
  decodeDeliveryMessage,
  type Ledger,
  type Nack,
  NackKind,
  type NackRange,
  type Resend,
} from "./delivery_message.ts";
import {
  DEFAULT_SENDER_LIMITS,
  DeliverySender,
  type DeliverySenderLimits,
} from "./delivery_sender.ts";

const EPOCH = 0xabcd;

/** Datagram `i`: 100 bytes, all `i`. */
function datagram(i: number, length = 100): Uint8Array {
  return new Uint8Array(length).fill(i & 0xff);
}

function nack(...ranges: NackRange[]): Nack {
  return { type: 4, instance: "default", epoch: EPOCH, ranges };
}

function decoded<T>(bytes: Uint8Array): T {
  const message = decodeDeliveryMessage(bytes);
  assert.ok(message !== null && typeof message === "object");
  return message as T;
}

function sender(limits: Partial<DeliverySenderLimits> = {}, firstSeq = 0) {
  return new DeliverySender("default", EPOCH, 0, { ...DEFAULT_SENDER_LIMITS, ...limits }, firstSeq);
}

Deno.test("LEDGERs announce every datagram in seq order, 256 hashes at most; a heartbeat when idle", () => {
  const s = sender();
  assert.deepEqual(s.takeLedgers(false), [], "nothing to announce, no heartbeat asked");
  const [heartbeat] = s.takeLedgers(true).map((bytes) => decoded<Ledger>(bytes));
  assert.deepEqual([heartbeat.first, heartbeat.hashes.length], [0, 0]);
  for (let i = 0; i < 300; i++) s.record(datagram(i));
  assert.equal(s.unannounced, 300);
  const ledgers = s.takeLedgers(true).map((bytes) => decoded<Ledger>(bytes));
  assert.deepEqual(ledgers.map((l) => [l.epoch, l.first, l.hashes.length]), [
    [EPOCH, 0, 256],
    [EPOCH, 256, 44],
  ]);
  assert.equal(ledgers[1].hashes[43], datagramHash(datagram(299)));
  assert.equal(s.unannounced, 0);
  s.markAdvertised();
  s.record(datagram(1));
  const [flagged] = s.takeLedgers(false).map((bytes) => decoded<Ledger>(bytes));
  assert.deepEqual([flagged.first, flagged.flags], [300, 1]);
  assert.equal(decoded<Ledger>(s.takeLedgers(true)[0]).flags, 0, "the flag goes once");
});

Deno.test("NACKs are answered from the buffer; what it no longer holds is expired", () => {
  // 8 slots, 450 bytes: four 100-byte datagrams fit; the fifth overwrites the first.
  const cases: {
    name: string;
    recorded: number;
    ranges: NackRange[];
    resent: number[];
    ledgers?: [number, number][];
    expired: boolean;
  }[] = [
    {
      name: "in the buffer",
      recorded: 4,
      ranges: [{ first: 1, count: 2, kind: NackKind.DATA }],
      resent: [1, 2],
      expired: false,
    },
    {
      name: "bytes written over",
      recorded: 6,
      ranges: [{ first: 0, count: 4, kind: NackKind.DATA }],
      resent: [2, 3],
      expired: true,
    },
    {
      name: "slots reused",
      recorded: 12,
      ranges: [{ first: 2, count: 1, kind: NackKind.DATA }],
      resent: [],
      expired: true,
    },
    {
      name: "not announced yet: not answered",
      recorded: 4,
      ranges: [{ first: 3, count: 5, kind: NackKind.DATA }],
      resent: [3],
      expired: false,
    },
    {
      name: "hashes again, while their slots hold them",
      recorded: 10,
      ranges: [{ first: 0, count: 10, kind: NackKind.LEDGER }],
      resent: [],
      ledgers: [[2, 8]],
      expired: true,
    },
    {
      name: "the whole table",
      recorded: 1,
      ranges: [{ first: 0, count: 0, kind: NackKind.ADVERTISE }],
      resent: [],
      expired: true,
    },
  ];
  for (const c of cases) {
    const s = sender({ slots: 8, bufferBytes: 450 });
    for (let i = 0; i < c.recorded; i++) s.record(datagram(i));
    s.takeLedgers(false);
    const answer = s.answer(nack(...c.ranges), 0);
    const messages = answer.messages.map((bytes) => decoded<Resend | Ledger>(bytes));
    const resends = messages.filter((m): m is Resend => m.type === 5);
    assert.deepEqual(resends.map((m) => m.seq), c.resent, c.name);
    for (const m of resends) assert.deepEqual(m.payload, datagram(m.seq), c.name);
    const ledgers = messages.filter((m): m is Ledger => m.type === 3);
    assert.deepEqual(ledgers.map((l) => [l.first, l.hashes.length]), c.ledgers ?? [], c.name);
    assert.equal(answer.resent, c.resent.length, c.name);
    assert.equal(answer.expired, c.expired, c.name);
  }
});

Deno.test("answers come from a byte budget: a flood of NACKs cannot make the sender send more", () => {
  const s = new DeliverySender("default", EPOCH, 0, {
    ...DEFAULT_SENDER_LIMITS,
    answerBytesPerSecond: 1000,
    answerBurstBytes: 250,
  });
  for (let i = 0; i < 10; i++) s.record(datagram(i));
  s.takeLedgers(false);
  const all = nack({ first: 0, count: 10, kind: NackKind.DATA });
  const first = s.answer(all, 0);
  assert.deepEqual([first.resent, first.overBudget], [2, true]);
  assert.equal(s.answer(all, 0).resent, 0, "nothing left at once");
  assert.equal(s.answer(all, 100).resent, 1, "100 ms bring 100 bytes");
});

Deno.test("seqs wrap around: announced and resent across 2^32", () => {
  const s = sender({}, 0xfffffffe);
  for (let i = 0; i < 4; i++) s.record(datagram(i));
  const [ledger] = s.takeLedgers(false).map((bytes) => decoded<Ledger>(bytes));
  assert.deepEqual([ledger.first, ledger.hashes.length], [0xfffffffe, 4]);
  assert.equal(s.nextSeq, 2);
  const answer = s.answer(nack({ first: 0xffffffff, count: 2, kind: NackKind.DATA }), 0);
  const resent = answer.messages.map((bytes) => decoded<Resend>(bytes));
  assert.deepEqual(resent.map((m) => [m.seq, m.payload[0]]), [[0xffffffff, 1], [0, 2]]);
  assert.equal(answer.expired, false);
});
