import assert from "node:assert/strict";
import { decodeControlMessage } from "./control_message.ts";
import {
  datagramHash,
  decodeDeliveryMessage,
  encodeLedger,
  encodeNack,
  encodeResend,
  NackKind,
  seqAdd,
  seqDistance,
} from "./delivery_message.ts";

const PREFIX = (type: number) => [0x4a, 0x44, 0x52, 0x53, 1, type, 0, 0]; // "JDRS" v1
const INSTANCE = [0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // "default"

Deno.test("delivery messages encode to the documented bytes", () => {
  const hashes = new Uint32Array(4);
  hashes[3] = 0xdeadbeef; // seq 0xffffffff & 3
  hashes[0] = 0x01020304; // seq 0 (wrapped)
  const cases: [string, Uint8Array, number[]][] = [
    [
      "LEDGER of 2 hashes across the wrap, flag ADVERTISED",
      encodeLedger("default", 0x11223344, 0xffffffff, 2, 1, hashes, 3),
      [
        ...PREFIX(3),
        ...INSTANCE,
        ...[0x11, 0x22, 0x33, 0x44], // epoch
        ...[0xff, 0xff, 0xff, 0xff], // first seq
        ...[0, 2], // count
        ...[1, 0], // flags, reserved
        ...[0xde, 0xad, 0xbe, 0xef], // hash of seq 0xffffffff
        ...[1, 2, 3, 4], // hash of seq 0
      ],
    ],
    [
      "NACK of one DATA range",
      encodeNack("default", 7, [{ first: 10, count: 3, kind: NackKind.DATA }]),
      [
        ...PREFIX(4),
        ...INSTANCE,
        ...[0, 0, 0, 7], // epoch asked
        ...[0, 1, 0, 0], // one range, reserved
        ...[0, 0, 0, 10, 0, 3, 1, 0], // first 10, count 3, DATA
      ],
    ],
    [
      "RESEND of seq 9",
      encodeResend("default", 7, 9, new Uint8Array([0xaa, 0xbb])),
      [...PREFIX(5), ...INSTANCE, ...[0, 0, 0, 7], ...[0, 0, 0, 9], 0xaa, 0xbb],
    ],
  ];
  for (const [name, encoded, expected] of cases) {
    assert.deepEqual([...encoded], expected, name);
  }
});

Deno.test("delivery messages decode as encoded; resync messages are not theirs, nor theirs resync's", () => {
  const hashes = new Uint32Array([5, 6, 7, 8]);
  const ledger = decodeDeliveryMessage(encodeLedger("NAT64", 3, 1, 3, 0, hashes, 3));
  assert.deepEqual(ledger, {
    type: 3,
    instance: "NAT64",
    epoch: 3,
    first: 1,
    flags: 0,
    hashes: new Uint32Array([6, 7, 8]),
  });
  const ranges = [{ first: 1, count: 2, kind: NackKind.LEDGER }, {
    first: 0,
    count: 0,
    kind: NackKind.ADVERTISE,
  }];
  assert.deepEqual(decodeDeliveryMessage(encodeNack("default", 9, ranges)), {
    type: 4,
    instance: "default",
    epoch: 9,
    ranges,
  });
  const resend = decodeDeliveryMessage(encodeResend("default", 9, 4, new Uint8Array([1, 2, 3])));
  assert.ok(resend !== null && typeof resend === "object" && resend.type === 5);
  assert.equal(resend.seq, 4);
  assert.deepEqual([...resend.payload], [1, 2, 3]);
  // A 32-byte heartbeat-sized message is no resync message, and a resync message no delivery one.
  const heartbeat = encodeLedger("default", 3, 0, 0, 0, hashes, 3);
  assert.equal(decodeControlMessage(heartbeat), null);
  const request = new Uint8Array(32);
  request.set(PREFIX(1));
  request.set(INSTANCE, 16);
  assert.notEqual(decodeControlMessage(request), null);
  assert.equal(decodeDeliveryMessage(request), null);
});

Deno.test("malformed delivery messages are named, not thrown", () => {
  const good = encodeLedger("default", 3, 0, 1, 0, new Uint32Array(1), 0);
  const cases: [string, (bytes: Uint8Array) => Uint8Array, RegExp][] = [
    ["cut", (b) => b.subarray(0, 30), /30-byte message/],
    ["count says 2", (b) => (b[33] = 2, b), /LEDGER of 2 hashes in 40 bytes/],
    ["no instance", (b) => (b.fill(0, 8, 24), b), /no instance name/],
    ["epoch 0", (b) => (b.fill(0, 24, 28), b), /epoch 0/],
  ];
  for (const [name, spoil, problem] of cases) {
    const result = decodeDeliveryMessage(spoil(good.slice()));
    assert.equal(typeof result, "string", name);
    assert.match(result as string, problem, name);
  }
  const nack = encodeNack("default", 1, [{ first: 0, count: 1, kind: NackKind.DATA }]);
  nack[38] = 9;
  assert.equal(decodeDeliveryMessage(nack), "a NACK range of kind 9");
  assert.equal(
    decodeDeliveryMessage(encodeResend("default", 1, 0, new Uint8Array(0))),
    "a RESEND without a payload",
  );
});

Deno.test("seq arithmetic wraps (RFC 1982)", () => {
  const cases: [number, number, number][] = [
    [5, 3, 2],
    [3, 5, -2],
    [0, 0xffffffff, 1],
    [0xffffffff, 0, -1],
    [10, 0xfffffff0, 26],
  ];
  for (const [a, b, distance] of cases) assert.equal(seqDistance(a, b), distance, `${a} - ${b}`);
  assert.equal(seqAdd(0xffffffff, 2), 1);
});

Deno.test("the short hash is MurmurHash3 x86_32, seed 0, aligned or not", () => {
  const text = (value: string) => new TextEncoder().encode(value);
  // Published MurmurHash3 x86_32 test vectors (seed 0).
  assert.equal(datagramHash(new Uint8Array(0)), 0);
  assert.equal(datagramHash(text("test")), 0xba6bd213);
  assert.equal(datagramHash(text("Hello, world!")), 0xc0363e43);
  assert.equal(datagramHash(text("The quick brown fox jumps over the lazy dog")), 0x2e4ff723);
  // A datagram at an odd offset in its buffer hashes as a copy of it does.
  const unaligned = new Uint8Array(1453).subarray(1);
  unaligned.forEach((_, i) => unaligned[i] = i * 7);
  assert.equal(datagramHash(unaligned), datagramHash(unaligned.slice()));
  assert.notEqual(datagramHash(unaligned), datagramHash(unaligned.subarray(0, 1451)));
});
