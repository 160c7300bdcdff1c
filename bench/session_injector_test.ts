import assert from "node:assert/strict";
import { MAX_ATTRIBUTE_PAYLOAD } from "../src/jool/messages.ts";
import {
  ALL_SESSION_ENCODINGS,
  decodeSessions,
  sessionEntryLength,
  validateSessions,
} from "../src/jool/session.ts";
import {
  addPayloads,
  BIB_ENTRIES,
  bucketOf,
  MAX_SESSIONS,
  pickIndexes,
  sessionsPerAdd,
  syntheticSession,
} from "./session_injector.ts";

Deno.test("session injector: a session per index, its BIB entry and destination from it", () => {
  assert.deepEqual(syntheticSession(0, 1000), {
    proto: "UDP",
    src6: { address: "2001:db8:1::2", port: 10000 },
    dst6: { address: "64:ff9b::198.18.0.0", port: 7777 },
    src4: { address: "192.0.2.1", port: 61001 },
    dst4: { address: "198.18.0.0", port: 7777 },
    state: 0,
    timer: 0,
    expirationMs: 1000,
  });
  // Same BIB entry (client port ↔ pool4 port) every BIB_ENTRIES indexes, the next destination.
  const later = syntheticSession(BIB_ENTRIES * 300 + 7, 1000);
  assert.equal(later.src6.port, 10007);
  assert.equal(later.src4.port, 61008);
  assert.equal(later.dst4.address, "198.18.1.44");
  // The last pool4 port used stays in the topology's 61001-65535.
  assert.equal(syntheticSession(BIB_ENTRIES - 1, 0).src4.port, 65000);
  assert.throws(() => syntheticSession(MAX_SESSIONS, 0), /not an integer from 0/);
  assert.throws(() => syntheticSession(-1, 0), /not an integer from 0/);
});

Deno.test("session injector: a million and more indexes make distinct sessions", () => {
  const key = (i: number) => {
    const s = syntheticSession(i, 0);
    return `${s.src6.port} ${s.dst4.address}`;
  };
  const seen = new Set<string>();
  for (const i of [0, 1, BIB_ENTRIES - 1, BIB_ENTRIES, 999_999, 1_000_000, 1_000_019]) {
    seen.add(key(i));
  }
  assert.equal(seen.size, 7);
});

Deno.test("session injector: JOOLD_ADD payloads as full as an attribute holds, valid in every encoding", () => {
  const indexes = Array.from({ length: 3000 }, (_, i) => i);
  for (const encoding of ALL_SESSION_ENCODINGS) {
    const per = sessionsPerAdd(encoding);
    assert.ok(per * sessionEntryLength(encoding) <= MAX_ATTRIBUTE_PAYLOAD, encoding);
    assert.ok((per + 1) * sessionEntryLength(encoding) > MAX_ATTRIBUTE_PAYLOAD, encoding);
    const payloads = [...addPayloads(indexes, 5000, encoding)];
    assert.equal(payloads.length, Math.ceil(3000 / per), encoding);
    let total = 0;
    for (const payload of payloads) {
      assert.equal(validateSessions(payload, encoding), null, encoding);
      total += payload.byteLength / sessionEntryLength(encoding);
    }
    assert.equal(total, 3000, encoding);
    const [first] = decodeSessions(payloads[0], encoding).sessions;
    assert.equal(first.src4.port, 61001);
    assert.equal(first.expirationMs, 5000);
  }
});

Deno.test("session injector: extras confined to the first K buckets met", () => {
  const picked = pickIndexes(100_000, 20, 4);
  assert.equal(picked.indexes.length, 20);
  assert.equal(picked.buckets.length, 4);
  assert.ok(picked.indexes.every((i) => i >= 100_000));
  assert.equal(new Set(picked.indexes).size, 20);
  for (const index of picked.indexes) {
    assert.ok(picked.buckets.includes(bucketOf(syntheticSession(index, 0))));
  }
  // Without a bucket limit: consecutive indexes, their buckets not looked up.
  assert.deepEqual(pickIndexes(5, 3, null), { indexes: [5, 6, 7], buckets: [] });
  // A session's bucket does not depend on its remaining time.
  assert.equal(bucketOf(syntheticSession(9, 0)), bucketOf(syntheticSession(9, 123_456)));
});
