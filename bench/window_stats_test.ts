import assert from "node:assert/strict";
import {
  joolStatsDelta,
  joolStatsTable,
  parseJoolStats,
  parseStamps,
  percentile,
  pollPeriods,
  windowRows,
  windowsOf,
  windowTable,
} from "./window_stats.ts";

Deno.test("window stats: stamps per port, the first one of a port wins", () => {
  const stamps = parseStamps("1000.5 20000\n\n1002.0 20001\nnoise\n1500.0 20000\n");
  assert.deepEqual([...stamps], [[20000, 1000.5], [20001, 1002]]);
});

Deno.test("window stats: a window per session seen, the others counted missing", () => {
  const created = parseStamps("1000 1\n1010 2\n1020 3");
  const seen = parseStamps("1500 1\n3010 2");
  assert.deepEqual(windowsOf(created, seen), { windowsMs: [500, 2000], missing: 1 });
});

Deno.test("window stats: nearest-rank percentiles", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  const cases: [number, number][] = [[50, 50], [99, 99], [100, 100], [1, 1]];
  for (const [p, expected] of cases) assert.equal(percentile(values, p), expected, `p${p}`);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("window stats: listing periods from their ends", () => {
  assert.deepEqual(pollPeriods("100 130\n140 175\n180 230\n"), [45, 55]);
});

Deno.test("window stats: rows gather the runs of one daemon and load", () => {
  const rows = windowRows([
    { kind: "reference", load: "quiet", windows: { windowsMs: [10, 30], missing: 0 }, polls: [40] },
    { kind: "ours", load: "quiet", windows: { windowsMs: [20], missing: 1 }, polls: [50] },
    { kind: "reference", load: "quiet", windows: { windowsMs: [20], missing: 0 }, polls: [60] },
  ]);
  assert.deepEqual(rows.map((r) => [r.kind, r.sessions, r.missing, r.p50, r.max, r.pollMs]), [
    ["reference", 3, 0, 20, 30, 40],
    ["ours", 2, 1, 20, 20, 50],
  ]);
  const table = windowTable(rows);
  assert.match(table, /^\| C joold \| quiet \| 3 \| 0 \| 10 \| 20 \| 30 \| 30 \| 40 \|$/m);
  assert.match(table, /^\| ours {4}\| quiet \| 2 \| 1 \| 20 \| 20 \| 20 \| 20 \| 50 \|$/m);
});

Deno.test("window stats: the kernel's joold counters, their change per run, as a table", () => {
  const before = parseJoolStats("JSTAT_JOOLD_PKT_SENT: 10\nJSTAT_JOOLD_TIMEOUT: 4\nJSTAT_X: 1\n");
  const after = parseJoolStats(
    "Stat,Value\nJSTAT_JOOLD_PKT_SENT,25\nJSTAT_JOOLD_TIMEOUT,12\nJSTAT_X,1\n",
  );
  const delta = joolStatsDelta(before, after);
  assert.deepEqual(delta.slice(0, 3), [15, 8, null], "PKT_SENT, TIMEOUT, PKT_FULL (absent)");
  const table = joolStatsTable([{ kind: "reference", load: "quiet", delta }]);
  assert.match(table, /^\| daemon {2}\| load {2}\| PKT_SENT \| TIMEOUT \| PKT_FULL \|/);
  assert.match(table, /\| C joold \| quiet \| 15 \| 8 \| - \|/);
  assert.deepEqual(joolStatsDelta(new Map(), new Map()).filter((v) => v !== null), []);
});
