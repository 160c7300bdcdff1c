/**
 * BENCHMARKS.md and README.md against `deno task bench:report`
 * (scripts/bench_render.ts), without running a benchmark: the files have
 * exactly the regions it writes, each names the commit it was measured at,
 * and its region replacement leaves the rest of a file alone.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  COMMIT_PATTERN,
  NO_RESULTS,
  readRegions,
  REGION_FILES,
  renderRegions,
  replaceRegions,
  type ReportResults,
} from "../../scripts/bench_render.ts";
import { reliableCostLine, type RunRecord } from "../../scripts/bench_sync.ts";
import type { ConvergenceRecord, NodeSnapshot } from "../../bench/convergence_stats.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The first line of a region holding a table: "At `abc1234`, 2026-12-07, `COMMAND`...". */
const PROVENANCE = /^At (`[0-9a-f]{7,40}`( \+ uncommitted changes)?|a commit not recorded)[,: ]/;

Deno.test("BENCHMARKS.md and README.md have exactly the regions bench:report writes", async () => {
  for (const [file, names] of Object.entries(REGION_FILES)) {
    const regions = readRegions(await Deno.readTextFile(`${ROOT}/${file}`), file);
    assert.deepEqual([...regions.keys()], [...names], file);
    for (const [name, content] of regions) {
      if (content === NO_RESULTS) continue;
      assert.match(content, COMMIT_PATTERN, `${file}: region ${name} names no commit`);
      if (content.includes("\n|")) assert.match(content, PROVENANCE, `${file}: region ${name}`);
    }
  }
});

Deno.test("BENCHMARKS.md has no table outside its generated regions", async () => {
  const text = await Deno.readTextFile(`${ROOT}/BENCHMARKS.md`);
  const outside = text.replace(/<!-- bench:begin ([\w.-]+) -->[\s\S]*?<!-- bench:end \1 -->/g, "");
  assert.deepEqual(outside.split("\n").filter((line) => line.startsWith("|")), []);
});

const TEXT = [
  "# Title",
  "",
  "Before, kept as is.  ",
  "<!-- bench:begin one -->",
  "old one",
  "<!-- bench:end one -->",
  "Between.",
  "<!-- bench:begin two -->",
  "<!-- bench:end two -->",
  "After.",
].join("\n");

Deno.test("replaceRegions: new contents, every byte outside the markers kept", () => {
  const out = replaceRegions(TEXT, { one: "new one", two: "| a |\n| - |" }, "T.md");
  assert.equal(
    out,
    TEXT.replace("\nold one\n", "\n\nnew one\n\n").replace(
      "<!-- bench:begin two -->\n",
      "<!-- bench:begin two -->\n\n| a |\n| - |\n\n",
    ),
  );
  assert.deepEqual(Object.fromEntries(readRegions(out, "T.md")), {
    one: "new one",
    two: "| a |\n| - |",
  });
  // Again with the same contents: the same text.
  assert.equal(replaceRegions(out, { one: "new one", two: "| a |\n| - |" }, "T.md"), out);
});

Deno.test("replaceRegions: a region the text lacks, or one it has and the contents lack, is named", () => {
  assert.throws(
    () => replaceRegions(TEXT, { one: "x", two: "y", three: "z" }, "T.md"),
    /T\.md: no region three/,
  );
  assert.throws(() => replaceRegions(TEXT, { one: "x" }, "T.md"), /T\.md: unknown region two/);
  assert.throws(
    () => replaceRegions("<!-- bench:begin one -->\n", { one: "x" }, "T.md"),
    /T\.md: region one has no end/,
  );
  assert.throws(
    () => replaceRegions("<!-- bench:end one -->\n", { one: "x" }, "T.md"),
    /T\.md: bench:end one without its bench:begin/,
  );
});

/** A burst of `kind` with node 1's CPU seconds `cpu`, synced in full unless `synced` says. */
function run(kind: RunRecord["kind"], cpu: number, synced = 30000): RunRecord {
  const node = (hwmKiB: number) => ({
    userSeconds: cpu / 2,
    systemSeconds: cpu / 2,
    rssKiB: hwmKiB,
    hwmKiB,
    stats: kind === "reference" ? null : {
      counters: { kernelSentPackets: 900, kernelSentBytes: 36000, netSentPackets: 800 },
      ackLatency: { p50Us: 256, p99Us: 4096 },
      relayLatency: { p50Us: kind === "ours" ? 1024 : 8192, p99Us: 32768 },
    },
  });
  return {
    kind,
    count: 30000,
    rate: 0,
    maxPayload: 1452,
    capacity: 16384,
    warmup: 3000,
    generator: { sent: 30000, seconds: 3, rate: 10000, maxBehind: 0 },
    startEpoch: 100,
    settledEpoch: 105,
    j1Created: 30000,
    j2Synced: synced,
    datagrams: 800,
    j1: node(kind === "reference" ? 1228 : 53248),
    j2: node(kind === "reference" ? 1228 : 53248),
  };
}

const STEP = {
  command: "scripts/deno.sh task bench:sync --jool 4.1.15",
  via: "scripts/deno.sh task bench:report",
  commit: "abc1234",
  dirty: false,
  date: "2026-12-07",
  seconds: 510,
  status: 0,
};

const RESULTS: ReportResults = {
  steps: [
    { ...STEP, name: "sync-4.1.15" },
    { ...STEP, name: "auth-memory", commit: null, dirty: false },
  ],
  sync: {
    "sync-4.1.15": {
      runs: [run("reference", 0.75), run("ours", 1.95, 29000), run("ours", 1.8)],
      memory: [],
      startup: [{ oursMs: 4000, referenceMs: 500, denoFloorMs: 1000 }],
      machine: "kernel 6.1.0-57-amd64, Jool 4.1.15.0, 2 CPUs",
    },
    "auth-memory": {
      runs: [run("ours", 1.8), run("ours-auth", 2.1)],
      memory: [],
      startup: [],
      machine: "",
    },
  },
  window: {},
  micro: null,
};

Deno.test("renderRegions: every region, each table's first line naming its commit", () => {
  const regions = renderRegions(RESULTS);
  assert.deepEqual(Object.keys(regions).sort(), Object.values(REGION_FILES).flat().sort());
  for (const [name, content] of Object.entries(regions)) {
    if (content.includes("\n|")) assert.match(content, PROVENANCE, name);
  }
  assert.match(
    regions["sync-4.1.15"],
    /^At `abc1234`, 2026-12-07, `scripts\/deno.sh task bench:report` \(its step `scripts\/deno.sh task bench:sync --jool 4.1.15`\), 8.5 min: guest kernel 6\.1\.0-57-amd64/,
  );
  assert.match(regions.auth, /^At a commit not recorded, 2026-12-07/);
  // Steps that did not run, or left nothing: said so, not an empty region.
  for (const name of ["sync-4.1.13", "window-4.1.15", "memory", "micro", "readme-window"]) {
    assert.equal(regions[name], NO_RESULTS, name);
  }
});

Deno.test("renderRegions: README's sentences carry the medians and the commit", () => {
  const regions = renderRegions(RESULTS);
  // CPU ms per 10k synced on node 1: C 250; ours 672 and 600, median (nearest rank) 600.
  assert.match(regions["readme-cost"], /600 ms against 250 on 4\.1\.15 \(2\.4 times\)/);
  assert.match(regions["readme-cost"], /synced 100% in 1 of 2 on 4\.1\.15 \(the C joold 1 of 1\)/);
  assert.match(regions["readme-cost"], /52 MiB resident at its peak .* C joold's 1\.2 MiB/);
  assert.match(regions["readme-cost"], /3\.5 s more than the C joold to start/);
  assert.match(regions["readme-cost"], /at `abc1234`, 2026-12-07/);
  // Auth: node 1's CPU 1.8 → 2.1 s for the same sessions, +16.7%; relay p50 1 → 8 ms.
  assert.match(regions["readme-auth"], /\+16\.7% CPU per session on the sender/);
  assert.match(regions["readme-auth"], /≤ 8\.2 ms with auth against ≤ 1\.0 ms in clear/);
  assert.match(regions["readme-auth"], /at a commit not recorded/);
});

Deno.test("reliableCostLine: medians per 10k, and per second of the generator's CPU where measured", () => {
  // The runs with reliable delivery ran while the emulated CPU was slower (the generator took longer).
  const timed = (kind: RunRecord["kind"], cpu: number, generatorCpu: number): RunRecord => {
    const r = run(kind, cpu);
    return { ...r, generator: { ...r.generator, cpuSeconds: generatorCpu } };
  };
  const runs = [
    timed("ours-off", 1.0, 2.0),
    timed("ours", 1.5, 2.8),
    timed("ours", 1.5, 2.8),
    timed("ours-off", 1.0, 2.0),
  ];
  assert.equal(
    reliableCostLine(runs),
    "CPU per 10k sessions synced, ours without reliable delivery → with it (medians): " +
      "j1 333 → 500 ms/10k (+50.0%); j2 333 → 500 ms/10k (+50.0%). " +
      "Per second of the load generator's CPU (the same work in every run: it cancels the " +
      "emulated CPU's speed, which changes with the host's load; medians): " +
      "j1 0.500 → 0.536 s (+7.1%); j2 0.500 → 0.536 s (+7.1%).",
  );
  // Results of before the generator's CPU was measured: the first sentence alone.
  assert.equal(
    reliableCostLine([run("ours-off", 1.0), run("ours", 1.5)]),
    "CPU per 10k sessions synced, ours without reliable delivery → with it (medians): " +
      "j1 333 → 500 ms/10k (+50.0%); j2 333 → 500 ms/10k (+50.0%).",
  );
});

Deno.test("renderRegions: the convergence check's region, with its commit and whether it converged", () => {
  const node = (cpu: number, sessions: number): NodeSnapshot => ({
    userSeconds: cpu,
    systemSeconds: 0,
    rssKiB: 70000,
    hwmKiB: 90000,
    sessions,
    wire: { bytes: cpu * 1000, packets: cpu },
    ports: null,
  });
  const counters = { counters: { convergenceFailures: 0, netSentBytes: 0, netSentPackets: 0 } };
  const injection = { sessions: 100000, messages: 62, seconds: 70, refused: 0, buckets: [] };
  const record: ConvergenceRecord = {
    sessions: 100000,
    extras: 20,
    buckets: 16,
    udpTimeout: "02:00:00",
    idleSeconds: 120,
    injectSeconds: 90,
    roundsBefore: 1,
    round: "00c0ffee",
    startMs: 1_800_000_000_000,
    j2CompleteMs: 1_800_000_045_000,
    inject: { j1: injection, j2: injection, extras: { ...injection, buckets: [3, 4] } },
    before: { j1: node(10, 100020), j2: node(10, 100000) },
    after: { j1: node(15, 100020), j2: node(14, 100020) },
    stats: { j1: { before: counters, after: counters }, j2: { before: counters, after: counters } },
  };
  const regions = renderRegions({
    ...RESULTS,
    steps: [...RESULTS.steps, {
      ...STEP,
      name: "convergence-4.1.15",
      command: "scripts/deno.sh task bench:convergence --jool 4.1.15",
    }],
    convergence: {
      "convergence-4.1.15": {
        records: [record],
        logs: new Map(),
        machine: "kernel 6.1.0-57-amd64",
      },
    },
  });
  const region = regions["convergence-4.1.15"];
  assert.match(region, PROVENANCE);
  assert.match(region, /bench:convergence --jool 4\.1\.15/);
  assert.match(region, /\| 100,000 +\| 20 \(2\) +\| 70 \/ 70 +\| +45\.0 \|/);
  assert.match(region, /\| +yes \|$/m);
  assert.equal(regions["convergence-4.1.9"], NO_RESULTS);
});
