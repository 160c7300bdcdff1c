import assert from "node:assert/strict";
import { encodeSessions, type Session, type SessionEncoding } from "../../../src/jool/session.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../../ffi/native_endian.ts";
import { DatagramFilter } from "../../../src/sync/datagram_filter.ts";
import {
  acceptedAs,
  canonicalHeaders,
  countKinds,
  encodingOf,
  garbageDatagrams,
  type GarbageKind,
  garbageKinds,
  seededRandom,
} from "./garbage_datagrams.ts";

function readU16(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint16(offset, NATIVE_LITTLE_ENDIAN);
}

function session(port: number, proto: Session["proto"] = "UDP"): Session {
  return {
    proto,
    src6: { address: "2001:db8:1::2", port },
    dst6: { address: "64:ff9b::c000:202", port: 7777 },
    src4: { address: "192.0.2.1", port: 61000 + port % 1000 },
    dst4: { address: "192.0.2.2", port: 7777 },
    state: proto === "TCP" ? 5 : 0,
    timer: proto === "TCP" ? 1 : 0,
    expirationMs: 299_000,
  };
}

/** One session, and three of different protocols, in `encoding`. */
function bases(encoding: SessionEncoding): { one: Uint8Array; three: Uint8Array } {
  return {
    one: encodeSessions([session(40000)], encoding),
    three: encodeSessions(
      [session(40000), session(40001, "TCP"), session(40002, "ICMP")],
      encoding,
    ),
  };
}

const NESTED = bases("nested-4.1.0");
const RAW36 = bases("raw36-4.1.13");
const RAW48 = bases("raw48-4.1.12");

Deno.test("garbage: a canonical nested batch is accepted as a base", () => {
  assert.equal(NESTED.one.byteLength, 140);
  // 3 entries: each an entry header, 8 fields, 8 ADDR/PORT members.
  assert.equal(canonicalHeaders(NESTED.three).length, 3 * (1 + 8 + 8));
  assert.equal(acceptedAs(NESTED.three, "nested-4.1.0"), "nested-4.1.0");
});

Deno.test("garbage: a base's encoding is the one it is valid in", () => {
  assert.equal(encodingOf(NESTED.three), "nested-4.1.0");
  assert.equal(encodingOf(RAW48.three), "raw48-4.1.12");
  assert.equal(encodingOf(RAW36.one), "raw36-4.1.13");
  assert.equal(RAW36.three.byteLength, 3 * 40);
  assert.equal(encodingOf(RAW36.three), "raw36-4.1.13");
  assert.equal(encodingOf(new Uint8Array(0)), null);
  assert.equal(encodingOf(RAW36.three.subarray(0, 100)), null);
});

Deno.test("garbage: anything else is refused as a base", () => {
  const cases: { name: string; base: Uint8Array; encoding?: SessionEncoding; want: RegExp }[] = [
    { name: "empty", base: new Uint8Array(0), want: /it is empty/ },
    {
      name: "trailing bytes",
      base: Uint8Array.of(...NESTED.one, 0, 0, 0, 0),
      want: /not a valid batch in any/,
    },
    {
      name: "raw36 trailing bytes",
      base: Uint8Array.of(...RAW36.one, 0, 0, 0, 0),
      want: /not a valid batch in any/,
    },
    {
      name: "another encoding than the kernel's",
      base: RAW36.one,
      encoding: "nested-4.1.0",
      want: /not a valid nested-4\.1\.0 batch/,
    },
    {
      name: "nested where raw36 is expected",
      base: NESTED.one,
      encoding: "raw36-4.1.13",
      want: /not a valid raw36-4\.1\.13 batch/,
    },
  ];
  for (const c of cases) {
    assert.throws(() => garbageDatagrams(c.base, 1, seededRandom(1), c.encoding), c.want, c.name);
  }
  assert.throws(() => canonicalHeaders(RAW36.one), /not a valid nested-4\.1\.0 batch/);
});

Deno.test("garbage: the self-check would catch a datagram a filter accepts", () => {
  // What garbageDatagrams() throws on: the base itself, and a batch valid in
  // another encoding, which a daemon that does not know its kernel accepts.
  assert.equal(acceptedAs(NESTED.one, "nested-4.1.0"), "nested-4.1.0");
  assert.equal(acceptedAs(RAW36.one, "nested-4.1.0"), "some Jool 4.1 encoding");
  assert.equal(acceptedAs(RAW36.one, "raw36-4.1.13"), "raw36-4.1.13");
  assert.equal(acceptedAs(NESTED.one, "raw36-4.1.13"), "some Jool 4.1 encoding");
  assert.equal(acceptedAs(RAW48.one, "raw36-4.1.13"), "some Jool 4.1 encoding");
  for (const encoding of ["nested-4.1.0", "raw36-4.1.13"] as const) {
    assert.equal(acceptedAs(new Uint8Array(0), encoding), null);
  }
});

Deno.test("garbage: every mutation of one- and three-session nested bases is dropped", () => {
  // garbageDatagrams() throws on the first datagram a filter would accept;
  // many seeds and both base sizes exercise each kind's corner cases.
  for (const base of [NESTED.one, NESTED.three]) {
    for (let seed = 1; seed <= 5; seed++) {
      const garbage = garbageDatagrams(base, 3001, seededRandom(seed));
      assert.deepEqual(countKinds(garbage), {
        "empty": 1,
        "truncated": 500,
        "extended": 500,
        "entry-length": 500,
        "header-flip": 500,
        "bad-value": 500,
        "random": 500,
      });
      for (const g of garbage) assert.ok(g.data.byteLength <= 1500, `${g.kind} too long`);
    }
  }
});

/** What a raw encoding's filter must say of each kind: the mutation, not something else. */
const RAW_PROBLEMS: Record<Exclude<GarbageKind, "header-flip">, RegExp> = {
  "empty": /^empty datagram$/,
  "truncated": /trailing bytes|does not fit/,
  // The tail: too short for a header, a header claiming too much, or a short entry of any type.
  "extended": /trailing bytes|does not fit|entry has \d+ bytes|not JNLAL_ENTRY/,
  "entry-length": /does not fit|entry has \d+ bytes/,
  "entry-type": /attribute type \d+, not JNLAL_ENTRY/,
  "bad-value": /unused bits|protocol 3 |TCP state 7 |timer 3 /,
  "random": /./,
};

Deno.test("garbage: every mutation of raw bases is dropped, for what it mutates", () => {
  // Raw36 is what Jool 4.1.13 and later write; raw48 (4.1.12) shares the
  // mutations. A base of up to 1,440 bytes (36 raw36 entries, the kernel's
  // default batch) reaches the lengths a nested entry could have, which the
  // first entry must not get.
  const cases = [
    { encoding: "raw36-4.1.13", ...RAW36 },
    { encoding: "raw48-4.1.12", ...RAW48 },
  ] as const;
  for (const { encoding, one, three } of cases) {
    const many = encodeSessions(
      Array.from(
        { length: Math.floor(1440 / one.byteLength) },
        (_, i) => session(40000 + i, i % 2 === 0 ? "UDP" : "TCP"),
      ),
      encoding,
    );
    const filter = new DatagramFilter(encoding);
    for (const base of [one, three, many]) {
      for (let seed = 1; seed <= 5; seed++) {
        const garbage = garbageDatagrams(base, 3001, seededRandom(seed));
        assert.deepEqual(countKinds(garbage), {
          "empty": 1,
          "truncated": 500,
          "extended": 500,
          "entry-length": 500,
          "entry-type": 500,
          "bad-value": 500,
          "random": 500,
        });
        for (const g of garbage) {
          assert.ok(g.data.byteLength <= 1500, `${g.kind} too long`);
          assert.notEqual(g.kind, "header-flip");
          const first = g.data.byteLength < 2 ? 0 : readU16(g.data, 0);
          if (g.kind === "entry-length" && first !== one.byteLength) {
            // The first entry's new length: past the datagram, or no encoding's whole entry.
            assert.ok(
              first > base.byteLength || (first !== 40 && first !== 52 && first < 137),
              `first entry of length ${first} in ${base.byteLength} bytes`,
            );
          }
          const problem = filter.check(g.data) ?? "accepted";
          assert.match(
            problem,
            RAW_PROBLEMS[g.kind as keyof typeof RAW_PROBLEMS],
            `${g.kind}: ${problem}`,
          );
        }
      }
    }
  }
});

Deno.test("garbage: the kinds per encoding", () => {
  assert.deepEqual(garbageKinds("nested-4.1.0"), [
    "empty",
    "truncated",
    "extended",
    "entry-length",
    "header-flip",
    "bad-value",
    "random",
  ]);
  const raw = [
    "empty",
    "truncated",
    "extended",
    "entry-length",
    "entry-type",
    "bad-value",
    "random",
  ];
  assert.deepEqual(garbageKinds("raw36-4.1.13"), raw);
  assert.deepEqual(garbageKinds("raw48-4.1.12"), raw);
});

Deno.test("garbage: the same seed gives the same datagrams", () => {
  for (const base of [NESTED.three, RAW36.three]) {
    const a = garbageDatagrams(base, 50, seededRandom(6464));
    const b = garbageDatagrams(base, 50, seededRandom(6464));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, garbageDatagrams(base, 50, seededRandom(6465)));
  }
});
