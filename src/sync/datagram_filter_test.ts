import assert from "node:assert/strict";
import { encodeSessions, type Session } from "../jool/session.ts";
import { RateLimiter } from "../log.ts";
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

Deno.test("the rate limiter lets one event per key and interval through", () => {
  const limiter = new RateLimiter(1000);
  assert.equal(limiter.allow("a", 0), 0);
  assert.equal(limiter.allow("a", 10), null);
  assert.equal(limiter.allow("a", 20), null);
  assert.equal(limiter.allow("b", 20), 0);
  assert.equal(limiter.allow("a", 1000), 2);
});

Deno.test("the rate limiter reports what it suppressed once each interval is over", () => {
  const limiter = new RateLimiter(1000);
  limiter.allow("a", 0);
  limiter.allow("a", 10);
  limiter.allow("a", 20);
  limiter.allow("b", 500);
  assert.deepEqual(limiter.takeSuppressed(999), [], "nothing is due yet");
  assert.deepEqual(limiter.takeSuppressed(1000), [["a", 2]], "b suppressed nothing");
  assert.equal(limiter.allow("a", 1500), null, "a report starts a new interval");
  assert.deepEqual(limiter.takeSuppressed(2000), [["a", 1]]);
  assert.deepEqual(limiter.takeSuppressed(3000), [], "keys with nothing to say are forgotten");
  assert.equal(limiter.allow("a", 3000), 0);
  assert.equal(limiter.allow("b", 3000), 0);
  limiter.allow("b", 3001);
  assert.deepEqual(limiter.takeSuppressed(3002), []);
  assert.deepEqual(limiter.takeSuppressed(3002, true), [["b", 1]], "at exit: everything");
});
