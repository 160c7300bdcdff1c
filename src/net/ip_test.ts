import assert from "node:assert/strict";
import {
  formatIp,
  formatIPv4,
  formatIPv6,
  formatIPv6AsInetNtop,
  ipProblem,
  isMulticast,
  parseIp,
  parseIPv4,
  parseIPv6,
} from "./ip.ts";

Deno.test("parseIp(): an address of either family, the strict forms only", () => {
  const cases: [string, string | null][] = [
    ["192.0.2.1", "192.0.2.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["2001:db8::1", "2001:db8::1"],
    ["::", "::"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["010.0.0.1", null],
    ["127.1", null],
    ["fe80::1%eth0", null],
    ["2001:db8::/32", null],
    ["localhost", null],
    ["", null],
  ];
  for (const [text, formatted] of cases) {
    const bytes = parseIp(text);
    assert.equal(bytes === null ? null : formatIp(bytes), formatted, text);
  }
  assert.equal(ipProblem("'x'"), "must be an IPv4 or IPv6 address, got 'x'");
});

/** Writes 16 bytes as eight 16-bit groups, the way RFC 4291 reads them. */
function v6(...groups: number[]): Uint8Array {
  assert.equal(groups.length, 8);
  return new Uint8Array(groups.flatMap((group) => [group >> 8, group & 0xff]));
}

Deno.test("parseIPv4 reads dotted quads", () => {
  const table: [string, number[]][] = [
    ["0.0.0.0", [0, 0, 0, 0]],
    ["192.0.2.1", [192, 0, 2, 1]],
    ["233.252.0.64", [233, 252, 0, 64]],
    ["255.255.255.255", [255, 255, 255, 255]],
    ["10.100.0.9", [10, 100, 0, 9]],
  ];
  for (const [text, bytes] of table) {
    assert.deepEqual(parseIPv4(text), new Uint8Array(bytes), text);
  }
});

Deno.test("parseIPv4 rejects everything else", () => {
  const table = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "127.1",
    "256.0.0.1",
    "1.2.3.1000",
    "01.2.3.4", // octal to inet_aton, an error to inet_pton
    "1.2.3.04",
    "1.2.3.-4",
    "1.2.3.+4",
    "1..3.4",
    "1.2.3.4.",
    ".1.2.3",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4\n",
    "0x1.2.3.4",
    "1.2.3.4/24",
    "a.b.c.d",
    "::1",
    "١.٢.٣.٤", // Arabic-Indic digits
  ];
  for (const text of table) assert.equal(parseIPv4(text), null, JSON.stringify(text));
});

Deno.test("parseIPv6 reads every RFC 4291 text form", () => {
  const table: [string, Uint8Array][] = [
    ["::", v6(0, 0, 0, 0, 0, 0, 0, 0)],
    ["::1", v6(0, 0, 0, 0, 0, 0, 0, 1)],
    ["1::", v6(1, 0, 0, 0, 0, 0, 0, 0)],
    ["0:0:0:0:0:0:0:0", v6(0, 0, 0, 0, 0, 0, 0, 0)],
    ["2001:db8:0:0:8:800:200c:417a", v6(0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a)],
    ["2001:DB8::8:800:200C:417A", v6(0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a)],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)],
    ["ff08::db8:64:64", v6(0xff08, 0, 0, 0, 0, 0xdb8, 0x64, 0x64)],
    ["ff01::101", v6(0xff01, 0, 0, 0, 0, 0, 0, 0x101)],
    ["1:2:3:4:5:6:7::", v6(1, 2, 3, 4, 5, 6, 7, 0)], // "::" for one group
    ["::2:3:4:5:6:7:8", v6(0, 2, 3, 4, 5, 6, 7, 8)],
    ["1:2:3::6:7:8", v6(1, 2, 3, 0, 0, 6, 7, 8)],
    ["::ffff:192.0.2.1", v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201)],
    ["::FFFF:129.144.52.38", v6(0, 0, 0, 0, 0, 0xffff, 0x8190, 0x3426)],
    ["::13.1.68.3", v6(0, 0, 0, 0, 0, 0, 0x0d01, 0x4403)],
    ["64:ff9b::192.0.2.33", v6(0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221)],
    ["0:0:0:0:0:0:13.1.68.3", v6(0, 0, 0, 0, 0, 0, 0x0d01, 0x4403)],
    ["1:2:3:4:5::1.2.3.4", v6(1, 2, 3, 4, 5, 0, 0x0102, 0x0304)],
  ];
  for (const [text, bytes] of table) assert.deepEqual(parseIPv6(text), bytes, text);
});

Deno.test("parseIPv6 rejects zone indexes, prefixes and garbage", () => {
  const table = [
    "",
    ":",
    ":::",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1::2::3",
    ":1::2",
    "1::2:",
    "1:2:3:4:5:6:7:",
    ":1:2:3:4:5:6:7",
    "12345::",
    "g::1",
    "fe80::1%eth0",
    "fe80::1%2",
    "ff02::1%",
    "2001:db8::/32",
    "[::1]",
    " ::1",
    "::1 ",
    "1.2.3.4",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "::1.2.3",
    "::256.1.1.1",
    "::01.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1:2:3:4:5:6:7::1.2.3.4",
    "0x1::",
    "+1::",
  ];
  for (const text of table) assert.equal(parseIPv6(text), null, JSON.stringify(text));
});

Deno.test("formatIPv4 writes dotted quads", () => {
  assert.equal(formatIPv4(new Uint8Array([192, 0, 2, 1])), "192.0.2.1");
  assert.equal(formatIPv4(new Uint8Array([0, 0, 0, 0])), "0.0.0.0");
  assert.throws(() => formatIPv4(new Uint8Array(16)), RangeError);
});

Deno.test("formatIPv6 writes the RFC 5952 canonical form", () => {
  const table: [Uint8Array, string][] = [
    [v6(0, 0, 0, 0, 0, 0, 0, 0), "::"],
    [v6(0, 0, 0, 0, 0, 0, 0, 1), "::1"],
    [v6(1, 0, 0, 0, 0, 0, 0, 0), "1::"],
    [v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), "2001:db8::1"], // 4.1: no leading zeros
    [v6(0x2001, 0xdb8, 0, 0, 0, 0, 2, 1), "2001:db8::2:1"], // 4.2.1: shortest
    [v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), "2001:db8:0:1:1:1:1:1"], // 4.2.2: lone zero
    [v6(0x2001, 0, 0, 1, 0, 0, 0, 1), "2001:0:0:1::1"], // 4.2.3: longest run
    [v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), "2001:db8::1:0:0:1"], // 4.2.3: first on a tie
    [
      v6(0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0xaaaa),
      "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa",
    ], // 4.3: lower case
    [v6(0xff08, 0, 0, 0, 0, 0xdb8, 0x64, 0x64), "ff08::db8:64:64"],
    [v6(1, 2, 3, 4, 5, 6, 7, 0), "1:2:3:4:5:6:7:0"],
    [v6(1, 0, 2, 0, 3, 0, 4, 0), "1:0:2:0:3:0:4:0"],
    [v6(0, 0, 1, 0, 0, 0, 0, 0), "0:0:1::"],
    [v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201), "::ffff:192.0.2.1"], // 5: IPv4-mapped
    [v6(0, 0, 0, 0, 0, 0, 0x0d01, 0x4403), "::d01:4403"], // deprecated IPv4-compatible
    [v6(0, 0, 0, 0, 0, 0xfffe, 0xc000, 0x0201), "::fffe:c000:201"],
    [v6(0, 0, 0, 0, 1, 0xffff, 0xc000, 0x0201), "::1:ffff:c000:201"],
  ];
  for (const [bytes, text] of table) {
    assert.equal(formatIPv6(bytes), text, text);
    assert.deepEqual(parseIPv6(text), bytes, `${text} reads back`);
  }
  assert.throws(() => formatIPv6(new Uint8Array(4)), RangeError);
});

Deno.test("isMulticast knows 224.0.0.0/4 and ff00::/8", () => {
  const table: [string, boolean][] = [
    ["224.0.0.0", true],
    ["224.0.0.1", true],
    ["233.252.0.64", true],
    ["239.255.255.255", true],
    ["223.255.255.255", false],
    ["240.0.0.0", false],
    ["192.0.2.1", false],
    ["255.255.255.255", false],
    ["ff00::", true],
    ["ff02::1", true],
    ["ff08::db8:64:64", true],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["fe80::1", false],
    ["2001:db8::1", false],
    ["::ffff:233.252.0.64", false],
    ["::", false],
  ];
  for (const [text, expected] of table) {
    const bytes = parseIPv4(text) ?? parseIPv6(text);
    assert.ok(bytes !== null, text);
    assert.equal(isMulticast(bytes), expected, text);
  }
  assert.throws(() => isMulticast(new Uint8Array(5)), RangeError);
});

Deno.test("formatIp(): 4 bytes as IPv4, 16 as IPv6", () => {
  assert.equal(formatIp(Uint8Array.of(192, 0, 2, 1)), "192.0.2.1");
  const v6 = new Uint8Array(16);
  v6[15] = 1;
  assert.equal(formatIp(v6), "::1");
});

Deno.test("formatIPv6AsInetNtop() writes what glibc's inet_ntop(3) writes", () => {
  // Expected values from Python's socket.inet_ntop (glibc) on Linux.
  const cases: [string, string][] = [
    ["::102:304", "::1.2.3.4"],
    ["::a00:1", "::10.0.0.1"],
    ["::1", "::1"],
    ["::ffff:102:304", "::ffff:1.2.3.4"],
    ["::ffff:0:0", "::ffff:0.0.0.0"],
    ["64:ff9b::c000:201", "64:ff9b::c000:201"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["0:0:0:0:0:1:0:0", "::1:0:0"],
    ["::", "::"],
  ];
  for (const [text, expected] of cases) {
    assert.equal(formatIPv6AsInetNtop(parseIPv6(text)!), expected, text);
  }
});
