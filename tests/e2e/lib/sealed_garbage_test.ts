import assert from "node:assert/strict";
import { DatagramOpener, DatagramSealer, type KeyRing } from "../../../src/auth/sealed_datagram.ts";
import { loadChaCha20Poly1305 } from "../../../src/auth/chacha20_poly1305.ts";
import { sealedGarbage } from "./sealed_garbage.ts";

const AEAD = await loadChaCha20Poly1305();
const NOW_US = 1_800_000_000_000_000;
const key = { id: 7, secret: new Uint8Array(32).fill(9) };
const ring: KeyRing = { current: key, accepted: new Map([[key.id, key]]) };

Deno.test("sealedGarbage: the captured header's key id, a fresh counter, every datagram refused only by its tag", () => {
  const sealer = new DatagramSealer(AEAD, key, 0x01020304, () => NOW_US);
  const captured = sealer.seal(new Uint8Array(200).fill(1), "sync");
  const opener = new DatagramOpener(AEAD, ring, () => NOW_US + 1000);
  const make = sealedGarbage(captured, 1400);
  const senders = new Set<number>();
  for (let i = 0; i < 10; i++) {
    const datagram = make(i, NOW_US);
    assert.equal(datagram.byteLength, 1400);
    assert.deepEqual(datagram.subarray(0, 4), captured.subarray(0, 4), "magic, format, key id");
    const view = new DataView(datagram.buffer, datagram.byteOffset);
    senders.add(view.getUint32(4));
    assert.equal(view.getUint32(8) * 2 ** 32 + view.getUint32(12), NOW_US + i, "counter");
    const refusal = opener.open(datagram);
    assert.ok(!(refusal instanceof Uint8Array), `datagram ${i} opened`);
    assert.match(refusal.problem, /bad authentication tag \(key id 7\)/);
  }
  assert.ok(senders.has(0x01020304), "the captured sender's id");
  assert.ok(senders.size > 2, "fresh sender ids too");
  // The control: the captured datagram itself opens.
  assert.ok(opener.open(captured) instanceof Uint8Array);
});
