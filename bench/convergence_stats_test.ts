import assert from "node:assert/strict";
import {
  converged,
  convergenceNodeTable,
  type ConvergenceRecord,
  convergenceReport,
  convergenceRunTable,
  type NodeSnapshot,
  parseRoundLog,
  portTraffic,
  type RoundLog,
} from "./convergence_stats.ts";

const LOG = [
  "2026-12-08T01:00:00.000Z info: Kernel socket ready: family Jool id 32, group joold id 9",
  "2026-12-08T01:00:30.500Z debug: Convergence round 0badf00d: read 0 sessions in 40 ms, 0 counted in the digest",
  "2026-12-08T01:03:00.100Z debug: Convergence round 1234abcd: read 100020 sessions in 8123 ms, 100020 counted in the digest",
  "2026-12-08T01:03:40.600Z info: Convergence round 1234abcd: 16 of 256 buckets differed from 2001:db8:ff08::2; sent our 6270 sessions of 16 of them",
  "",
].join("\n");

Deno.test("convergence stats: the round's read and repair from a daemon's log, other rounds left out", () => {
  assert.deepEqual(parseRoundLog(LOG, "1234abcd"), {
    read: 100020,
    counted: 100020,
    readMs: 8123,
    repairedAtMs: Date.parse("2026-12-08T01:03:40.600Z"),
    differing: 16,
    repairSessions: 6270,
    repairBuckets: 16,
  });
  const empty = parseRoundLog(LOG, "0badf00d");
  assert.equal(empty.read, 0);
  assert.equal(empty.repairedAtMs, null);
  assert.equal(parseRoundLog("", "1234abcd").readMs, null);
});

function snapshot(cpu: number, sessions: number, wire: number, ports: boolean): NodeSnapshot {
  return {
    userSeconds: cpu * 0.75,
    systemSeconds: cpu * 0.25,
    rssKiB: 60000,
    hwmKiB: 81920,
    sessions,
    wire: { bytes: wire, packets: wire / 1000 },
    ports: ports
      ? { control: { bytes: wire / 10, packets: 4 }, sync: { bytes: wire * 0.9, packets: 200 } }
      : null,
  };
}

const injection = (sessions: number, seconds: number, buckets: number[] = []) => ({
  sessions,
  messages: Math.ceil(sessions / 1638),
  seconds,
  refused: 0,
  buckets,
});

const START_MS = Date.parse("2026-12-08T01:03:00.000Z");

function record(ports: boolean, complete: number | null = START_MS + 41_500): ConvergenceRecord {
  const counters = (rounds: number, failures: number, sentBytes: number, sentPackets: number) => ({
    counters: {
      convergenceRounds: rounds,
      convergenceFailures: failures,
      netSentBytes: sentBytes,
      netSentPackets: sentPackets,
    },
  });
  return {
    sessions: 100000,
    extras: 20,
    buckets: 16,
    udpTimeout: "02:00:00",
    idleSeconds: 120,
    injectSeconds: 95,
    roundsBefore: 1,
    round: "1234abcd",
    startMs: START_MS,
    j2CompleteMs: complete,
    inject: {
      j1: injection(100000, 80),
      j2: injection(100000, 82),
      extras: injection(20, 3, [1, 9, 200]),
    },
    before: {
      j1: snapshot(10, 100020, 1_000_000, ports),
      j2: snapshot(20, 100000, 500_000, ports),
    },
    after: {
      j1: snapshot(14.5, 100020, 1_400_000, ports),
      j2: snapshot(23, complete === null ? 100000 : 100020, 900_000, ports),
    },
    stats: {
      j1: { before: counters(1, 0, 0, 0), after: counters(2, 0, 250_000, 180) },
      j2: { before: counters(1, 0, 0, 0), after: counters(2, 0, 250_800, 181) },
    },
  };
}

Deno.test("convergence stats: per-port bytes from tc where measured, else from the daemon's counters", () => {
  const measured = record(true);
  assert.deepEqual(
    portTraffic(measured.before.j1, measured.after.j1, measured.stats.j1),
    {
      control: { bytes: 40_000, packets: 0 },
      sync: { bytes: 360_000, packets: 0 },
      measured: true,
    },
  );
  const derived = record(false);
  // Sync: 250,000 payload bytes + 62 per frame of 180; control: the rest of 400,000 bytes, 400 frames.
  assert.deepEqual(portTraffic(derived.before.j1, derived.after.j1, derived.stats.j1), {
    control: { bytes: 400_000 - 261_160, packets: 400 - 180 },
    sync: { bytes: 261_160, packets: 180 },
    measured: false,
  });
  // A daemon too busy to answer for its counters: no guess.
  derived.stats.j2.after = null;
  assert.equal(portTraffic(derived.before.j2, derived.after.j2, derived.stats.j2), null);
});

Deno.test("convergence stats: converged only with the extras on j2 and no failure", () => {
  assert.equal(converged(record(true)), true);
  assert.equal(converged(record(true, null)), false);
  const failed = record(true);
  failed.stats.j2.after.counters.convergenceFailures = 1;
  assert.equal(converged(failed), false);
  // A daemon that did not answer for its counters: judged by the sessions.
  const unread = record(true);
  unread.stats.j2.after = null;
  assert.equal(converged(unread), true);
});

Deno.test("convergence stats: the tables", () => {
  const logs = new Map<string, RoundLog>([
    ["100000.j1", parseRoundLog(LOG, "1234abcd")],
    ["100000.j2", parseRoundLog(LOG.replace("8123 ms", "9000 ms"), "1234abcd")],
  ]);
  const runs = convergenceRunTable([record(true)]);
  assert.match(runs, /\| 100,000 +\| 20 \(3\) +\| 80 \/ 82 +\| +41\.5 \|/);
  assert.match(runs, /\| +0 \/ 0 \| +yes \|$/m);
  const nodes = convergenceNodeTable([record(true)], logs);
  // j1: read 8,123 ms, CPU 4.50 s, HWM 80 MiB, repair done 40.6 s after the start.
  assert.match(nodes, /\| 100,000 +\| j1 +\| 8123 +\| +100,020 \| +4\.50 \| +80\.0 \|/);
  assert.match(nodes, /\| +16 \| +6,270 \(16\) \| +351\.6 \(0\) \| +40\.6 \|/);
  assert.match(nodes, /\| 100,000 +\| j2 +\| 9000 +\|/);
  assert.doesNotMatch(convergenceReport([record(true)], logs), /No per-port counters/);
  // A repair not finished: what the counters say it sent so far.
  const unfinished = record(true);
  unfinished.stats.j1.after.counters.convergenceSessions = 1500;
  const partial = new Map(logs);
  partial.set("100000.j1", { ...logs.get("100000.j1")!, repairSessions: null, repairedAtMs: null });
  assert.match(convergenceNodeTable([unfinished], partial), /\| +1,500 so far \| .* \| +- \|/);
  const derived = convergenceReport([record(false)], logs);
  assert.match(derived, /\(\d+\)\*/);
  assert.match(derived, /No per-port counters/);
});
