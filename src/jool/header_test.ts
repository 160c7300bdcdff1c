import assert from "node:assert/strict";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import {
  decodeJoolHeader,
  encodeJoolHeader,
  formatVersion,
  JOOL_HEADER_LENGTH,
  JOOL_VERSION,
  JoolDecodeError,
  type JoolHeader,
  joolVersion,
  parseInstanceName,
  parseVersion,
  putJoolHeader,
  sameInstance,
  validateInstanceName,
  versionCompatible,
} from "./header.ts";
import { JoolHeaderFlag, TranslatorType } from "./protocol.ts";

// Consistency with the netlink tests; the Jool header itself is big-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("JOOL_VERSION is 4.1.14.0", () => {
  assert.equal(JOOL_VERSION, 0x04010e00);
  assert.equal(formatVersion(JOOL_VERSION), "4.1.14.0");
  assert.equal(joolVersion(4, 1, 9), 0x04010900);
  assert.equal(joolVersion(255, 255, 255, 255), 0xffffffff);
});

Deno.test("parseVersion() reads /sys/module/jool/version", () => {
  const cases: [string, number | null][] = [
    ["4.1.9.0\n", 0x04010900],
    ["4.1.14", 0x04010e00],
    [" 4.1.12.3 ", 0x04010c03],
    ["4.1", null],
    ["4.1.x", null],
    ["4.1.256", null],
    ["v4.1.9", null],
    ["", null],
  ];
  for (const [text, version] of cases) assert.equal(parseVersion(text), version, text);
});

Deno.test("versionCompatible() compares major and minor only", () => {
  const cases: [number, number, boolean][] = [
    [joolVersion(4, 1, 14, 0), joolVersion(4, 1, 9, 0), true],
    [joolVersion(4, 1, 14, 0), joolVersion(4, 1, 14, 7), true],
    [joolVersion(4, 1, 0), joolVersion(4, 1, 255, 255), true],
    [joolVersion(4, 1, 14), joolVersion(4, 2, 14), false],
    [joolVersion(4, 1, 14), joolVersion(3, 1, 14), false],
    [joolVersion(255, 1, 0), joolVersion(255, 1, 3), true], // no sign trouble
    [joolVersion(255, 1, 0), joolVersion(127, 1, 0), false],
  ];
  for (const [a, b, compatible] of cases) {
    assert.equal(versionCompatible(a, b), compatible, `${formatVersion(a)} ${formatVersion(b)}`);
    assert.equal(versionCompatible(b, a), compatible);
  }
});

Deno.test("encodeJoolHeader() and decodeJoolHeader() agree with struct joolnlhdr", () => {
  const cases: { name: string; header: JoolHeader; bytes: number[] }[] = [
    {
      name: "NAT64 request for 'default'",
      header: { version: JOOL_VERSION, xt: TranslatorType.NAT64, flags: 0, instance: "default" },
      // deno-fmt-ignore
      bytes: [
        0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
        0x04, 0x01, 0x0e, 0x00, // version 4.1.14.0, big-endian
        0x02, // xt NAT64
        0x00, // flags
        0x00, 0x00, // reserved
        0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // iname "default\0"
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   NUL padding
      ],
    },
    {
      name: "error report of 4.1.9 for a 15-character name",
      header: {
        version: joolVersion(4, 1, 9),
        xt: TranslatorType.NAT64,
        flags: JoolHeaderFlag.ERROR | JoolHeaderFlag.M,
        instance: "abcdefghijklmno",
      },
      // deno-fmt-ignore
      bytes: [
        0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
        0x04, 0x01, 0x09, 0x00, // version 4.1.9.0
        0x02, // xt NAT64
        0x09, // flags ERROR|M
        0x00, 0x00, // reserved
        0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, // iname "abcdefgh
        0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x00, //   ijklmno\0"
      ],
    },
    {
      name: "SIIT, empty name (the kernel reads it as 'default')",
      header: {
        version: joolVersion(4, 1, 12, 1),
        xt: TranslatorType.SIIT,
        flags: 6,
        instance: "",
      },
      // deno-fmt-ignore
      bytes: [
        0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
        0x04, 0x01, 0x0c, 0x01, // version 4.1.12.1
        0x01, // xt SIIT
        0x06, // flags FORCE|QUICK
        0x00, 0x00, // reserved
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // iname ""
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      ],
    },
  ];
  for (const { name, header, bytes } of cases) {
    assert.deepEqual(encodeJoolHeader(header), Uint8Array.from(bytes), name);
    assert.deepEqual(decodeJoolHeader(Uint8Array.from(bytes)), header, name);
  }
});

Deno.test("putJoolHeader() writes at an offset and clears what was there", () => {
  const target = new Uint8Array(4 + JOOL_HEADER_LENGTH + 4).fill(0xee);
  putJoolHeader(target, 4, { version: JOOL_VERSION, xt: 2, flags: 0, instance: "a" });
  // deno-fmt-ignore
  assert.deepEqual(target, Uint8Array.from([
    0xee, 0xee, 0xee, 0xee, // untouched
    0x6a, 0x6f, 0x6f, 0x6c, 0x04, 0x01, 0x0e, 0x00, 0x02, 0x00, 0x00, 0x00, // header
    0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // iname "a", zeroed
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xee, 0xee, 0xee, 0xee, // untouched
  ]));
});

Deno.test("decodeJoolHeader() ignores reserved bytes and what follows the NUL", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x6a, 0x6f, 0x6f, 0x6c, 0x04, 0x01, 0x0e, 0x00, 0x02, 0x00, // magic .. flags
    0xab, 0xcd, // reserved, not zero
    0x61, 0x6c, 0x70, 0x68, 0x61, 0x00, 0x7a, 0x7a, // "alpha\0" then junk
    0x7a, 0x7a, 0x7a, 0x7a, 0x7a, 0x7a, 0x7a, 0x7a,
    0x01, 0x02, // attributes follow
  ]);
  assert.deepEqual(decodeJoolHeader(bytes), {
    version: JOOL_VERSION,
    xt: 2,
    flags: 0,
    instance: "alpha",
  });
});

Deno.test("decodeJoolHeader() rejects short, foreign and unterminated headers", () => {
  const good = encodeJoolHeader({ version: JOOL_VERSION, xt: 2, flags: 0, instance: "default" });
  const cases: { name: string; bytes: Uint8Array; message: string }[] = [
    {
      name: "too short",
      bytes: good.subarray(0, 27),
      message: "Malformed Jool message: 27 bytes are too few for a Jool header (28)",
    },
    { name: "empty", bytes: new Uint8Array(0), message: "0 bytes are too few" },
    {
      name: "wrong magic",
      bytes: Uint8Array.from([0x4a, ...good.subarray(1)]),
      message: 'Malformed Jool message: magic is 0x4a6f6f6c, not "jool"',
    },
    {
      name: "no NUL in iname",
      bytes: Uint8Array.from([...good.subarray(0, 12), ...new Array(16).fill(0x41)]),
      message: "Malformed Jool message: instance name is not NUL-terminated",
    },
  ];
  for (const { name, bytes, message } of cases) {
    assert.throws(
      () => decodeJoolHeader(bytes),
      (error) => error instanceof JoolDecodeError && error.message.includes(message),
      name,
    );
  }
});

Deno.test("parseInstanceName(): 1 to 15 printable ASCII characters, for files and flags", () => {
  const cases: [string, string | null][] = [
    ["default", null],
    ["a b~", null],
    ["abcdefghijklmno", null],
    ["", "must not be empty"],
    ["abcdefghijklmnop", "must be at most 15 characters long, got 16 ('x')"],
    ["tab\there", "must be printable ASCII characters only, got 'x'"],
    ["del\x7f", "must be printable ASCII characters only, got 'x'"],
    ["caf\u00e9", "must be printable ASCII characters only, got 'x'"],
  ];
  for (const [name, problem] of cases) {
    assert.deepEqual(parseInstanceName(name, "'x'"), problem === null ? name : { problem }, name);
  }
});

Deno.test("validateInstanceName() follows the kernel's iname_validate()", () => {
  const cases: [string, RegExp | null][] = [
    ["default", null],
    ["", null],
    ["abcdefghijklmno", null], // 15: the most that fits with the NUL
    ["abcdefghijklmnop", /longer than 15 characters/],
    ["tab\there", /printable ASCII/],
    ["caf\u00e9", /printable ASCII/],
    ["a b~", null],
  ];
  for (const [name, problem] of cases) {
    const result = validateInstanceName(name);
    if (problem === null) assert.equal(result, null, name);
    else assert.match(result ?? "", problem, name);
  }
  assert.throws(
    () => encodeJoolHeader({ version: JOOL_VERSION, xt: 2, flags: 0, instance: "x".repeat(16) }),
    (error) =>
      error instanceof RangeError &&
      error.message.startsWith("Cannot encode a Jool header: instance name"),
  );
});

Deno.test("sameInstance() is strcasecmp() == 0", () => {
  const cases: [string, string, boolean][] = [
    ["default", "default", true],
    ["default", "DEFAULT", true],
    ["Nat64-A", "nat64-a", true],
    ["default", "default2", false],
    ["a", "b", false],
    ["", "", true],
    ["[", "{", false], // 0x5b and 0x7b: not letters
    ["@", "`", false], // 0x40 and 0x60
    ["\u00c9", "\u00e9", false], // non-ASCII letters are not folded
  ];
  for (const [a, b, same] of cases) {
    assert.equal(sameInstance(a, b), same, `${a} ${b}`);
    assert.equal(sameInstance(b, a), same, `${b} ${a}`);
  }
});
