/**
 * Sealed datagrams: the header byte for byte, a known-answer ChaCha20-Poly1305
 * seal, and every refusal (tamper, unknown key, wrong key, replay, age).
 */

import assert from "node:assert/strict";
import {
  type AuthKey,
  DatagramOpener,
  DatagramSealer,
  isRefusal,
  type KeyRing,
  MAX_AGE_US,
  MAX_SENDERS,
  REPLAY_WINDOW,
  ReplayWindows,
  SEALED_OVERHEAD,
  warmUpSealing,
} from "./sealed_datagram.ts";
import { loadChaCha20Poly1305 } from "./chacha20_poly1305.ts";

const AEAD = await loadChaCha20Poly1305();

const KEY_7: AuthKey = { id: 7, secret: new Uint8Array(32).map((_, i) => i) };
const KEY_8: AuthKey = { id: 8, secret: new Uint8Array(32).fill(0xaa) };
const RING_7: KeyRing = { current: KEY_7, accepted: new Map([[7, KEY_7]]) };
/** 2026-01-01T00:00:00Z in microseconds. */
const NOW_US = 1_767_225_600_000_000;
const PAYLOAD = new TextEncoder().encode("sessions");

function sealer(key = KEY_7, senderId = 0x01020304, clock = () => NOW_US): DatagramSealer {
  return new DatagramSealer(AEAD, key, senderId, clock);
}

function opener(ring = RING_7, clock = () => NOW_US): DatagramOpener {
  return new DatagramOpener(AEAD, ring, clock);
}

Deno.test("the header: magic, version, key id, sender id, counter, then ciphertext and tag", () => {
  const sealed = sealer().seal(PAYLOAD);
  assert.equal(sealed.byteLength, PAYLOAD.byteLength + SEALED_OVERHEAD);
  assert.deepEqual(
    [...sealed.subarray(0, 16)],
    [
      ...[0x6a, 0x41], // magic "jA"
      0x02, // format version (2: peers prove liveness)
      0x07, // key id 7
      ...[0x01, 0x02, 0x03, 0x04], // sender id
      ...[0x00, 0x06, 0x47, 0x48, 0x46, 0x20, 0x40, 0x00], // counter: NOW_US
    ],
  );
  // Known answer: ChaCha20-Poly1305, key 00..1f, nonce = bytes 4-15, AAD = bytes 0-15 and 0 (sync).
  assert.equal(
    Array.from(sealed.subarray(16), (byte) => byte.toString(16).padStart(2, "0")).join(""),
    new TextDecoder().decode(KNOWN_ANSWER),
  );
});

/**
 * Ciphertext (8 bytes) and tag (16) of PAYLOAD in the test above, from an
 * independent implementation (Python's cryptography ChaCha20Poly1305).
 */
const KNOWN_ANSWER = new TextEncoder().encode(
  "d8634f31fe3838aa" + "735b139a7c5911f2028f067ab722a9f9",
);

Deno.test("the counter grows by one when the clock does not move, and follows the clock", () => {
  let now = NOW_US;
  const seal = sealer(KEY_7, 1, () => now);
  const counters = [seal.seal(PAYLOAD), seal.seal(PAYLOAD), (now += 5000, seal.seal(PAYLOAD))]
    .map((sealed) => new DataView(sealed.buffer).getBigUint64(8));
  assert.deepEqual(counters, [BigInt(NOW_US), BigInt(NOW_US + 1), BigInt(NOW_US + 5000)]);
});

Deno.test("the counter never goes back when the clock does", () => {
  let now = NOW_US;
  const seal = sealer(KEY_7, 1, () => now);
  seal.seal(PAYLOAD);
  now -= 60_000_000;
  const counter = new DataView(seal.seal(PAYLOAD).buffer).getBigUint64(8);
  assert.equal(counter, BigInt(NOW_US + 1));
});

Deno.test("a sealed datagram opens to its payload, once", () => {
  const open = opener();
  const sealed = sealer().seal(PAYLOAD);
  assert.deepEqual(open.open(sealed), PAYLOAD);
  assert.deepEqual(open.open(sealed), {
    kind: "replay",
    problem: `sender 01020304: counter ${NOW_US} seen`,
  });
});

Deno.test("refusals: what is wrong with each datagram", async (t) => {
  const good = () => sealer().seal(PAYLOAD);
  const flip = (offset: number) => {
    const sealed = good();
    sealed[offset < 0 ? sealed.length + offset : offset] ^= 0x01;
    return sealed;
  };
  const cases: [string, Uint8Array, string][] = [
    ["too short", new Uint8Array(31), "not sealed (31 bytes)"],
    [
      "a plain Jool datagram",
      new Uint8Array(100).fill(0x40),
      "not sealed (no authentication header)",
    ],
    [
      "version 1 (an older joold)",
      flip(2).fill(0x01, 2, 3),
      "sealed format version 1, this daemon reads 2 (every node must run the same joold release)",
    ],
    ["unknown key id", flip(3), "unknown key id 6"],
    ["sender id changed", flip(4), "bad authentication tag (key id 7)"],
    ["counter changed", flip(15), "bad authentication tag (key id 7)"],
    ["ciphertext changed", flip(16), "bad authentication tag (key id 7)"],
    ["tag changed", flip(-1), "bad authentication tag (key id 7)"],
    [
      "another key, same id",
      sealer({ id: 7, secret: KEY_8.secret }).seal(PAYLOAD),
      "bad authentication tag (key id 7)",
    ],
  ];
  for (const [name, datagram, problem] of cases) {
    await t.step(name, () => {
      assert.deepEqual(opener().open(datagram), { kind: "auth", problem });
    });
  }
});

Deno.test("what is sealed for the sync port does not open on the control port, nor the reverse", () => {
  const sealed = sealer().seal(PAYLOAD, "sync");
  const control = new DatagramOpener(AEAD, RING_7, () => NOW_US, null, "control");
  assert.deepEqual(control.open(sealed), {
    kind: "auth",
    problem: "bad authentication tag (key id 7)",
  });
  const forControl = sealer().seal(PAYLOAD, "control");
  assert.equal(isRefusal(opener().open(forControl)), true);
  assert.deepEqual(control.open(forControl), PAYLOAD);
});

Deno.test("a refused datagram does not take its counter: the genuine one still opens", () => {
  const open = opener();
  const sealed = sealer().seal(PAYLOAD);
  const forged = sealed.slice();
  forged[20] ^= 0xff;
  assert.ok(isRefusal(open.open(forged)));
  assert.deepEqual(open.open(sealed), PAYLOAD);
});

Deno.test("a counter older than the age limit is a replay, even from a new sender", () => {
  const old = sealer(KEY_7, 9, () => NOW_US - MAX_AGE_US - 1_000_000).seal(PAYLOAD);
  assert.deepEqual(opener().open(old), {
    kind: "replay",
    problem: "sender 00000009: counter 601 s old (more than 600 s; are the clocks set?)",
  });
});

Deno.test("rotation: a node holding both keys opens either; setKey changes the key id sent", () => {
  const both: KeyRing = { current: KEY_7, accepted: new Map([[7, KEY_7], [8, KEY_8]]) };
  const open = opener(both);
  let now = NOW_US;
  const seal = sealer(KEY_7, 1, () => now);
  assert.deepEqual(open.open(seal.seal(PAYLOAD)), PAYLOAD);
  seal.setKey(KEY_8);
  now += 1;
  const with8 = seal.seal(PAYLOAD);
  assert.equal(with8[3], 8);
  assert.deepEqual(open.open(with8), PAYLOAD);
  open.setRing({ current: KEY_8, accepted: new Map([[8, KEY_8]]) });
  now += 1;
  seal.setKey(KEY_7);
  assert.deepEqual(open.open(seal.seal(PAYLOAD)), { kind: "auth", problem: "unknown key id 7" });
});

Deno.test("replay windows: new, reordered within the window, seen, too far back", () => {
  const windows = new ReplayWindows();
  assert.equal(windows.accept(1, 100), true);
  assert.equal(windows.accept(1, 300), true);
  assert.equal(windows.accept(1, 200), true, "reordered, not seen");
  assert.equal(windows.accept(1, 200), false, "seen");
  assert.equal(windows.accept(2, 200), true, "another sender's counters are its own");
  for (let counter = 1000; counter < 1000 + REPLAY_WINDOW; counter++) windows.accept(1, counter);
  assert.equal(windows.accept(1, 999), false, "older than the window");
  assert.equal(windows.accept(1, 1000 + REPLAY_WINDOW), true);
});

Deno.test("replay windows are bounded: the sender seen least recently makes room", () => {
  const windows = new ReplayWindows();
  for (let sender = 0; sender < MAX_SENDERS; sender++) windows.accept(sender, 10);
  windows.accept(0, 11); // sender 0 is now the most recent
  windows.accept(MAX_SENDERS, 10); // evicts sender 1
  assert.equal(windows.accept(0, 10), false);
  assert.equal(windows.accept(1, 10), true, "forgotten: its counters are new again");
});

Deno.test("a datagram with our own sender id is refused: we never receive our own", () => {
  const sealed = sealer(KEY_7, 0x0a0b0c0d).seal(PAYLOAD);
  assert.deepEqual(new DatagramOpener(AEAD, RING_7, () => NOW_US, 0x0a0b0c0d).open(sealed), {
    kind: "replay",
    problem: "sender 0a0b0c0d is this daemon",
  });
  assert.deepEqual(
    new DatagramOpener(AEAD, RING_7, () => NOW_US, 0x0a0b0c0e).open(sealed),
    PAYLOAD,
  );
});

Deno.test("warmUpSealing() seals and opens under a throwaway key", () => {
  assert.equal(warmUpSealing(AEAD, 0), true);
  assert.equal(warmUpSealing(AEAD, 32768), true);
});

Deno.test('what is sealed in one "auth cluster" does not open in another with the same key', () => {
  const name = (text: string) => new TextEncoder().encode(text);
  const sealed = new DatagramSealer(AEAD, KEY_7, 1, () => NOW_US, name("east")).seal(PAYLOAD);
  const east = new DatagramOpener(AEAD, RING_7, () => NOW_US, null, "sync", Infinity, name("east"));
  const west = new DatagramOpener(AEAD, RING_7, () => NOW_US, null, "sync", Infinity, name("west"));
  assert.deepEqual(west.open(sealed), {
    kind: "auth",
    problem: "bad authentication tag (key id 7)",
  });
  assert.equal(isRefusal(opener().open(sealed)), true, "nor where no cluster is named");
  assert.deepEqual(east.open(sealed), PAYLOAD);
});
