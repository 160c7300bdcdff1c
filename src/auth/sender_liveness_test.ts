/**
 * Proof of liveness between sealed peers: the HELLO codec, the handshake,
 * the floor, and the HELLO rate.
 */

import assert from "node:assert/strict";
import {
  decodeHello,
  encodeHello,
  HELLO_INTERVAL_MS,
  MAX_LISTED,
  SenderLiveness,
} from "./sender_liveness.ts";

const DATA = Uint8Array.of(1, 2, 3);

Deno.test("HELLO: annotated bytes, round trip, and what is not one", () => {
  const bytes = encodeHello({ heard: [0x01020304, 0xa0b0c0d0], asked: [0xa0b0c0d0] });
  assert.deepEqual(
    bytes,
    Uint8Array.of(
      ...[0x4a, 0x44, 0x48, 0x4c], // magic "JDHL"
      1, // version
      2, // ids heard
      1, // ids asked
      0, // reserved
      ...[0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0], // heard
      ...[0xa0, 0xb0, 0xc0, 0xd0], // asked
    ),
  );
  assert.deepEqual(decodeHello(bytes), { heard: [0x01020304, 0xa0b0c0d0], asked: [0xa0b0c0d0] });
  for (const bad of [bytes.subarray(0, 19), bytes.subarray(0, 7), Uint8Array.of(...bytes, 0)]) {
    assert.equal(decodeHello(bad), null);
  }
  const many = Array.from({ length: MAX_LISTED + 5 }, (_, i) => i);
  assert.equal(decodeHello(encodeHello({ heard: many, asked: [] }))!.heard.length, MAX_LISTED);
});

Deno.test("a sender is refused until its HELLO echoes our id, then only what it sealed after", () => {
  const receiver = new SenderLiveness(0xaaaa);
  const sender = new SenderLiveness(0xbbbb);
  assert.equal(receiver.admit(0xbbbb, 100, DATA, false, 0).kind, "refuse");
  const ask = receiver.takeHello(0)!;
  assert.deepEqual(decodeHello(ask), { heard: [0xbbbb], asked: [0xbbbb] });
  assert.equal(sender.admit(0xaaaa, 5, ask, true, 0).kind, "hello");
  const answer = sender.takeHello(0)!;
  assert.deepEqual(decodeHello(answer), { heard: [0xaaaa], asked: [] });
  assert.equal(receiver.admit(0xbbbb, 200, answer, true, 1).kind, "hello");
  assert.equal(receiver.takeHello(1), null, "nothing more owed: the sender proved us too");
  assert.deepEqual(receiver.admit(0xbbbb, 150, DATA, false, 2), {
    kind: "refuse",
    as: "replay",
    problem: "sender 0000bbbb: sealed before it proved live",
  });
  assert.equal(receiver.admit(0xbbbb, 201, DATA, false, 2).kind, "deliver");
  assert.equal(
    receiver.admit(0xbbbb, 9, DATA, true, 2).kind,
    "refuse",
    "a resync message sealed before",
  );
});

Deno.test("a daemon says HELLO when it starts, before it heard anyone", () => {
  const starting = new SenderLiveness(0xaaaa);
  assert.deepEqual(decodeHello(starting.takeHello(0)!), { heard: [], asked: [] });
  assert.equal(starting.takeHello(1000), null);
});

Deno.test("a HELLO that echoes another start's id proves nothing", () => {
  const receiver = new SenderLiveness(0xaaaa);
  const old = encodeHello({ heard: [0x1111], asked: [] });
  assert.equal(receiver.admit(0xbbbb, 200, old, true, 0).kind, "hello");
  assert.equal(receiver.admit(0xbbbb, 201, DATA, false, 0).kind, "refuse");
  assert.equal(
    receiver.admit(0xbbbb, 1, Uint8Array.of(0x4a, 0x44, 0x48, 0x4c), true, 0).kind,
    "refuse",
  );
});

Deno.test("HELLOs go at most one per interval, however many datagrams are refused", () => {
  const receiver = new SenderLiveness(0xaaaa);
  let sent = 0;
  for (let ms = 0; ms < 10 * HELLO_INTERVAL_MS; ms += 10) {
    receiver.admit(0xbbbb + ms, ms, DATA, false, ms);
    if (receiver.takeHello(ms) !== null) sent++;
  }
  assert.equal(sent, 10);
  assert.equal(receiver.nextHelloInMs(10 * HELLO_INTERVAL_MS - 10), 10);
});
