import assert from "node:assert/strict";
import { formatIPv6, parseIPv4, parseIPv6 } from "../net/ip.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import {
  convertCheckedSessions,
  convertSessions,
  embedIPv4,
  type Ipv6Prefix,
  SessionConversionError,
} from "./session_convert.ts";
import { SessionDecodeError, type SessionEncoding } from "./session.ts";
import { concat } from "../../tests/support/fake_jool.ts";
import { SAMPLE_ENTRIES } from "../../tests/support/session_entries.ts";

// The nested encoding is in host byte order; its literal below is little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

/** The instances' pool6 in these tests. */
const POOL6: Ipv6Prefix = { address: parseIPv6("64:ff9b::")!, length: 96 };

/** A TCP, a UDP and an ICMP session in `encoding`, as its kernel writes them. */
function threeSessions(encoding: SessionEncoding): Uint8Array {
  const { tcp, udp, icmp } = SAMPLE_ENTRIES[encoding];
  return concat([tcp, udp, icmp]);
}

const NESTED = threeSessions("nested-4.1.0");

const RAW48 = threeSessions("raw48-4.1.12");

const RAW36 = threeSessions("raw36-4.1.13");

const BYTES: Record<SessionEncoding, Uint8Array> = {
  "nested-4.1.0": NESTED,
  "raw48-4.1.12": RAW48,
  "raw36-4.1.13": RAW36,
};
const ENCODINGS = Object.keys(BYTES) as SessionEncoding[];

Deno.test("convertSessions() gives, for every pair of encodings, what the other kernel writes", () => {
  for (const from of ENCODINGS) {
    for (const to of ENCODINGS) {
      assert.deepEqual(
        convertSessions(BYTES[from], from, to, POOL6),
        BYTES[to],
        `${from} to ${to}`,
      );
    }
  }
});

Deno.test("convertCheckedSessions(), for payloads the filter passed, gives the same bytes", () => {
  for (const from of ENCODINGS) {
    for (const to of ENCODINGS) {
      assert.deepEqual(
        convertCheckedSessions(BYTES[from], from, to, POOL6),
        convertSessions(BYTES[from], from, to, POOL6),
        `${from} to ${to}`,
      );
    }
  }
});

Deno.test("convertSessions() returns the payload itself for the same encoding", () => {
  for (const encoding of ENCODINGS) {
    assert.equal(convertSessions(BYTES[encoding], encoding, encoding, null), BYTES[encoding]);
  }
});

Deno.test("convertSessions() needs the local pool6 only to build dst6 from raw36", () => {
  assert.deepEqual(convertSessions(NESTED, "nested-4.1.0", "raw36-4.1.13", null), RAW36);
  assert.deepEqual(convertSessions(RAW48, "raw48-4.1.12", "raw36-4.1.13", null), RAW36);
  assert.deepEqual(convertSessions(RAW48, "raw48-4.1.12", "nested-4.1.0", null), NESTED);
  assert.deepEqual(convertSessions(NESTED, "nested-4.1.0", "raw48-4.1.12", null), RAW48);
  for (const to of ["nested-4.1.0", "raw48-4.1.12"] as const) {
    assert.throws(
      () => convertSessions(RAW36, "raw36-4.1.13", to, null),
      (error) =>
        error instanceof SessionConversionError &&
        error.message ===
          `Cannot convert session entries: ${to} needs dst6, which raw36-4.1.13 does not carry, ` +
            "and the local pool6 prefix is unknown",
    );
  }
  // An empty batch needs no dst6.
  assert.deepEqual(
    convertSessions(new Uint8Array(0), "raw36-4.1.13", "nested-4.1.0", null),
    new Uint8Array(0),
  );
});

Deno.test("convertSessions() builds dst6 from a pool6 other than /96 as the kernel does", () => {
  const pool6 = { address: parseIPv6("2001:db8:64::")!, length: 64 };
  const raw48 = convertSessions(RAW36, "raw36-4.1.13", "raw48-4.1.12", pool6);
  // The TCP session's dst6: 2001:db8:64:0 then u octet, 203.0.113.9, 0.
  assert.equal(formatIPv6(raw48.subarray(4 + 16, 4 + 32)), "2001:db8:64:0:cb:71:900:0");
});

Deno.test("convertSessions() refuses a payload that is not valid in its encoding", () => {
  assert.throws(
    () => convertSessions(RAW36, "nested-4.1.0", "raw36-4.1.13", POOL6),
    SessionDecodeError,
  );
  assert.throws(
    () => convertSessions(NESTED.subarray(0, 139), "nested-4.1.0", "raw36-4.1.13", POOL6),
    SessionDecodeError,
  );
});

Deno.test("embedIPv4() follows RFC 6052's examples", () => {
  const ipv4 = parseIPv4("192.0.2.33")!;
  const cases: [string, number, string][] = [
    ["2001:db8::", 32, "2001:db8:c000:221::"],
    ["2001:db8:100::", 40, "2001:db8:1c0:2:21::"],
    ["2001:db8:122::", 48, "2001:db8:122:c000:2:2100::"],
    ["2001:db8:122:300::", 56, "2001:db8:122:3c0:0:221::"],
    ["2001:db8:122:344::", 64, "2001:db8:122:344:c0:2:2100:0"],
    ["2001:db8:122:344::", 96, "2001:db8:122:344::c000:221"],
    ["64:ff9b::", 96, "64:ff9b::c000:221"],
  ];
  for (const [prefix, length, expected] of cases) {
    assert.equal(
      formatIPv6(embedIPv4({ address: parseIPv6(prefix)!, length }, ipv4)),
      expected,
      `${prefix}/${length}`,
    );
  }
  assert.throws(
    () => embedIPv4({ address: parseIPv6("2001:db8::")!, length: 80 }, ipv4),
    /Prefix length 80 is not one of RFC 6052's/,
  );
});
