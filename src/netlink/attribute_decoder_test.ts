import assert from "node:assert/strict";
import { NLA_F_NESTED } from "./attribute.ts";
import { AttributeCursor, AttributeDecodeError, AttributeDecoder } from "./attribute_decoder.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("AttributeDecoder reads back each kind of value", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x05, 0x00, 0x05, 0x00, 0xab, 0x00, 0x00, 0x00, // u8 type 5: 0xab
    0x06, 0x00, 0x01, 0x00, 0x34, 0x12, 0x00, 0x00, // u16 type 1: 0x1234
    0x08, 0x00, 0x03, 0x00, 0xef, 0xbe, 0xad, 0xde, // u32 type 3: 0xdeadbeef
    0x0b, 0x00, 0x02, 0x00, // string type 2, nla_len 11
    0x6e, 0x6c, 0x63, 0x74, 0x72, 0x6c, 0x00, 0x00, // "nlctrl\0", padding
    0x04, 0x00, 0x09, 0x00, // flag type 9
    0x14, 0x00, 0x02, 0x80, // nested type 2 | NLA_F_NESTED, nla_len 20
    0x05, 0x00, 0x1b, 0x00, 0x01, 0x00, 0x00, 0x00, //   u8 type 27: 1
    0x08, 0x00, 0x1d, 0x00, 0xd0, 0x07, 0x00, 0x00, //   u32 type 29: 2000
  ]);
  const ad = new AttributeDecoder(bytes);
  const seen: unknown[] = [];
  while (ad.next()) {
    switch (ad.type) {
      case 5:
        seen.push(["u8", ad.uint8()]);
        break;
      case 1:
        seen.push(["u16", ad.uint16()]);
        break;
      case 3:
        seen.push(["u32", ad.uint32()]);
        break;
      case 2:
        if (ad.markedNested) {
          const inner: unknown[] = [];
          ad.nested((nested) => {
            while (nested.next()) {
              inner.push(nested.type === 27 ? nested.uint8() : nested.uint32());
            }
          });
          seen.push(["nested", inner]);
        } else {
          seen.push(["string", ad.string(), ad.bytes().byteLength]);
        }
        break;
      case 9:
        seen.push(["flag", ad.bytes().byteLength, ad.markedNested]);
        break;
    }
  }
  assert.equal(ad.error, null);
  assert.deepEqual(seen, [
    ["u8", 0xab],
    ["u16", 0x1234],
    ["u32", 0xdeadbeef],
    ["string", "nlctrl", 7],
    ["flag", 0, false],
    ["nested", [1, 2000]],
  ]);
});

Deno.test("AttributeDecoder masks the flag bits off the type", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x04, 0x00, 0x07, 0xc0, // nla_type 7 | NLA_F_NESTED | NLA_F_NET_BYTEORDER
  ]);
  const ad = new AttributeDecoder(bytes);
  assert.ok(ad.next());
  assert.equal(ad.type, 7);
  assert.ok(ad.markedNested);
  assert.equal(NLA_F_NESTED, 0x8000);
});

Deno.test("AttributeDecoder accepts a last attribute without its padding", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x05, 0x00, 0x01, 0x00, 0x2a, // u8 type 1: 42, run ends here
  ]);
  const ad = new AttributeDecoder(bytes);
  assert.ok(ad.next());
  assert.equal(ad.uint8(), 42);
  assert.ok(!ad.next());
  assert.equal(ad.error, null);
});

Deno.test("AttributeDecoder string() stops at the first NUL, or takes it all", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x08, 0x00, 0x01, 0x00, 0x61, 0x00, 0x62, 0x00, // "a\0b\0"
    0x07, 0x00, 0x02, 0x00, 0x78, 0x79, 0x7a, 0x00, // "xyz", no NUL (then padding)
  ]);
  const ad = new AttributeDecoder(bytes);
  const strings: string[] = [];
  while (ad.next()) strings.push(ad.string());
  assert.deepEqual(strings, ["a", "xyz"]);
});

Deno.test("AttributeDecoder keeps the first error and stops", () => {
  const cases: {
    name: string;
    bytes: number[];
    read: (ad: AttributeDecoder) => number;
    values: number[];
    error: RegExp;
  }[] = [
    {
      name: "a bad length mid-run",
      // deno-fmt-ignore
      bytes: [
        0x05, 0x00, 0x01, 0x00, 0x11, 0x00, 0x00, 0x00, // u8 type 1: 0x11
        0x64, 0x00, 0x02, 0x00, 0x22, 0x00, 0x00, 0x00, // nla_len 100: past the end
        0x05, 0x00, 0x03, 0x00, 0x33, 0x00, 0x00, 0x00, // u8 type 3: never reached
      ],
      read: (ad) => ad.uint8(),
      values: [0x11],
      error: /length 100 at offset 8 does not fit the remaining 16 bytes/,
    },
    {
      name: "nla_len below the header",
      // deno-fmt-ignore
      bytes: [
        0x02, 0x00, 0x01, 0x00, // nla_len 2
        0x05, 0x00, 0x03, 0x00, 0x33, 0x00, 0x00, 0x00,
      ],
      read: (ad) => ad.uint8(),
      values: [],
      error: /length 2 at offset 0/,
    },
    {
      name: "stray bytes after the last attribute",
      // deno-fmt-ignore
      bytes: [
        0x05, 0x00, 0x01, 0x00, 0x11, 0x00, 0x00, 0x00, // u8 type 1: 0x11
        0x05, 0x00, // half a header
      ],
      read: (ad) => ad.uint8(),
      values: [0x11],
      error: /2 trailing bytes at offset 8/,
    },
    {
      name: "a u16 read on a 3-byte payload",
      // deno-fmt-ignore
      bytes: [
        0x07, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x00, // type 1, 3 bytes
        0x06, 0x00, 0x01, 0x00, 0x34, 0x12, 0x00, 0x00, // u16 type 1: never reached
      ],
      read: (ad) => ad.uint16(),
      values: [0], // the getter's zero value
      error: /attribute 1 should be a u16 \(2 bytes\), has 3/,
    },
    {
      name: "a u32 read on a u8",
      // deno-fmt-ignore
      bytes: [
        0x05, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, // u8 type 4
      ],
      read: (ad) => ad.uint32(),
      values: [0],
      error: /attribute 4 should be a u32 \(4 bytes\), has 1/,
    },
  ];
  for (const { name, bytes, read, values, error } of cases) {
    const ad = new AttributeDecoder(Uint8Array.from(bytes));
    const got: number[] = [];
    while (ad.next()) got.push(read(ad));
    assert.deepEqual(got, values, name);
    const first = ad.error;
    assert.ok(first instanceof AttributeDecodeError, name);
    assert.match(first.message, /^Malformed netlink attribute: /, name);
    assert.match(first.message, error, name);
    // Later calls and later problems do not replace it.
    assert.equal(ad.next(), false, name);
    ad.fail("a later problem");
    assert.equal(ad.uint16(), 0, name);
    assert.equal(ad.error, first, name);
  }
});

Deno.test("AttributeDecoder fail() records a caller's problem", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x05, 0x00, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, // u8 type 1: 9
    0x05, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, // u8 type 1: 8
  ]);
  const ad = new AttributeDecoder(bytes);
  assert.ok(ad.next());
  ad.fail(`value ${ad.uint8()} is out of range`);
  assert.equal(ad.next(), false);
  assert.equal(ad.error?.message, "Malformed netlink attribute: value 9 is out of range");
});

Deno.test("AttributeDecoder nested() passes an inner error up", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x10, 0x00, 0x07, 0x80, // nested type 7, nla_len 16
    0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, //   type 1, 2 bytes
    0x0c, 0x00, 0x02, 0x00, //   nla_len 12: past the 4 bytes left
    0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, // u8 type 1: never reached
  ]);
  const ad = new AttributeDecoder(bytes);
  assert.ok(ad.next());
  let innerCount = 0;
  ad.nested((inner) => {
    while (inner.next()) innerCount++;
  });
  assert.equal(innerCount, 1);
  assert.match(ad.error?.message ?? "", /length 12 at offset 8 does not fit the remaining 4 bytes/);
  assert.equal(ad.next(), false);
});

Deno.test("AttributeDecoder on an empty run has nothing and no error", () => {
  const ad = new AttributeDecoder(new Uint8Array(0));
  assert.equal(ad.next(), false);
  assert.equal(ad.error, null);
});

Deno.test("AttributeDecoder reads a view at an offset into a larger buffer", () => {
  // deno-fmt-ignore
  const buffer = Uint8Array.from([
    0xff, 0xff, 0xff, // unrelated bytes
    0x06, 0x00, 0x02, 0x00, 0xcd, 0xab, 0x00, 0x00, // u16 type 2: 0xabcd
  ]);
  const ad = new AttributeDecoder(buffer.subarray(3));
  assert.ok(ad.next());
  assert.equal(ad.type, 2);
  assert.equal(ad.uint16(), 0xabcd);
  assert.equal(ad.bytes().byteOffset, 7);
});

Deno.test("AttributeCursor walks a run in place: types, flags, offsets, payloads", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0xff, 0xff, // not part of the run
    0x05, 0x00, 0x05, 0x00, 0xab, 0x00, 0x00, 0x00, // type 5: 0xab
    0x06, 0x00, 0x01, 0x80, 0x34, 0x12, 0x00, 0x00, // type 1 | NLA_F_NESTED: 0x34 0x12
    0x08, 0x00, 0x03, 0x00, 0xef, 0xbe, 0xad, 0xde, // type 3: 0xef 0xbe 0xad 0xde
  ]);
  const cursor = new AttributeCursor(bytes, 2);
  const seen: unknown[] = [];
  while (cursor.next()) {
    seen.push([
      cursor.offset,
      cursor.length,
      cursor.type,
      cursor.markedNested,
      cursor.payloadStart,
      cursor.payloadEnd,
      cursor.payloadLength,
      cursor.nextOffset,
      [...cursor.payload()],
    ]);
  }
  assert.deepEqual(seen, [
    [2, 5, 5, false, 6, 7, 1, 10, [0xab]],
    [10, 6, 1, true, 14, 16, 2, 18, [0x34, 0x12]],
    [18, 8, 3, false, 22, 26, 4, 26, [0xef, 0xbe, 0xad, 0xde]],
  ]);
  assert.deepEqual([cursor.malformed, cursor.offset, cursor.remaining], [false, 26, 0]);
});

Deno.test("AttributeCursor stops where a header does not fit, and says why", () => {
  const cases: { bytes: number[]; offset: number; length: number; remaining: number }[] = [
    // Three bytes cannot hold a header.
    {
      bytes: [0x05, 0x00, 0x01, 0x00, 0x07, 0, 0, 0, 0x04, 0x00, 0x02],
      offset: 8,
      length: 0,
      remaining: 3,
    },
    // nla_len 3 is shorter than the header.
    { bytes: [0x03, 0x00, 0x01, 0x00], offset: 0, length: 3, remaining: 4 },
    // nla_len 12 is longer than the 8 bytes left.
    { bytes: [0x0c, 0x00, 0x01, 0x00, 0, 0, 0, 0], offset: 0, length: 12, remaining: 8 },
  ];
  for (const { bytes, offset, length, remaining } of cases) {
    const cursor = new AttributeCursor(Uint8Array.from(bytes));
    while (cursor.next());
    assert.deepEqual(
      [cursor.malformed, cursor.offset, cursor.length, cursor.remaining],
      [true, offset, length, remaining],
      `${bytes}`,
    );
    assert.equal(cursor.next(), false, "it stays stopped");
  }
});

Deno.test("AttributeCursor within() walks the current payload; over() starts over", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x0c, 0x00, 0x01, 0x80, // nested type 1, nla_len 12
    0x05, 0x00, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x00, //   type 2: 10
    0x05, 0x00, 0x03, 0x00, 0x0b, // type 3: 11, the run's last, unpadded
  ]);
  const outer = new AttributeCursor(bytes);
  const inner = new AttributeCursor();
  const seen: number[] = [];
  while (outer.next()) {
    seen.push(outer.type);
    if (outer.markedNested) {
      for (inner.within(outer); inner.next();) seen.push(inner.type, ...inner.payload());
      assert.deepEqual([inner.malformed, inner.offset, inner.remaining], [false, 12, 0]);
    }
  }
  assert.deepEqual(seen, [1, 2, 10, 3]);
  assert.deepEqual([outer.malformed, outer.offset, outer.remaining], [false, 17, 0]);
  outer.over(bytes, 12);
  assert.equal(outer.next(), true);
  assert.deepEqual([outer.type, [...outer.payload()]], [3, [11]]);
  assert.deepEqual([...outer.attribute()], [0x05, 0x00, 0x03, 0x00, 0x0b]);
});
