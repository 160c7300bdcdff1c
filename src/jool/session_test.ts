import assert from "node:assert/strict";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import { joolVersion } from "./header.ts";
import {
  ALL_SESSION_ENCODINGS,
  decodeSessions,
  encodeSessions,
  type Session,
  SESSION_ENCODINGS,
  SessionDecodeError,
  type SessionEncoding,
  sessionEncodingFor,
  sessionEntryLength,
  SessionValidator,
  validateSessions,
} from "./session.ts";
import { concat } from "../../tests/support/fake_jool.ts";
import { SAMPLE_ENTRIES, SAMPLE_SESSIONS } from "../../tests/support/session_entries.ts";

// The nested encoding is in host byte order; its literals below are little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

const ENCODINGS = ALL_SESSION_ENCODINGS;

Deno.test("sessionEncodingFor() follows the kernel's version", () => {
  const cases: [number, SessionEncoding][] = [
    [joolVersion(4, 1, 0), "nested-4.1.0"],
    [joolVersion(4, 1, 9), "nested-4.1.0"],
    [joolVersion(4, 1, 11, 5), "nested-4.1.0"],
    [joolVersion(4, 1, 12), "raw48-4.1.12"],
    [joolVersion(4, 1, 12, 9), "raw48-4.1.12"],
    [joolVersion(4, 1, 13), "raw36-4.1.13"],
    [joolVersion(4, 1, 14), "raw36-4.1.13"],
    [joolVersion(4, 1, 255, 255), "raw36-4.1.13"],
  ];
  for (const [version, encoding] of cases) assert.equal(sessionEncodingFor(version), encoding);
  for (const version of [joolVersion(4, 2, 0), joolVersion(3, 5, 8), joolVersion(5, 1, 0)]) {
    assert.throws(
      () => sessionEncodingFor(version),
      (error) => error instanceof RangeError && /^Unsupported Jool version: /.test(error.message),
    );
  }
});

Deno.test("each encoding in the table is what the kernel of its first revision writes", () => {
  const revisions = ENCODINGS.map((encoding) => SESSION_ENCODINGS[encoding].firstRevision);
  assert.equal(revisions[0], 0, "the oldest encoding starts at 4.1.0");
  for (const [i, encoding] of ENCODINGS.entries()) {
    if (i > 0) assert.ok(revisions[i] > revisions[i - 1], `${encoding}: oldest first`);
    assert.equal(sessionEncodingFor(joolVersion(4, 1, revisions[i])), encoding);
    assert.equal(sessionEncodingFor(joolVersion(4, 1, revisions[i], 255)), encoding);
  }
});

Deno.test("sessionEntryLength() counts the JNLAL_ENTRY header", () => {
  assert.equal(sessionEntryLength("nested-4.1.0"), 140);
  assert.equal(sessionEntryLength("raw48-4.1.12"), 52);
  assert.equal(sessionEntryLength("raw36-4.1.13"), 40);
});

/** A TCP and an ICMP session in `encoding`, as its kernel writes them. */
function twoSessions(encoding: SessionEncoding): Uint8Array {
  const { tcp, icmp } = SAMPLE_ENTRIES[encoding];
  return concat([tcp, icmp]);
}

/** The two sessions as a 4.1.9 kernel on Linux 5.2 or later writes them. */
const NESTED = twoSessions("nested-4.1.0");

const NESTED_SESSIONS: Session[] = [SAMPLE_SESSIONS.tcp, SAMPLE_SESSIONS.icmp];

/** The same two sessions as a 4.1.12 kernel writes them. */
const RAW48 = twoSessions("raw48-4.1.12");

/** The same two sessions as a 4.1.13+ kernel writes them (no dst6). */
const RAW36 = twoSessions("raw36-4.1.13");

/** Every encoding's annotated bytes and what they decode to: a new encoding needs its own. */
const SAMPLE_OF = {
  "nested-4.1.0": { bytes: NESTED, sessions: NESTED_SESSIONS },
  // 4.1.12 derives dst4 from dst6, which gives the same dst4 here.
  "raw48-4.1.12": { bytes: RAW48, sessions: NESTED_SESSIONS },
  "raw36-4.1.13": {
    bytes: RAW36,
    sessions: NESTED_SESSIONS.map(({ dst6: _, ...rest }) => rest),
  },
} satisfies Record<SessionEncoding, { bytes: Uint8Array; sessions: Session[] }>;
const SAMPLES = ENCODINGS.map((encoding) => ({ encoding, ...SAMPLE_OF[encoding] }));

Deno.test("decodeSessions() reads every encoding", () => {
  for (const { encoding, bytes, sessions } of SAMPLES) {
    assert.equal(validateSessions(bytes, encoding), null, encoding);
    assert.deepEqual(decodeSessions(bytes, encoding), { sessions }, encoding);
  }
});

Deno.test("encodeSessions() writes what the kernel writes", () => {
  for (const { encoding, bytes } of SAMPLES) {
    assert.deepEqual(encodeSessions(NESTED_SESSIONS, encoding), bytes, encoding);
  }
});

Deno.test("decodeSessions() accepts nested entries without NLA_F_NESTED (pre-5.2 kernels)", () => {
  const bytes = NESTED.slice();
  for (const offset of [0, 4, 36, 68, 88, 140, 144, 176, 208, 228]) {
    assert.equal(bytes[offset + 3], 0x80, `${offset}`);
    bytes[offset + 3] = 0x00;
  }
  assert.deepEqual(decodeSessions(bytes, "nested-4.1.0"), { sessions: NESTED_SESSIONS });
});

Deno.test("decodeSessions() takes nested fields in any order", () => {
  // deno-fmt-ignore
  const bytes = Uint8Array.from([
    0x8c, 0x00, 0x01, 0x00, // nla_len 140, JNLAL_ENTRY
    0x08, 0x00, 0x08, 0x00, 0x70, 0x17, 0x00, 0x00, //   EXPIRATION 6000
    0x05, 0x00, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00, //   TIMER 2
    0x05, 0x00, 0x06, 0x00, 0x02, 0x00, 0x00, 0x00, //   STATE 2
    0x05, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, //   PROTO TCP
    0x14, 0x00, 0x04, 0x00, //   nla_len 20, DST4: port before address
    0x06, 0x00, 0x02, 0x00, 0xbb, 0x01, 0x00, 0x00, //     PORT 443
    0x08, 0x00, 0x01, 0x00, 0xcb, 0x00, 0x71, 0x09, //     ADDR 203.0.113.9
    0x14, 0x00, 0x03, 0x00, //   nla_len 20, SRC4
    0x08, 0x00, 0x01, 0x00, 0xc0, 0x00, 0x02, 0x01, //     ADDR 192.0.2.1
    0x06, 0x00, 0x02, 0x00, 0x49, 0xee, 0x00, 0x00, //     PORT 61001
    0x20, 0x00, 0x02, 0x00, //   nla_len 32, DST6
    0x14, 0x00, 0x01, 0x00, //     nla_len 20, ADDR 64:ff9b::cb00:7109
    0x00, 0x64, 0xff, 0x9b, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xcb, 0x00, 0x71, 0x09,
    0x06, 0x00, 0x02, 0x00, 0xbb, 0x01, 0x00, 0x00, //     PORT 443
    0x20, 0x00, 0x01, 0x00, //   nla_len 32, SRC6
    0x14, 0x00, 0x01, 0x00, //     nla_len 20, ADDR 2001:db8::5
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x06, 0x00, 0x02, 0x00, 0x40, 0x9c, 0x00, 0x00, //     PORT 40000
  ]);
  assert.deepEqual(decodeSessions(bytes, "nested-4.1.0"), { sessions: [NESTED_SESSIONS[0]] });
});

Deno.test("an empty payload is valid and holds no sessions", () => {
  // The kernel's joold_sync() walks zero entries and returns success.
  for (const encoding of ENCODINGS) {
    assert.equal(validateSessions(new Uint8Array(0), encoding), null, encoding);
    assert.deepEqual(decodeSessions(new Uint8Array(0), encoding), { sessions: [] }, encoding);
    assert.deepEqual(encodeSessions([], encoding), new Uint8Array(0), encoding);
  }
});

/** A copy of `bytes` with `changes` (offset, value) applied. */
function patched(bytes: Uint8Array, ...changes: [number, number][]): Uint8Array {
  const copy = bytes.slice();
  for (const [offset, value] of changes) copy[offset] = value;
  return copy;
}

/** Bytes with `extra` appended. */
function appended(bytes: Uint8Array, ...extra: number[]): Uint8Array {
  return Uint8Array.from([...bytes, ...extra]);
}

Deno.test("validateSessions() rejects malformed raw entries", () => {
  const cases: { name: string; encoding: SessionEncoding; bytes: Uint8Array; problem: string }[] = [
    {
      name: "truncated entry",
      encoding: "raw36-4.1.13",
      bytes: RAW36.subarray(0, 70),
      problem: "session 1: length 40 does not fit the remaining 30 bytes",
    },
    {
      name: "entry one byte short",
      encoding: "raw36-4.1.13",
      // deno-fmt-ignore
      bytes: Uint8Array.from([
        0x27, 0x00, 0x01, 0x00, // nla_len 39: 35 bytes of entry
        ...RAW36.subarray(4, 39),
        0x00, // padding
      ]),
      problem: "session 0: entry has 35 bytes, not 36",
    },
    {
      name: "4.1.12 entries taken for 4.1.13",
      encoding: "raw36-4.1.13",
      bytes: RAW48,
      problem: "session 0: entry has 48 bytes, not 36",
    },
    {
      name: "4.1.13 entries taken for 4.1.12",
      encoding: "raw48-4.1.12",
      bytes: RAW36,
      problem: "session 0: entry has 36 bytes, not 48",
    },
    {
      name: "nested entries taken for raw ones",
      encoding: "raw36-4.1.13",
      bytes: NESTED,
      problem: "session 0: entry has 136 bytes, not 36",
    },
    {
      name: "wrong attribute type",
      encoding: "raw36-4.1.13",
      bytes: patched(RAW36, [42, 0x02]),
      problem: "session 1: attribute type 2, not JNLAL_ENTRY",
    },
    {
      name: "attribute type 0",
      encoding: "raw48-4.1.12",
      bytes: patched(RAW48, [2, 0x00]),
      problem: "session 0: attribute type 0, not JNLAL_ENTRY",
    },
    {
      name: "protocol 3 (OTHER)",
      encoding: "raw36-4.1.13",
      bytes: patched(RAW36, [39, 0x60]),
      problem: "session 0: protocol 3 is not TCP, UDP or ICMP",
    },
    {
      name: "TCP state 7",
      encoding: "raw48-4.1.12",
      bytes: patched(RAW48, [51, 0x1c]),
      problem: "session 0: TCP state 7 is out of range",
    },
    {
      name: "timer 3",
      encoding: "raw36-4.1.13",
      bytes: patched(RAW36, [79, 0x43]),
      problem: "session 1: timer 3 is out of range",
    },
    {
      name: "unused bits set",
      encoding: "raw36-4.1.13",
      bytes: patched(RAW36, [38, 0x01]),
      problem: "session 0: unused bits of the packed proto/state/timer are set (0x10a)",
    },
    {
      name: "2 bytes of trailing garbage",
      encoding: "raw36-4.1.13",
      bytes: appended(RAW36, 0xde, 0xad),
      problem: "2 trailing bytes at offset 80",
    },
    {
      name: "an empty attribute header after the sessions",
      encoding: "raw36-4.1.13",
      bytes: appended(RAW36, 0x00, 0x00, 0x00, 0x00),
      problem: "session 2: length 0 does not fit the remaining 4 bytes",
    },
    {
      name: "1 stray byte alone",
      encoding: "raw48-4.1.12",
      bytes: Uint8Array.of(0x01),
      problem: "1 trailing bytes at offset 0",
    },
  ];
  for (const { name, encoding, bytes, problem } of cases) {
    assert.equal(validateSessions(bytes, encoding), problem, name);
    assert.throws(
      () => decodeSessions(bytes, encoding),
      (error) =>
        error instanceof SessionDecodeError &&
        error.message === `Malformed session entries: ${problem}`,
      name,
    );
  }
});

/** A one-session nested payload made of the given fields. */
function nestedEntry(...fields: number[][]): Uint8Array {
  const body = fields.flat();
  return Uint8Array.from([4 + body.length, 0x00, 0x01, 0x80, ...body]);
}

// deno-fmt-ignore
const SRC6 = [
  0x20, 0x00, 0x01, 0x80, // nla_len 32, SRC6
  0x14, 0x00, 0x01, 0x00, ...new Array(15).fill(0), 0x01, // ADDR ::1
  0x06, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, // PORT 1
];
// deno-fmt-ignore
const DST6 = [
  0x20, 0x00, 0x02, 0x80, // nla_len 32, DST6
  0x14, 0x00, 0x01, 0x00, ...new Array(15).fill(0), 0x02, // ADDR ::2
  0x06, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, // PORT 2
];
// deno-fmt-ignore
const SRC4 = [
  0x14, 0x00, 0x03, 0x80, // nla_len 20, SRC4
  0x08, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x03, // ADDR 10.0.0.3
  0x06, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, // PORT 3
];
// deno-fmt-ignore
const DST4 = [
  0x14, 0x00, 0x04, 0x80, // nla_len 20, DST4
  0x08, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00, 0x04, // ADDR 10.0.0.4
  0x06, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, // PORT 4
];
const PROTO = [0x05, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]; // u8 1 (UDP)
const STATE = [0x05, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00]; // u8 0
const TIMER = [0x05, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00]; // u8 0
const EXPIRATION = [0x08, 0x00, 0x08, 0x00, 0xe8, 0x03, 0x00, 0x00]; // u32 1000

Deno.test("the nested test fields make a valid entry", () => {
  assert.deepEqual(
    decodeSessions(
      nestedEntry(SRC6, DST6, SRC4, DST4, PROTO, STATE, TIMER, EXPIRATION),
      "nested-4.1.0",
    ),
    {
      sessions: [{
        proto: "UDP",
        src6: { address: "::1", port: 1 },
        dst6: { address: "::2", port: 2 },
        src4: { address: "10.0.0.3", port: 3 },
        dst4: { address: "10.0.0.4", port: 4 },
        state: 0,
        timer: 0,
        expirationMs: 1000,
      }],
    },
  );
});

Deno.test("validateSessions() rejects malformed nested entries", () => {
  const all = [SRC6, DST6, SRC4, DST4, PROTO, STATE, TIMER];
  const cases: { name: string; bytes: Uint8Array; problem: string }[] = [
    {
      name: "missing EXPIRATION",
      bytes: nestedEntry(...all),
      problem: "session 0: field EXPIRATION is missing",
    },
    {
      name: "missing DST6",
      bytes: nestedEntry(SRC6, SRC4, DST4, PROTO, STATE, TIMER, EXPIRATION),
      problem: "session 0: field DST6 is missing",
    },
    {
      name: "PROTO twice",
      bytes: nestedEntry(...all, PROTO, EXPIRATION),
      problem: "session 0: field PROTO appears twice",
    },
    {
      name: "unknown field 9",
      bytes: nestedEntry(...all, EXPIRATION, [0x05, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00]),
      problem: "session 0: unknown field 9",
    },
    {
      name: "field 0",
      bytes: nestedEntry([0x04, 0x00, 0x00, 0x00], ...all, EXPIRATION),
      problem: "session 0: unknown field 0",
    },
    {
      name: "PROTO as a u16",
      bytes: nestedEntry(
        SRC6,
        DST6,
        SRC4,
        DST4,
        [0x06, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00],
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: PROTO has 2 bytes, not 1",
    },
    {
      name: "EXPIRATION as a u8",
      bytes: nestedEntry(...all, [0x05, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00]),
      problem: "session 0: EXPIRATION has 1 bytes, not 4",
    },
    {
      name: "protocol 3",
      bytes: nestedEntry(
        SRC6,
        DST6,
        SRC4,
        DST4,
        [0x05, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00],
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: protocol 3 is not TCP, UDP or ICMP",
    },
    {
      name: "TCP state 7",
      bytes: nestedEntry(
        SRC6,
        DST6,
        SRC4,
        DST4,
        PROTO,
        [0x05, 0x00, 0x06, 0x00, 0x07, 0x00, 0x00, 0x00],
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: TCP state 7 is out of range",
    },
    {
      name: "timer 3",
      bytes: nestedEntry(
        SRC6,
        DST6,
        SRC4,
        DST4,
        PROTO,
        STATE,
        [0x05, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00],
        EXPIRATION,
      ),
      problem: "session 0: timer 3 is out of range",
    },
    {
      name: "IPv4 address in SRC6",
      bytes: nestedEntry(
        [0x14, 0x00, 0x01, 0x80, ...SRC4.slice(4)],
        DST6,
        SRC4,
        DST4,
        PROTO,
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: SRC6 address has 4 bytes, not 16",
    },
    {
      name: "address without port",
      bytes: nestedEntry(
        SRC6,
        DST6,
        [0x0c, 0x00, 0x03, 0x80, ...SRC4.slice(4, 12)],
        DST4,
        PROTO,
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: SRC4 lacks its port",
    },
    {
      name: "port without address",
      bytes: nestedEntry(
        SRC6,
        DST6,
        SRC4,
        [0x0c, 0x00, 0x04, 0x80, ...DST4.slice(12)],
        PROTO,
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: DST4 lacks its address",
    },
    {
      name: "unknown attribute in an address",
      bytes: nestedEntry(
        SRC6,
        DST6,
        [0x1c, 0x00, 0x03, 0x80, ...SRC4.slice(4), 0x08, 0x00, 0x03, 0x00, 0, 0, 0, 0],
        DST4,
        PROTO,
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: SRC4 holds unknown attribute 3",
    },
    {
      name: "port twice",
      bytes: nestedEntry(
        SRC6,
        DST6,
        SRC4,
        [0x1c, 0x00, 0x04, 0x80, ...DST4.slice(4), ...DST4.slice(12)],
        PROTO,
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: DST4 holds attribute 2 twice",
    },
    {
      name: "address attribute overflowing its container",
      bytes: nestedEntry(
        SRC6,
        DST6,
        SRC4,
        [0x10, 0x00, 0x04, 0x80, ...DST4.slice(4, 12), 0x10, 0x00, 0x02, 0x00],
        PROTO,
        STATE,
        TIMER,
        EXPIRATION,
      ),
      problem: "session 0: DST4 holds an attribute of length 16 in 4 bytes",
    },
    {
      name: "stray bytes inside the entry",
      bytes: nestedEntry(...all, EXPIRATION, [0x01, 0x02]),
      problem: "session 0: 2 trailing bytes",
    },
    {
      name: "raw entries taken for nested ones",
      bytes: RAW36,
      problem: "session 0: field of length 288 does not fit the remaining 36 bytes",
    },
  ];
  for (const { name, bytes, problem } of cases) {
    assert.equal(validateSessions(bytes, "nested-4.1.0"), problem, name);
    assert.throws(
      () => decodeSessions(bytes, "nested-4.1.0"),
      (error) =>
        error instanceof SessionDecodeError &&
        error.message === `Malformed session entries: ${problem}`,
      name,
    );
  }
});

Deno.test("a kept SessionValidator answers as validateSessions(), payload after payload", () => {
  const all = [SRC6, DST6, SRC4, DST4, PROTO, STATE, TIMER];
  const payloads = [
    NESTED,
    nestedEntry(...all),
    RAW36,
    RAW36.subarray(0, 70),
    RAW48,
    nestedEntry(...all, EXPIRATION, [0x01, 0x02]),
    new Uint8Array(0),
    NESTED,
  ];
  const validator = new SessionValidator();
  for (const [index, payload] of payloads.entries()) {
    for (const encoding of ENCODINGS) {
      const expected = validateSessions(payload, encoding);
      assert.equal(validator.check(payload, encoding), expected, `${index} ${encoding}`);
    }
  }
  assert.equal(validator.check(NESTED, "nested-4.1.0"), null);
});

Deno.test("encodeSessions() refuses sessions it cannot encode", () => {
  const base = NESTED_SESSIONS[0];
  const cases: { name: string; encoding: SessionEncoding; session: Session; error: RegExp }[] = [
    {
      name: "no dst6, nested",
      encoding: "nested-4.1.0",
      session: { ...base, dst6: undefined },
      error: /nested-4.1.0 needs dst6/,
    },
    {
      name: "no dst6, raw48",
      encoding: "raw48-4.1.12",
      session: { ...base, dst6: undefined },
      error: /raw48-4.1.12 needs dst6/,
    },
    {
      name: "IPv4 text for src6",
      encoding: "raw36-4.1.13",
      session: { ...base, src6: { address: "192.0.2.1", port: 1 } },
      error: /src6 "192.0.2.1" is not an IPv6 address/,
    },
    {
      name: "bad dst4",
      encoding: "raw36-4.1.13",
      session: { ...base, dst4: { address: "203.0.113", port: 1 } },
      error: /dst4 "203.0.113" is not an IPv4 address/,
    },
    {
      name: "port 65536",
      encoding: "raw36-4.1.13",
      session: { ...base, src4: { address: "192.0.2.1", port: 65536 } },
      error: /src4 port 65536 is not an integer from 0 to 65535/,
    },
    {
      name: "state 7",
      encoding: "raw48-4.1.12",
      session: { ...base, state: 7 },
      error: /TCP state 7 is not an integer from 0 to 6/,
    },
    {
      name: "timer 3",
      encoding: "nested-4.1.0",
      session: { ...base, timer: 3 },
      error: /timer 3 is not an integer from 0 to 2/,
    },
    {
      name: "unknown protocol",
      encoding: "raw36-4.1.13",
      session: { ...base, proto: "SCTP" as Session["proto"] },
      error: /protocol "SCTP" is unknown/,
    },
    {
      name: "negative expiration",
      encoding: "raw36-4.1.13",
      session: { ...base, expirationMs: -1 },
      error: /expiration -1 is not an integer from 0 to 4294967295/,
    },
  ];
  for (const { name, encoding, session, error } of cases) {
    assert.throws(
      () => encodeSessions([NESTED_SESSIONS[1], session], encoding),
      (thrown) =>
        thrown instanceof RangeError && thrown.message.startsWith("Cannot encode session 1: ") &&
        error.test(thrown.message),
      name,
    );
  }
});

Deno.test("encodeSessions() and decodeSessions() round-trip edge values", () => {
  const sessions: Session[] = [
    {
      proto: "UDP",
      src6: { address: "::ffff:192.0.2.9", port: 0 },
      dst6: { address: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", port: 65535 },
      src4: { address: "0.0.0.0", port: 0 },
      dst4: { address: "255.255.255.255", port: 65535 },
      state: 6,
      timer: 1,
      expirationMs: 0xffffffff,
    },
  ];
  for (const encoding of ENCODINGS) {
    const bytes = encodeSessions(sessions, encoding);
    assert.equal(bytes.byteLength, sessionEntryLength(encoding), encoding);
    assert.equal(validateSessions(bytes, encoding), null, encoding);
    const [decoded] = decodeSessions(bytes, encoding).sessions;
    assert.equal(decoded.expirationMs, 0xffffffff, encoding);
    assert.equal(decoded.state, 6, encoding);
    assert.equal(decoded.timer, 1, encoding);
    assert.deepEqual(decoded.src6, sessions[0].src6, encoding);
  }
  // raw36 keeps dst4 and drops dst6.
  const [raw36] = decodeSessions(encodeSessions(sessions, "raw36-4.1.13"), "raw36-4.1.13").sessions;
  assert.equal(raw36.dst6, undefined);
  assert.deepEqual(raw36.dst4, sessions[0].dst4);
  // raw48 rebuilds dst4 from dst6's last 4 bytes and dst6's port (UDP).
  const [raw48] = decodeSessions(encodeSessions(sessions, "raw48-4.1.12"), "raw48-4.1.12").sessions;
  assert.deepEqual(raw48.dst6, sessions[0].dst6);
  assert.deepEqual(raw48.dst4, { address: "255.255.255.255", port: 65535 });
});

Deno.test("decodeSessions() copies nothing it returns from the payload", () => {
  const bytes = RAW36.slice();
  const { sessions } = decodeSessions(bytes, "raw36-4.1.13");
  bytes.fill(0);
  assert.equal(sessions[0].src6.address, "2001:db8::5");
});
