/**
 * The convergence check's rounds, between daemons on fake kernels and
 * in-memory channels: tables that differ end with the union, equal ones
 * exchange the digests only, young and expiring sessions are left out, a
 * round repairs 16 buckets at most, a flood of forged DIGESTs reads the
 * table and sends within the bounds, failures are counted and logged,
 * nothing with reliable delivery off.
 */

import assert from "node:assert/strict";
import type { IpSocketAddress } from "../../ffi/sockaddr.ts";
import { formatVersion, joolVersion } from "../jool/header.ts";
import { JoolOperation } from "../jool/protocol.ts";
import { encodeSessions, type Session, TABLE_READ_ENCODING } from "../jool/session.ts";
import {
  FIRST_ROUND_DELAY_MS,
  FOLLOW_UP_ROUND_DELAY_MS,
  MAX_REPAIR_BUCKETS,
  MIN_ROUND_INTERVAL_MS,
  REPAIR_DELAY_MS,
  ROUND_INTERVAL_MS,
} from "../sync/convergence_round.ts";
import { encodeRoundStart, TableDigest } from "../sync/table_digest.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { MemoryPeerChannel, peerAddress } from "../../tests/support/memory_peer_channel.ts";
import { settle, type SyncHarness, syncHarness } from "../../tests/support/sync_harness.ts";
import { readCheckedSessionFields } from "../jool/session_decode.ts";
import { type ConvergenceCheck, startConvergenceCheck } from "./convergence_check.ts";

const JOOL_4_1_15 = joolVersion(4, 1, 15);

/** Remaining time of a session idle for 100 s of its 300 s (UDP): it counts in a round. */
const SETTLED_MS = 200_000;

/** The `index`-th made-up UDP session, idle long enough to count in a round. */
function settled(index: number): Session {
  return { ...sampleUdpSession(index), expirationMs: SETTLED_MS };
}

function range(first: number, count: number): Session[] {
  return Array.from({ length: count }, (_, i) => settled(first + i));
}

/** One daemon: its sync path on a fake kernel, its control port, its check. */
interface Node {
  harness: SyncHarness;
  control: MemoryPeerChannel;
  check: ConvergenceCheck | null;
  address: IpSocketAddress;
  /** Datagrams of `control.sent` and of the sync channel's already passed on. */
  controlSeen: number;
  syncSeen: number;
}

async function node(
  n: number,
  sessions: Session[],
  { version = JOOL_4_1_15, reliableDelivery = true } = {},
): Promise<Node> {
  const harness = await syncHarness({ version, sessions });
  harness.jool.absorbAdds = true;
  const control = new MemoryPeerChannel();
  const check = startConvergenceCheck(harness.sync, {
    kernel: harness.link,
    jool: harness.local,
    control,
    instance: harness.jool.instance,
    counters: harness.counters,
    logger: harness.logger,
    clock: harness.clock,
    // Each node its own jitter: peers that took part in a round do not start the next together.
    random: () => (n * 0.3) % 1,
  }, reliableDelivery);
  return { harness, control, check, address: peerAddress(n), controlSeen: 0, syncSeen: 0 };
}

/** Passes what each node sent to every other: control messages to its check, sessions to its relay. */
function exchange(nodes: Node[]): void {
  for (const from of nodes) {
    while (from.controlSeen < from.control.sent.length) {
      const data = from.control.sent[from.controlSeen++];
      for (const to of nodes) {
        if (to !== from) {
          to.check?.receive({ data, fullLength: data.byteLength, from: from.address });
        }
      }
    }
    const sync = from.harness.channel.sent;
    while (from.syncSeen < sync.length) {
      const data = sync[from.syncSeen++];
      for (const to of nodes) {
        if (to === from) continue;
        to.harness.channel.deliver(data, from.address);
        to.harness.sync.toKernel.drain();
      }
    }
  }
}

/** Moves every node's clock `ms` on, in steps of `stepMs`, passing messages between them. */
async function pass(nodes: Node[], ms: number, stepMs = 50): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += stepMs) {
    for (const each of nodes) each.harness.clock.advance(stepMs);
    await settle();
    exchange(nodes);
  }
}

/** The identities of sessions, sorted. */
function identitiesOf(sessions: Session[]): string[] {
  return sessions.map((s) =>
    `${s.proto} [${s.src6.address}]:${s.src6.port} ${s.src4.address}:${s.src4.port} ` +
    `${s.dst4.address}:${s.dst4.port}`
  ).sort();
}

/** The identities of a node's table, sorted. */
function identities(each: Node): string[] {
  return identitiesOf(each.harness.jool.sessions);
}

/** SESSION_FOREACH requests so far (pages read). */
function pagesRead(each: Node): number {
  return each.harness.jool.commands().filter((c) => c === JoolOperation.SESSION_FOREACH).length;
}

/** The sessions of `sessions` in its `count` fullest buckets. */
function fullestBuckets(sessions: Session[], count: number): number {
  const digest = new TableDigest();
  const payload = encodeSessions(sessions, TABLE_READ_ENCODING);
  for (const fields of readCheckedSessionFields(payload, TABLE_READ_ENCODING)) {
    digest.addIdentity(fields);
  }
  return [...digest.counts].sort((x, y) => y - x).slice(0, count).reduce((x, y) => x + y, 0);
}

/** Two nodes, the second started 10 s after the first (so the first's round comes first). */
async function pair(a: Session[], b: Session[], version = JOOL_4_1_15): Promise<[Node, Node]> {
  const first = await node(1, a, { version });
  // Each node on its own clock, moved on together: the first's first round is 10 s ahead.
  first.harness.clock.advance(10_000);
  return [first, await node(2, b, { version })];
}

for (const version of [JOOL_4_1_15, joolVersion(4, 1, 9)]) {
  Deno.test(`convergence (Jool ${formatVersion(version)}): tables that differ end with the union`, async () => {
    const common = range(0, 300);
    const [a, b] = await pair(
      [...common, ...range(1000, 6)],
      [...common, ...range(2000, 4)],
      version,
    );
    await pass([a, b], FIRST_ROUND_DELAY_MS);
    assert.equal(a.harness.counters.convergenceRounds, 1, "a started a round");
    assert.equal(b.harness.counters.convergenceRounds, 1, "b took part in it");
    await pass([a, b], REPAIR_DELAY_MS + 2_000);
    const union = identitiesOf([...common, ...range(1000, 6), ...range(2000, 4)]);
    assert.deepEqual(identities(a), union);
    assert.deepEqual(identities(b), union);
    for (const each of [a, b]) {
      assert.equal(each.harness.counters.convergenceRepairs, 1);
      assert.ok(each.harness.counters.convergenceBuckets >= 1);
      assert.equal(each.harness.counters.convergenceFailures, 0);
      assert.equal(each.harness.counters.controlDropped, 0);
      // Sent from a table read: counted with the table dumps' (the e2e counter relations).
      assert.equal(
        each.harness.counters.advertisedSessions,
        each.harness.counters.convergenceSessions,
      );
      assert.equal(each.harness.counters.advertisedDatagrams, each.harness.channel.sent.length);
    }
    // Each sent what it alone had, with the rest of those buckets: never more than the buckets hold.
    assert.ok(a.harness.counters.convergenceSessions >= 6);
    assert.ok(b.harness.counters.convergenceSessions >= 4);
    assert.ok(
      a.harness.logs.some((line) => /^info: Convergence round .* buckets differed/.test(line)),
    );
    // The next round finds nothing to repair.
    const sentBefore = a.harness.channel.sent.length + b.harness.channel.sent.length;
    await pass([a, b], ROUND_INTERVAL_MS + 60_000, 500);
    assert.equal(a.harness.counters.convergenceRounds + b.harness.counters.convergenceRounds, 4);
    assert.equal(a.harness.counters.convergenceRepairs, 1);
    assert.equal(a.harness.channel.sent.length + b.harness.channel.sent.length, sentBefore);
  });
}

Deno.test("convergence: two daemons whose rounds start together make one round of it", async () => {
  const common = range(0, 100);
  // Started at the same moment: their first rounds' starts cross on the link.
  const a = await node(1, [...common, settled(700)]);
  const b = await node(2, [...common, settled(800)]);
  await pass([a, b], FIRST_ROUND_DELAY_MS + REPAIR_DELAY_MS + 2_000);
  assert.equal(a.control.sent.length, 1 + 4, "a's start and digest");
  assert.equal(b.control.sent.length, 1 + 4, "b's start and digest");
  const union = identitiesOf([...common, settled(700), settled(800)]);
  assert.deepEqual(identities(a), union);
  assert.deepEqual(identities(b), union);
  for (const each of [a, b]) {
    assert.equal(each.harness.counters.convergenceRounds, 1);
    assert.equal(each.harness.counters.controlDropped, 0, "nothing dropped");
  }
});

Deno.test("convergence: equal tables exchange the digests and nothing else", async () => {
  const table = range(0, 500);
  const [a, b] = await pair(table, table.map((s) => ({ ...s, expirationMs: SETTLED_MS - 500 })));
  await pass([a, b], FIRST_ROUND_DELAY_MS + REPAIR_DELAY_MS + 2_000);
  assert.equal(a.control.sent.length, 1 + 4, "a's start and its digest");
  assert.equal(b.control.sent.length, 4, "b's digest");
  assert.ok(a.control.sent.every((m) => m.byteLength <= 36 + 12 * 64));
  assert.deepEqual([a.harness.channel.sent.length, b.harness.channel.sent.length], [0, 0]);
  for (const each of [a, b]) {
    assert.equal(each.harness.counters.convergenceRounds, 1);
    assert.equal(each.harness.counters.convergenceBuckets, 0);
    assert.equal(each.harness.counters.convergenceRepairs, 0);
  }
});

Deno.test("convergence: young and expiring sessions are left out of the digests", async () => {
  const table = range(0, 200);
  // Refreshed 5 s ago (its own packets sync it), and about to expire: a peer may lack either.
  const young = { ...settled(900), expirationMs: 295_000 };
  const expiring = { ...settled(901), expirationMs: 20_000 };
  const [a, b] = await pair([...table, young, expiring], table);
  await pass([a, b], FIRST_ROUND_DELAY_MS + REPAIR_DELAY_MS + 2_000);
  assert.equal(a.harness.counters.convergenceBuckets, 0);
  assert.equal(b.harness.counters.convergenceBuckets, 0);
  assert.deepEqual([a.harness.channel.sent.length, b.harness.channel.sent.length], [0, 0]);
  assert.equal(b.harness.jool.sessions.length, 200, "b was sent neither");
});

Deno.test("convergence: a round repairs 16 buckets at most; the next rounds the rest", async () => {
  const table = range(0, 100);
  const extra = range(5000, 400); // spread over most of the 256 buckets
  const [a, b] = await pair([...table, ...extra], table);
  await pass([a, b], FIRST_ROUND_DELAY_MS + REPAIR_DELAY_MS + 2_000, 100);
  const buckets = new Set<number>();
  const digest = new TableDigest();
  const gained = encodeSessions(b.harness.jool.sessions.slice(100), TABLE_READ_ENCODING);
  for (const fields of readCheckedSessionFields(gained, TABLE_READ_ENCODING)) {
    buckets.add(digest.bucketOf(fields));
  }
  assert.ok(a.harness.counters.convergenceBuckets > MAX_REPAIR_BUCKETS);
  assert.equal(buckets.size, MAX_REPAIR_BUCKETS, "b got the sessions of 16 buckets");
  assert.ok(b.harness.jool.sessions.length < 500);
});

Deno.test("convergence: a round that left buckets unrepaired is followed by another within minutes", async () => {
  const table = range(0, 100);
  const extra = range(5000, 400); // spread over most of the 256 buckets: 16 a round
  const [a, b] = await pair([...table, ...extra], table);
  // The rounds that 256 buckets need at 16 a round, each a follow-up; not one whole interval.
  const rounds = Math.ceil(256 / MAX_REPAIR_BUCKETS);
  const ms = FIRST_ROUND_DELAY_MS + rounds * FOLLOW_UP_ROUND_DELAY_MS + REPAIR_DELAY_MS;
  assert.ok(ms < FIRST_ROUND_DELAY_MS + 4 * ROUND_INTERVAL_MS);
  await pass([a, b], ms, 1_000);
  assert.deepEqual(identities(b), identities(a));
  assert.equal(b.harness.jool.sessions.length, 500);
  assert.ok(
    a.harness.counters.convergenceRounds <= rounds + 1,
    `${a.harness.counters.convergenceRounds} rounds`,
  );
});

Deno.test("convergence: a flood of forged starts and DIGESTs reads the table once a minute at most", async () => {
  const table = range(0, 300);
  const victim = await node(2, table);
  const forger = peerAddress(66);
  const logsBefore = victim.harness.logs.length;
  const minutes = 10;
  for (let second = 0; second < minutes * 60; second++) {
    // Every second: a new round's start and a digest unlike any table, of every round id seen.
    const id = 1 + second;
    victim.check!.receive({ data: encodeRoundStart("default", id), fullLength: 36, from: forger });
    const bogus = new TableDigest();
    bogus.counts.fill(7);
    for (const started of [id, id - 1]) {
      for (const data of bogus.encode("default", started)) {
        victim.check!.receive({ data, fullLength: data.byteLength, from: forger });
      }
    }
    await pass([victim], 1_000, 250);
  }
  const rounds = victim.harness.counters.convergenceRounds;
  assert.ok(rounds <= Math.ceil(minutes * 60_000 / MIN_ROUND_INTERVAL_MS), `${rounds} rounds`);
  // A read of 300 sessions: TCP's empty page, UDP's 6 of 57, ICMP's empty page.
  assert.ok(pagesRead(victim) <= 2 * rounds * 8, "two reads a round at most");
  assert.ok(victim.harness.counters.convergenceRepairs <= rounds);
  const bound = rounds * fullestBuckets(table, MAX_REPAIR_BUCKETS);
  assert.ok(victim.harness.counters.convergenceSessions <= bound, "16 buckets a round at most");
  assert.ok(victim.harness.counters.controlDropped > minutes * 60, "the rest counted as dropped");
  const logs = victim.harness.logs.slice(logsBefore);
  // Starts refused by the bound are the bound at work (a peer restarted): said, not warned of.
  assert.ok(
    logs.some((l) =>
      /^info: Dropped the start of round \w+ from .*: this daemon took part/.test(l)
    ),
  );
  const warnings = logs.filter((l) => l.startsWith("warning"));
  assert.ok(warnings.length <= minutes * 4 + 4, `${warnings.length} warnings`);
});

Deno.test("convergence: a table that cannot be read is counted, logged, and tried again later", async () => {
  const victim = await node(1, range(0, 50));
  victim.harness.jool.refuse(JoolOperation.SESSION_FOREACH, 1, "Nope.");
  await pass([victim], FIRST_ROUND_DELAY_MS + 1_000);
  assert.equal(victim.harness.counters.convergenceFailures, 1);
  assert.ok(
    victim.harness.logs.some((l) =>
      /warning: Convergence round .* cannot read the session table/.test(l)
    ),
  );
  assert.equal(victim.control.sent.length, 1, "its start only: no digest");
  await pass([victim], ROUND_INTERVAL_MS + 60_000, 1_000);
  assert.equal(victim.harness.counters.convergenceRounds, 2, "the next round came");
});

Deno.test("convergence: off with reliable delivery off", async () => {
  const off = await node(1, range(0, 50), { reliableDelivery: false });
  assert.equal(off.check, null);
  await pass([off], FIRST_ROUND_DELAY_MS + 1_000, 500);
  assert.deepEqual(off.control.sent, []);
  assert.equal(off.harness.counters.convergenceRounds, 0);
  const on = await node(1, range(0, 50));
  await pass([on], FIRST_ROUND_DELAY_MS + 1_000, 500);
  assert.equal(on.harness.counters.convergenceRounds, 1);
  on.check!.stop();
});
