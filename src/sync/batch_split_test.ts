import assert from "node:assert/strict";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import { SPLIT_ABOVE_BYTES, SPLIT_DATAGRAM_BYTES, splitBatch } from "./batch_split.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

/** `count` entries of `length` bytes (a 4.1.9 session entry is 140), each filled with its index. */
function entries(count: number, length: number): Uint8Array {
  const bytes = new Uint8Array(count * length);
  for (let i = 0; i < count; i++) {
    bytes.fill(i & 0xff, i * length, (i + 1) * length);
    bytes.set([length & 0xff, length >> 8, 0x01, 0x80], i * length); // nla_len, JNLAL_ENTRY | NESTED
  }
  return bytes;
}

Deno.test("splitBatch() sends what the C joold can read as is, and splits the rest", () => {
  const cases: { name: string; payload: Uint8Array; sizes: number[] }[] = [
    { name: "empty", payload: new Uint8Array(0), sizes: [0] },
    { name: "11 sessions: a default 4.1.9 batch", payload: entries(11, 140), sizes: [1540] },
    { name: "14 sessions: 1960 bytes", payload: entries(14, 140), sizes: [1960] },
    { name: "15 sessions: 2100 bytes", payload: entries(15, 140), sizes: [1400, 700] },
    {
      name: "114 sessions: a 16 KiB batch",
      payload: entries(114, 140),
      sizes: [...Array(11).fill(1400), 560],
    },
    { name: "raw36 entries of 40 bytes", payload: entries(60, 40), sizes: [1440, 960] },
  ];
  for (const { name, payload, sizes } of cases) {
    const parts = splitBatch(payload);
    assert.deepEqual(parts.map((part) => part.byteLength), sizes, name);
    // Views, in order, covering the payload exactly.
    let offset = 0;
    for (const part of parts) {
      assert.equal(part.buffer, payload.buffer, name);
      assert.equal(part.byteOffset, payload.byteOffset + offset, name);
      offset += part.byteLength;
    }
    assert.equal(offset, payload.byteLength, name);
  }
  assert.equal(SPLIT_ABOVE_BYTES, 2048);
  assert.equal(SPLIT_DATAGRAM_BYTES, 1452);
});

Deno.test("splitBatch() cuts only between whole entries", () => {
  // deno-fmt-ignore
  const payload = Uint8Array.from([
    0x08, 0x00, 0x01, 0x00, 0xa1, 0xa1, 0xa1, 0xa1, // entry of 8
    0x05, 0x00, 0x01, 0x00, 0xa2, 0x00, 0x00, 0x00, // entry of 5, padded to 8
    0x10, 0x00, 0x01, 0x00, 0xa3, 0xa3, 0xa3, 0xa3, // entry of 16: longer than the limit
    0xa3, 0xa3, 0xa3, 0xa3, 0xa3, 0xa3, 0xa3, 0xa3,
    0x08, 0x00, 0x01, 0x00, 0xa4, 0xa4, 0xa4, 0xa4, // entry of 8
  ]);
  const parts = splitBatch(payload, 8, 12).map((part) => [...part]);
  assert.deepEqual(parts, [
    [...payload.subarray(0, 8)],
    [...payload.subarray(8, 16)],
    [...payload.subarray(16, 32)], // alone
    [...payload.subarray(32, 40)],
  ]);
  assert.deepEqual(splitBatch(payload, 8, 16).map((part) => part.byteLength), [16, 16, 8]);
});

Deno.test("splitBatch() sends the rest whole from a malformed entry on", () => {
  // deno-fmt-ignore
  const payload = Uint8Array.from([
    0x08, 0x00, 0x01, 0x00, 0xa1, 0xa1, 0xa1, 0xa1, // entry of 8
    0x08, 0x00, 0x01, 0x00, 0xa2, 0xa2, 0xa2, 0xa2, // entry of 8
    0x02, 0x00, 0x01, 0x00, 0xee, 0xee, 0xee, 0xee, // nla_len 2: shorter than a header
    0x08, 0x00, 0x01, 0x00, 0xa4, 0xa4, 0xa4, 0xa4,
  ]);
  assert.deepEqual(splitBatch(payload, 8, 8).map((part) => part.byteLength), [8, 8, 16]);
  assert.deepEqual(splitBatch(payload, 8, 16).map((part) => part.byteLength), [16, 16]);
  const overlong = payload.slice(0, 12); // the second entry claims 8 bytes, 4 are left
  assert.deepEqual(splitBatch(overlong, 8, 8).map((part) => part.byteLength), [8, 4]);
  const stub = payload.slice(0, 10); // 2 trailing bytes: no room for a header
  assert.deepEqual(splitBatch(stub, 8, 8).map((part) => part.byteLength), [8, 2]);
});
