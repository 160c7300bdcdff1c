import assert from "node:assert/strict";
import { AttributeEncoder, nlaAlign, putAttributeHeader } from "./attribute.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";

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

Deno.test("putAttributeHeader() writes nla_len and nla_type in host order at an offset", () => {
  const bytes = new Uint8Array(8);
  putAttributeHeader(new DataView(bytes.buffer), 2, 0x0105, 0x8003);
  assert.deepEqual([...bytes], [0, 0, 0x05, 0x01, 0x03, 0x80, 0, 0]);
});
