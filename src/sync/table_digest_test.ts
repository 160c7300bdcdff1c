import assert from "node:assert/strict";
import { encodeSessions, type Session } from "../jool/session.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { ControlType } from "./control_message.ts";
import {
  applyDigestPart,
  decodeDigest,
  DIGEST_BUCKETS,
  type DigestPart,
  encodeRoundStart,
  isRoundStart,
  TableDigest,
} from "./table_digest.ts";
import { readCheckedSessionFields } from "../jool/session_decode.ts";

/** `count` distinct UDP sessions, from `first` on. */
function table(count: number, first = 0): Session[] {
  return Array.from({ length: count }, (_, i) => sampleUdpSession(first + i));
}

function digestOf(sessions: Session[], prefixBits = 0, prefix = 0, marginMs = 0): TableDigest {
  const digest = new TableDigest(prefixBits, prefix);
  const payload = encodeSessions(sessions, "raw36-4.1.13");
  digest.addPayload(payload, "raw36-4.1.13", marginMs);
  return digest;
}

Deno.test("digest: identities only; the order, states and timers do not count", () => {
  const sessions = table(500);
  const shuffled = [...sessions].reverse().map((s, i) => ({
    ...s,
    expirationMs: 1000 + i,
    state: 0,
    timer: i % 2,
  }));
  assert.deepEqual(digestOf(sessions).differing(digestOf(shuffled)), []);
  // The same identities in another encoding (a peer on another Jool 4.1) give the same digest.
  const nested = new TableDigest();
  nested.addPayload(
    encodeSessions(
      sessions.map((s) => ({ ...s, dst6: { address: "64:ff9b::cb00:7109", port: 53 } })),
      "nested-4.1.0",
    ),
    "nested-4.1.0",
    0,
  );
  assert.deepEqual(digestOf(sessions).differing(nested), []);
});

Deno.test("digest: a missing session shows in its bucket, and in one sub-bucket under it", () => {
  const full = table(20_000);
  const lacking = full.filter((_, i) => i !== 12_345);
  const buckets = digestOf(full).differing(digestOf(lacking));
  assert.equal(buckets.length, 1);
  const [bucket] = buckets;
  const sub = digestOf(full, 8, bucket).differing(digestOf(lacking, 8, bucket));
  assert.equal(sub.length, 1, "narrowed to one of 256 sub-buckets");
  const under = digestOf(full, 16, (bucket << 8) | sub[0]);
  assert.ok(under.counts.reduce((a, b) => a + b) <= 3, "a handful of sessions left to list");
});

Deno.test("digest: sessions about to expire are left out (they may be gone on a peer already)", () => {
  const sessions = table(10).map((s, i) => ({ ...s, expirationMs: i < 3 ? 20_000 : 300_000 }));
  const digest = digestOf(sessions, 0, 0, 30_000);
  assert.equal(digest.counts.reduce((a, b) => a + b), 7);
  assert.deepEqual(digest.differing(digestOf(sessions.slice(3))), []);
});

Deno.test("DIGEST messages carry the digest, 64 buckets a message, and decode as encoded", () => {
  const digest = digestOf(table(1000), 8, 0x2a);
  const messages = digest.encode("default", 77);
  assert.equal(messages.length, DIGEST_BUCKETS / 64);
  assert.ok(messages.every((m) => m.byteLength === 36 + 12 * 64 && m[5] === ControlType.DIGEST));
  const copy = new TableDigest(8, 0x2a);
  for (const message of messages) {
    const part = decodeDigest(message) as DigestPart;
    assert.deepEqual([part.instance, part.round, part.prefixBits, part.prefix], [
      "default",
      77,
      8,
      0x2a,
    ]);
    applyDigestPart(copy, part);
  }
  assert.deepEqual(copy.differing(digest), []);
  const cut = messages[0].subarray(0, 40);
  assert.equal(decodeDigest(cut), "a DIGEST of buckets 0 + 64 in 40 bytes");
  const resync = new Uint8Array(32);
  resync.set([0x4a, 0x44, 0x52, 0x53, 1, ControlType.REQUEST]);
  assert.equal(decodeDigest(resync), null);
});

Deno.test("a round's start is a DIGEST of no bucket: 36 bytes, and no digest's part", () => {
  const start = encodeRoundStart("default", 0xdeadbeef);
  assert.deepEqual([...start.subarray(0, 8)], [
    0x4a,
    0x44,
    0x52,
    0x53,
    1,
    ControlType.DIGEST,
    0,
    0,
  ]);
  assert.equal(start.byteLength, 36);
  const part = decodeDigest(start) as DigestPart;
  assert.deepEqual([part.instance, part.round, part.high.length], ["default", 0xdeadbeef, 0]);
  assert.ok(isRoundStart(part));
  for (const message of digestOf(table(10)).encode("default", 1)) {
    assert.ok(!isRoundStart(decodeDigest(message) as DigestPart));
  }
});

Deno.test("addIdentity() and bucketOf(): the bucket add() counts a session in, whatever its timer", () => {
  const payload = encodeSessions(table(300), "raw36-4.1.13");
  const byAdd = digestOf(table(300));
  const byIdentity = new TableDigest();
  const under = new TableDigest(8, 0x2a);
  for (const fields of readCheckedSessionFields(payload, "raw36-4.1.13")) {
    const bucket = byIdentity.addIdentity({ ...fields, expirationMs: 0 });
    assert.equal(bucket, byIdentity.bucketOf(fields));
    const sub = under.bucketOf(fields);
    assert.equal(sub >= 0, under.addIdentity(fields) >= 0, "under a prefix: -1 for the others");
  }
  assert.deepEqual(byIdentity.differing(byAdd), []);
  assert.deepEqual(under.differing(digestOf(table(300), 8, 0x2a)), []);
});
