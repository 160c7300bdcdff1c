import assert from "node:assert/strict";
import { encodeSessions, type Session, type SessionEncoding } from "../jool/session.ts";
import { DatagramFilter } from "./datagram_filter.ts";

const SESSION: Session = {
  proto: "UDP",
  src6: { address: "2001:db8::2", port: 40000 },
  dst6: { address: "64:ff9b::c000:202", port: 7777 },
  src4: { address: "192.0.2.1", port: 61001 },
  dst4: { address: "192.0.2.2", port: 7777 },
  state: 0,
  timer: 0,
  expirationMs: 300000,
};

Deno.test("a batch in the local kernel's encoding passes; other encodings do not", () => {
  const nested = encodeSessions([SESSION, SESSION], "nested-4.1.0");
  const raw36 = encodeSessions([SESSION], "raw36-4.1.13");
  const filter = new DatagramFilter("nested-4.1.0");
  assert.equal(filter.check(nested), null);
  assert.notEqual(filter.check(raw36), null);
});

Deno.test("before the encoding is known any 4.1 encoding passes; garbage never", () => {
  const filter = new DatagramFilter(null);
  assert.equal(filter.check(encodeSessions([SESSION], "raw36-4.1.13")), null);
  assert.equal(filter.check(encodeSessions([SESSION], "raw48-4.1.12")), null);
  assert.match(
    filter.check(Uint8Array.of(1, 2, 3)) ?? "",
    /^not a session batch in any Jool 4.1 encoding/,
  );
  assert.equal(filter.check(new Uint8Array(0)), "empty datagram");
  filter.learn("raw36-4.1.13");
  filter.learn("nested-4.1.0"); // the first learnt encoding stays
  assert.equal(filter.encoding, "raw36-4.1.13");
});

Deno.test("random and mutated datagrams are all rejected", () => {
  const filter = new DatagramFilter("nested-4.1.0");
  const valid = encodeSessions([SESSION, SESSION, SESSION], "nested-4.1.0");
  let seed = 1;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let accepted = 0;
  for (let i = 0; i < 1000; i++) {
    let datagram: Uint8Array;
    if (i % 2 === 0) {
      datagram = Uint8Array.from({ length: 1 + Math.floor(random() * 600) }, () => random() * 256);
    } else {
      datagram = valid.slice(0, valid.byteLength - 1 - Math.floor(random() * 100));
    }
    if (filter.check(datagram) === null) accepted++;
  }
  assert.equal(accepted, 0);
});

Deno.test("foreignEncoding() names the other 4.1 encoding a refused batch is valid in", () => {
  const filter = new DatagramFilter("raw36-4.1.13");
  assert.equal(filter.foreignEncoding(encodeSessions([SESSION], "nested-4.1.0")), "nested-4.1.0");
  assert.equal(filter.foreignEncoding(encodeSessions([SESSION], "raw48-4.1.12")), "raw48-4.1.12");
  // Its own encoding is not foreign; garbage and empty datagrams are in none.
  assert.equal(filter.foreignEncoding(encodeSessions([SESSION], "raw36-4.1.13")), null);
  assert.equal(filter.foreignEncoding(Uint8Array.of(1, 2, 3)), null);
  assert.equal(filter.foreignEncoding(new Uint8Array(0)), null);
});

Deno.test("classify() names the encoding a batch is valid in, the local one first", () => {
  const cases: [SessionEncoding | null, Uint8Array, SessionEncoding | RegExp][] = [
    ["raw36-4.1.13", encodeSessions([SESSION], "raw36-4.1.13"), "raw36-4.1.13"],
    ["raw36-4.1.13", encodeSessions([SESSION], "nested-4.1.0"), "nested-4.1.0"],
    ["nested-4.1.0", encodeSessions([SESSION], "raw48-4.1.12"), "raw48-4.1.12"],
    [null, encodeSessions([SESSION], "raw48-4.1.12"), "raw48-4.1.12"],
    [null, new Uint8Array(0), /^empty datagram$/],
    ["raw36-4.1.13", Uint8Array.of(1, 2, 3), /^not a session batch in any Jool 4\.1 encoding \(/],
  ];
  for (const [local, payload, expected] of cases) {
    const found = new DatagramFilter(local).classify(payload);
    if (typeof expected === "string") assert.deepEqual(found, { encoding: expected });
    else assert.match("problem" in found ? found.problem : "", expected);
  }
});
