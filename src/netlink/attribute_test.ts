import assert from "node:assert/strict";
import {
  AttributeDecodeError,
  AttributeDecoder,
  AttributeEncoder,
  NLA_F_NESTED,
  nlaAlign,
} from "./attribute.ts";
import { NATIVE_LITTLE_ENDIAN } from "./native_endian.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("nlaAlign() rounds up to 4", () => {
  const cases: [number, number][] = [[0, 0], [4, 4], [5, 8], [6, 8], [7, 8], [8, 8], [11, 12]];
  for (const [length, aligned] of cases) assert.equal(nlaAlign(length), aligned, `${length}`);
});

Deno.test("AttributeEncoder writes each kind of value, padded to 4", () => {
  const cases: { name: string; build: (ae: AttributeEncoder) => void; expected: number[] }[] = [
    {
      name: "u8",
      build: (ae) => ae.uint8(5, 0xab),
      // deno-fmt-ignore
      expected: [
        0x05, 0x00, 0x05, 0x00, // nla_len 5, nla_type 5
        0xab, // value
        0x00, 0x00, 0x00, // padding
      ],
    },
    {
      name: "u16",
      build: (ae) => ae.uint16(1, 0x1234),
      // deno-fmt-ignore
      expected: [
        0x06, 0x00, 0x01, 0x00, // nla_len 6, nla_type 1
        0x34, 0x12, // value 0x1234, host order
        0x00, 0x00, // padding
      ],
    },
    {
      name: "u32",
      build: (ae) => ae.uint32(3, 0xdeadbeef),
      // deno-fmt-ignore
      expected: [
        0x08, 0x00, 0x03, 0x00, // nla_len 8, nla_type 3
        0xef, 0xbe, 0xad, 0xde, // value 0xdeadbeef, host order
      ],
    },
    {
      name: "string: NUL added, then padding",
      build: (ae) => ae.string(2, "nlctrl"),
      // deno-fmt-ignore
      expected: [
        0x0b, 0x00, 0x02, 0x00, // nla_len 11, nla_type 2
        0x6e, 0x6c, 0x63, 0x74, 0x72, 0x6c, 0x00, // "nlctrl\0"
        0x00, // padding
      ],
    },
    {
      name: "string whose NUL ends on the boundary",
      build: (ae) => ae.string(2, "abc"),
      // deno-fmt-ignore
      expected: [
        0x08, 0x00, 0x02, 0x00, // nla_len 8, nla_type 2
        0x61, 0x62, 0x63, 0x00, // "abc\0", no padding
      ],
    },
    {
      name: "flag: no payload",
      build: (ae) => ae.flag(9),
      // deno-fmt-ignore
      expected: [
        0x04, 0x00, 0x09, 0x00, // nla_len 4, nla_type 9
      ],
    },
    {
      name: "raw bytes",
      build: (ae) => ae.bytes(1, Uint8Array.of(192, 0, 2, 1, 7)),
      // deno-fmt-ignore
      expected: [
        0x09, 0x00, 0x01, 0x00, // nla_len 9, nla_type 1
        0xc0, 0x00, 0x02, 0x01, 0x07, // bytes as given
        0x00, 0x00, 0x00, // padding
      ],
    },
    {
      name: "nested, marked NLA_F_NESTED; inner padding counted in the outer length",
      build: (ae) =>
        ae.nested(2, (globals) => {
          globals.uint8(27, 1);
          globals.uint32(29, 2000);
        }),
      // deno-fmt-ignore
      expected: [
        0x14, 0x00, 0x02, 0x80, // nla_len 20, nla_type 2 | NLA_F_NESTED
        0x05, 0x00, 0x1b, 0x00, //   nla_len 5, nla_type 27
        0x01, 0x00, 0x00, 0x00, //   value 1, padding
        0x08, 0x00, 0x1d, 0x00, //   nla_len 8, nla_type 29
        0xd0, 0x07, 0x00, 0x00, //   value 2000
      ],
    },
    {
      name: "nested without the mark",
      build: (ae) => ae.nested(7, (groups) => groups.flag(1), false),
      // deno-fmt-ignore
      expected: [
        0x08, 0x00, 0x07, 0x00, // nla_len 8, nla_type 7
        0x04, 0x00, 0x01, 0x00, //   nla_len 4, nla_type 1
      ],
    },
    {
      name: "several in a run",
      build: (ae) => {
        ae.uint8(1, 0x11);
        ae.uint16(2, 0x2222);
        ae.flag(3);
      },
      // deno-fmt-ignore
      expected: [
        0x05, 0x00, 0x01, 0x00, 0x11, 0x00, 0x00, 0x00, // u8 0x11, padded
        0x06, 0x00, 0x02, 0x00, 0x22, 0x22, 0x00, 0x00, // u16 0x2222, padded
        0x04, 0x00, 0x03, 0x00, // flag
      ],
    },
  ];
  for (const { name, build, expected } of cases) {
    const ae = new AttributeEncoder();
    build(ae);
    assert.equal(ae.length, expected.length, name);
    assert.deepEqual(ae.encode(), Uint8Array.from(expected), name);
  }
});

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
