import assert from "node:assert/strict";
import { encodeSessions, type Session } from "../../../src/jool/session.ts";
import {
  acceptedAs,
  BASE_ENCODING,
  canonicalHeaders,
  countKinds,
  ENTRY_LENGTH,
  garbageDatagrams,
  seededRandom,
} from "./garbage_datagrams.ts";

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

const ONE = encodeSessions([session(40000)], BASE_ENCODING);
const THREE = encodeSessions(
  [session(40000), session(40001, "TCP"), session(40002, "ICMP")],
  BASE_ENCODING,
);

Deno.test("garbage: a canonical nested batch is accepted as a base", () => {
  assert.equal(ENTRY_LENGTH, 140);
  // 3 entries: each an entry header, 8 fields, 8 ADDR/PORT members.
  assert.equal(canonicalHeaders(THREE).length, 3 * (1 + 8 + 8));
  assert.equal(acceptedAs(THREE), "nested-4.1.0");
});

Deno.test("garbage: anything else is refused as a base", () => {
  const cases: { name: string; base: Uint8Array; want: RegExp }[] = [
    { name: "empty", base: new Uint8Array(0), want: /it is empty/ },
    { name: "trailing bytes", base: Uint8Array.of(...ONE, 0, 0, 0, 0), want: /not a valid/ },
    {
      name: "another encoding",
      base: encodeSessions([session(40000)], "raw36-4.1.13"),
      want: /not a valid/,
    },
  ];
  for (const c of cases) assert.throws(() => canonicalHeaders(c.base), c.want, c.name);
});

Deno.test("garbage: the self-check would catch a datagram a filter accepts", () => {
  // What garbageDatagrams() throws on: the base itself, and a batch valid in
  // another encoding, which a daemon that does not know its kernel accepts.
  assert.equal(acceptedAs(ONE), "nested-4.1.0");
  assert.equal(
    acceptedAs(encodeSessions([session(40000)], "raw36-4.1.13")),
    "some Jool 4.1 encoding",
  );
  assert.equal(acceptedAs(new Uint8Array(0)), null);
});

Deno.test("garbage: every mutation of one- and three-session bases is dropped", () => {
  // garbageDatagrams() throws on the first datagram a filter would accept;
  // many seeds and both base sizes exercise each kind's corner cases.
  for (const base of [ONE, THREE]) {
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

Deno.test("garbage: the same seed gives the same datagrams", () => {
  const a = garbageDatagrams(THREE, 50, seededRandom(6464));
  const b = garbageDatagrams(THREE, 50, seededRandom(6464));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, garbageDatagrams(THREE, 50, seededRandom(6465)));
});
