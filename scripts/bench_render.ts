/**
 * What `deno task bench:report` writes into BENCHMARKS.md and README.md:
 * the steps it runs, and from their results the text of each generated
 * region (between `<!-- bench:begin NAME -->` and `<!-- bench:end NAME -->`).
 * Pure: results in, markdown out; scripts/bench_report.ts runs the steps
 * and reads and writes the files.
 *
 * @module
 */

import {
  authCost,
  authCostLine,
  completeRunsLine,
  cpuMsPer10k,
  memoryTable,
  oursTable,
  reliableCostLine,
  type RunRecord,
  runsTable,
  sessionBytes,
  syncReport,
  type SyncResults,
  wireTable,
} from "./bench_sync.ts";
import { windowReport, type WindowResults } from "./bench_window.ts";
import { type ConvergenceResults, convergenceResultsReport } from "./bench_convergence.ts";
import { percentile, windowRows } from "../bench/window_stats.ts";

/** The command that makes every generated region. */
export const REPORT_COMMAND = "scripts/deno.sh task bench:report";

/** The Jool versions the report measures, newest first. */
export const REPORT_VERSIONS = ["4.1.15", "4.1.13", "4.1.9"] as const;

/** The version the auth and memory runs use. */
const AUTH_VERSION = "4.1.15";

/** The lossy sync links measured, on which versions, and at what loss (percent). */
export const LOSSY_VERSIONS = ["4.1.15", "4.1.9"] as const;
export const LOSSES = [2, 10] as const;

/** What runs on a lossy link: the C joold's share, ours, ours without the machinery, sealed. */
const LOSSY_RUNS = "reference:30000:0 ours:30000:0 ours-off:30000:0 ours-auth:30000:0";

/**
 * What reliable delivery costs on a clean link: ours without it and with it,
 * four each in ABBA order, so that a drift of the emulated CPU's speed over
 * the run weighs on both alike.
 */
const RELIABLE_COST_RUNS = Array.from(
  { length: 2 },
  () => "ours-off:30000:0 ours:30000:0 ours:30000:0 ours-off:30000:0",
).join(" ");

/** The versions the convergence check's cost is measured on: the newest and Debian 12's. */
export const CONVERGENCE_VERSIONS = ["4.1.15", "4.1.9"] as const;

/** What kinds of step there are, for `--only`. */
export const STEP_KINDS = [
  "sync",
  "window",
  "auth-memory",
  "lossy",
  "reliable-cost",
  "convergence",
  "micro",
] as const;

/** One step of the report: a deno task and its options. */
export interface StepPlan {
  /** Unique, e.g. "sync-4.1.15"; names its results in meta.json. */
  name: string;
  kind: typeof STEP_KINDS[number];
  /** The task and its options, without --out. */
  task: string;
  args: string[];
  /** Where the task writes, relative to the report's root: its --out. */
  out: string;
  /** Where its results are read from, relative to the root. */
  results: string;
}

/**
 * The steps, in the order they run: per version sync then window, then auth
 * and memory, micro, the lossy links, reliable delivery's cost and the
 * convergence check's.
 */
export function reportSteps(): StepPlan[] {
  const steps: StepPlan[] = [];
  // bench:sync leaves its results in OUT/VERSION/bench, bench:window in OUT/VERSION/window.
  const perVersion = [["sync", "bench:sync", "bench"], [
    "window",
    "bench:window",
    "window",
  ]] as const;
  for (const jool of REPORT_VERSIONS) {
    for (const [kind, task, leaf] of perVersion) {
      steps.push({
        name: `${kind}-${jool}`,
        kind,
        task,
        args: ["--jool", jool],
        out: kind,
        results: `${kind}/${jool}/${leaf}`,
      });
    }
  }
  steps.push({
    name: "auth-memory",
    kind: "auth-memory",
    task: "bench:sync",
    args: ["--jool", AUTH_VERSION, "--auth", "--memory", "10000:100000:6700", "--startup", "0"],
    out: "auth-memory",
    results: `auth-memory/${AUTH_VERSION}/bench`,
  });
  steps.push({
    name: "micro",
    kind: "micro",
    task: "bench",
    args: ["--json"],
    out: "micro",
    results: "micro",
  });
  // The lossy link and reliable delivery's cost last: a run cut short renders what it measured.
  for (const jool of LOSSY_VERSIONS) {
    for (const loss of LOSSES) {
      steps.push({
        name: `lossy-${jool}-${loss}`,
        kind: "lossy",
        task: "bench:sync",
        args: ["--jool", jool, "--loss", String(loss), "--runs", LOSSY_RUNS, "--startup", "0"],
        out: `lossy-${loss}`,
        results: `lossy-${loss}/${jool}/bench`,
      });
    }
  }
  steps.push({
    name: "reliable-cost",
    kind: "reliable-cost",
    task: "bench:sync",
    args: ["--jool", AUTH_VERSION, "--runs", RELIABLE_COST_RUNS, "--startup", "0"],
    out: "reliable-cost",
    results: `reliable-cost/${AUTH_VERSION}/bench`,
  });
  // bench:convergence leaves its results in OUT/VERSION/convergence.
  for (const jool of CONVERGENCE_VERSIONS) {
    steps.push({
      name: `convergence-${jool}`,
      kind: "convergence",
      task: "bench:convergence",
      args: ["--jool", jool],
      out: "convergence",
      results: `convergence/${jool}/convergence`,
    });
  }
  return steps;
}

/** What meta.json records of a step that ran. */
export interface StepRecord {
  name: string;
  /** The command as typed, e.g. `scripts/deno.sh task bench:sync --jool 4.1.15`. */
  command: string;
  /** Set when the step ran as part of this command (`scripts/deno.sh task bench:report`). */
  via: string | null;
  /** `git rev-parse --short HEAD` when it ran; null: not recorded. */
  commit: string | null;
  /** src/, ffi/, main.ts, bench/ or scripts/ differed from that commit. */
  dirty: boolean;
  /** YYYY-MM-DD (UTC). */
  date: string;
  /** Wall time; null: not recorded. */
  seconds: number | null;
  /** The step's exit status. */
  status: number;
}

/** One micro-benchmark, from `deno bench --json`. */
export interface MicroBench {
  group: string | null;
  name: string;
  /** Mean, p75 and p99 in nanoseconds. */
  avg: number;
  p75: number;
  p99: number;
}

/** Everything the regions are made from, by step name. */
export interface ReportResults {
  steps: StepRecord[];
  sync: Record<string, SyncResults>;
  window: Record<string, WindowResults>;
  /** By step name; absent: no convergence step ran. */
  convergence?: Record<string, ConvergenceResults>;
  micro: { runtime: string; cpu: string; benches: MicroBench[] } | null;
}

/** The regions of each file, in the order they appear. */
export const REGION_FILES: Record<string, readonly string[]> = {
  "BENCHMARKS.md": [
    "reproduce",
    ...REPORT_VERSIONS.map((jool) => `sync-${jool}`),
    "auth",
    "memory",
    ...REPORT_VERSIONS.map((jool) => `window-${jool}`),
    ...LOSSY_VERSIONS.flatMap((jool) => LOSSES.map((loss) => `lossy-${jool}-${loss}`)),
    "reliable-cost",
    ...CONVERGENCE_VERSIONS.map((jool) => `convergence-${jool}`),
    "micro",
  ],
  "README.md": ["readme-auth", "readme-cost", "readme-window"],
};

/** A region's whole text when its step has no results. */
export const NO_RESULTS = `Not measured yet: \`${REPORT_COMMAND}\` fills this in.`;

/** How a region names the commit its numbers come from. */
export const COMMIT_PATTERN = /`[0-9a-f]{7,40}`|a commit not recorded/;

/** `deno bench --json` output to the benchmarks' times. */
export function parseMicro(json: string): ReportResults["micro"] {
  // deno-lint-ignore no-explicit-any
  const report: any = JSON.parse(json);
  const benches: MicroBench[] = [];
  for (const bench of report.benches ?? []) {
    const ok = bench.results?.[0]?.ok;
    if (ok === undefined) continue;
    benches.push({
      group: bench.group ?? null,
      name: bench.name,
      avg: ok.avg,
      p75: ok.p75,
      p99: ok.p99,
    });
  }
  return { runtime: String(report.runtime ?? "?"), cpu: String(report.cpu ?? "?"), benches };
}

function commitText(step: StepRecord): string {
  if (step.commit === null) return "a commit not recorded";
  return `\`${step.commit}\`${step.dirty ? " + uncommitted changes" : ""}`;
}

function minutes(seconds: number | null): string {
  return seconds === null ? "-" : (seconds / 60).toFixed(1);
}

/** "At `abc1234`, 2026-12-07, `COMMAND` (N min)": the first line of a region with a table. */
export function provenance(step: StepRecord): string {
  const command = step.via === null
    ? `\`${step.command}\``
    : `\`${step.via}\` (its step \`${step.command}\`)`;
  const time = step.seconds === null ? "" : `, ${minutes(step.seconds)} min`;
  const failed = step.status === 0 ? "" : `, exit status ${step.status}: incomplete`;
  return `At ${commitText(step)}, ${step.date}, ${command}${time}${failed}:`;
}

/** The commits and dates of `steps`, for README's sentences: "at `abc1234`, 2026-12-07". */
function atCommits(steps: StepRecord[]): string {
  const commits = [...new Set(steps.map(commitText))];
  const dates = [...new Set(steps.map((step) => step.date))];
  const list = (items: string[]) =>
    items.length === 1 ? items[0] : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
  return `at ${list(commits)}, ${list(dates)}`;
}

function number(value: number, digits = 0): string {
  return Number.isFinite(value)
    ? value.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "-";
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${number(value, 1)}%`;
}

function nanoseconds(value: number): string {
  if (value < 1000) return `${number(value, value < 100 ? 1 : 0)} ns`;
  if (value < 1e6) return `${number(value / 1000, 1)} µs`;
  return `${number(value / 1e6, 1)} ms`;
}

function median(values: number[]): number {
  return percentile(values.filter(Number.isFinite), 50);
}

/** Runs of `kind` in `runs`: how many synced everything, of how many. */
function complete(runs: RunRecord[], kind: RunRecord["kind"]): string {
  const mine = runs.filter((run) => run.kind === kind);
  return `${mine.filter((run) => run.j2Synced >= run.j1Created).length} of ${mine.length}`;
}

function reproduceRegion(results: ReportResults): string | null {
  if (results.steps.length === 0) return null;
  const rows = results.steps.map((step) =>
    `| \`${step.command}\` | ${commitText(step)} | ${step.date} | ${minutes(step.seconds)} | ${
      step.status === 0 ? "ok" : `failed (${step.status})`
    } |`
  );
  const total = results.steps.reduce((sum, step) => sum + (step.seconds ?? 0), 0);
  return [
    `At ${
      [...new Set(results.steps.map(commitText))].join(", ")
    }: the steps of the results below, ` +
    `about ${Math.round(total / 60)} minutes of wall time in all.`,
    "",
    "| step | commit | date | wall time min | result |",
    "| ---- | ------ | ---- | ------------: | ------ |",
    ...rows,
  ].join("\n");
}

function syncRegion(results: ReportResults, step: StepRecord, jool: string): string | null {
  const sync = results.sync[step.name];
  if (sync === undefined || sync.runs.length === 0) return null;
  return [
    `${provenance(step)} guest ${sync.machine.replaceAll("\t", "").replaceAll("\n", "; ")}.`,
    "",
    syncReport(sync, jool),
  ].join("\n");
}

function authRegion(results: ReportResults, step: StepRecord): string | null {
  const runs = results.sync[step.name]?.runs ?? [];
  if (!runs.some((run) => run.kind === "ours-auth")) return null;
  return [
    `${provenance(step)} Jool ${AUTH_VERSION}.`,
    "",
    runsTable(runs),
    "",
    completeRunsLine(runs),
    "",
    authCostLine(runs) ?? "",
    "",
    oursTable(runs, sessionBytes(AUTH_VERSION)),
  ].join("\n");
}

/** Each node's RSS change from the first sample of the memory run to the last. */
function memoryGrowth(sync: SyncResults): { j1: number; j2: number } {
  const first = sync.memory[0];
  const last = sync.memory.at(-1)!;
  const change = (node: "j1" | "j2") =>
    (100 * (last[node].rssKiB - first[node].rssKiB)) / first[node].rssKiB;
  return { j1: change("j1"), j2: change("j2") };
}

function memoryRegion(results: ReportResults, step: StepRecord): string | null {
  const sync = results.sync[step.name];
  if (sync === undefined || sync.memory.length === 0) return null;
  const growth = memoryGrowth(sync);
  const first = sync.memory[0].created;
  const last = sync.memory.at(-1)!.created;
  return [
    `${provenance(step)} Jool ${AUTH_VERSION}.`,
    "",
    memoryTable(sync.memory, sessionBytes(AUTH_VERSION)),
    "",
    `RSS after ${number(last)} sessions against after ${number(first)}: node 1 ${
      signed(growth.j1)
    }, node 2 ${signed(growth.j2)}.`,
  ].join("\n");
}

function lossyRegion(results: ReportResults, step: StepRecord, loss: number): string | null {
  const sync = results.sync[step.name];
  if (sync === undefined || sync.runs.length === 0) return null;
  return [
    `${provenance(step)} ${loss}% of the sync link's datagrams lost each way.`,
    "",
    wireTable(sync.runs) ?? "",
    "",
    completeRunsLine(sync.runs),
  ].join("\n");
}

function reliableCostRegion(results: ReportResults, step: StepRecord): string | null {
  const sync = results.sync[step.name];
  if (sync === undefined || sync.runs.length === 0) return null;
  return [
    `${provenance(step)} Jool ${AUTH_VERSION}, no loss.`,
    "",
    runsTable(sync.runs),
    "",
    reliableCostLine(sync.runs) ?? "",
    "",
    wireTable(sync.runs) ?? "",
  ].join("\n");
}

function convergenceRegion(results: ReportResults, step: StepRecord): string | null {
  const convergence = results.convergence?.[step.name];
  if (convergence === undefined || convergence.records.length === 0) return null;
  return [
    `${provenance(step)} guest ${convergence.machine.replaceAll("\t", "").replaceAll("\n", "; ")}.`,
    "",
    convergenceResultsReport(convergence),
  ].join("\n");
}

function windowRegion(results: ReportResults, step: StepRecord): string | null {
  const window = results.window[step.name];
  if (window === undefined || window.runs.length === 0) return null;
  return [
    `${provenance(step)} node 1's instance before the daemons: ${window.globals}.`,
    "",
    windowReport(window),
  ].join("\n");
}

function microRegion(results: ReportResults, step: StepRecord): string | null {
  const micro = results.micro;
  if (micro === null || micro.benches.length === 0) return null;
  return [
    `${provenance(step)} on the host, ${micro.runtime}, ${micro.cpu}.`,
    "",
    "| group | benchmark | mean | p75 | p99 |",
    "| ----- | --------- | ---: | --: | --: |",
    ...micro.benches.map((bench) =>
      `| ${bench.group ?? ""} | ${bench.name} | ${nanoseconds(bench.avg)} | ${
        nanoseconds(bench.p75)
      } | ${nanoseconds(bench.p99)} |`
    ),
  ].join("\n");
}

const BENCHMARKS_LINK = "[BENCHMARKS.md](BENCHMARKS.md";

function readmeAuth(results: ReportResults, step: StepRecord): string | null {
  const runs = results.sync[step.name]?.runs ?? [];
  const cost = authCost(runs);
  if (cost === null) return null;
  const relay = (kind: RunRecord["kind"]) =>
    median(runs.filter((run) => run.kind === kind).map((run) => run.j1.stats?.relayLatency?.p50Us));
  return `What sealing costs, on Jool ${AUTH_VERSION} under our benchmark's emulated CPU: of ` +
    `unthrottled 30,000-session bursts, ours synced 100% in ${complete(runs, "ours-auth")} ` +
    `with auth and in ${complete(runs, "ours")} in clear, for ${signed(cost.j1.change)} CPU ` +
    `per session on the sender and ${signed(cost.j2.change)} on the receiver; the relay's ` +
    `median latency (kernel batch to datagram sent) was ≤ ${
      number(relay("ours-auth") / 1000, 1)
    } ms ` +
    `with auth against ≤ ${number(relay("ours") / 1000, 1)} ms in clear (the relay gathers 5 ms ` +
    `of batches into one sealed datagram) (${atCommits([step])}; ` +
    `${BENCHMARKS_LINK}#authenticated-sync-what-sealing-costs)).`;
}

function readmeCost(results: ReportResults, steps: Map<string, StepRecord>): string | null {
  const used: StepRecord[] = [];
  const versions = REPORT_VERSIONS.filter((jool) => {
    const step = steps.get(`sync-${jool}`);
    if (step === undefined || (results.sync[step.name]?.runs.length ?? 0) === 0) return false;
    used.push(step);
    return true;
  });
  if (versions.length === 0) return null;
  const runsOf = (jool: string) => results.sync[`sync-${jool}`].runs;
  const all = versions.flatMap(runsOf);
  const hwm = (kind: RunRecord["kind"]) =>
    all.filter((run) => run.kind === kind).map((run) => run.j1.hwmKiB / 1024);
  const range = (values: number[]) => {
    const [low, high] = [Math.min(...values), Math.max(...values)];
    const digits = high < 10 ? 1 : 0;
    return number(low, digits) === number(high, digits)
      ? number(low, digits)
      : `${number(low, digits)}-${number(high, digits)}`;
  };
  const parts = [
    `${range(hwm("ours"))} MiB resident at its peak (the JavaScript runtime, against the ` +
    `C joold's ${range(hwm("reference"))} MiB)`,
  ];
  const memoryStep = steps.get("auth-memory");
  const memory = memoryStep === undefined ? undefined : results.sync[memoryStep.name];
  if (memoryStep !== undefined && memory !== undefined && memory.memory.length > 1) {
    const growth = memoryGrowth(memory);
    parts[0] += `, which changed by ${signed(growth.j1)} (sender) and ${signed(growth.j2)} ` +
      `(receiver) from ${number(memory.memory[0].created)} to ` +
      `${number(memory.memory.at(-1)!.created)} sessions relayed`;
    used.push(memoryStep);
  }
  const cpu = versions.map((jool) => {
    const of = (kind: RunRecord["kind"]) =>
      median(runsOf(jool).filter((run) => run.kind === kind).map((run) => cpuMsPer10k(run, "j1")));
    return `${number(of("ours"))} ms against ${number(of("reference"))} on ${jool} ` +
      `(${number(of("ours") / of("reference"), 1)} times)`;
  });
  parts.push(`CPU per 10,000 sessions synced on the sender (median): ${cpu.join(", ")}`);
  const startups = versions.flatMap((jool) => results.sync[`sync-${jool}`].startup);
  if (startups.length > 0) {
    const extra = median(startups.map((s) => s.oursMs)) -
      median(startups.map((s) => s.referenceMs));
    parts.push(`${number(extra / 1000, 1)} s more than the C joold to start (median)`);
  }
  const synced = versions.map((jool) =>
    `${complete(runsOf(jool), "ours")} on ${jool} (the C joold ${
      complete(runsOf(jool), "reference")
    })`
  );
  return `What that costs, measured under an emulated CPU (${atCommits(used)}; ` +
    `${BENCHMARKS_LINK})): ${parts.join("; ")}. In exchange, of unthrottled 30,000-session ` +
    `bursts it synced 100% in ${synced.join(", ")} (see \`ss max payload\` and \`ss capacity\` ` +
    `in [docs/configuration.md](docs/configuration.md#kernel-socket-modsocket)).`;
}

function readmeWindow(results: ReportResults, steps: Map<string, StepRecord>): string | null {
  const used: StepRecord[] = [];
  const quiet: string[] = [];
  const burst: string[] = [];
  for (const jool of REPORT_VERSIONS) {
    const step = steps.get(`window-${jool}`);
    const window = step === undefined ? undefined : results.window[step.name];
    if (step === undefined || window === undefined || window.runs.length === 0) continue;
    used.push(step);
    const rows = windowRows(window.runs);
    const ms = (load: string, value: "p50" | "p99") => {
      const of = (kind: string) =>
        number(rows.find((row) => row.kind === kind && row.load === load)?.[value] ?? NaN);
      return `${of("ours")} against ${of("reference")} ms on ${jool}`;
    };
    quiet.push(ms("quiet", "p50"));
    burst.push(ms("burst", "p99"));
  }
  if (used.length === 0) return null;
  return `How soon a new session reaches the peer (the exposure window of a failover), ours ` +
    `against the C joold: at a quiet rate (median) ${quiet.join(", ")}; in a burst's tail (p99) ` +
    `${burst.join(", ")} (${atCommits(used)}; ` +
    `${BENCHMARKS_LINK}#exposure-window-how-young-a-session-can-be-and-still-survive-a-failover)).`;
}

/** The text of every region of {@link REGION_FILES}, by name. */
export function renderRegions(results: ReportResults): Record<string, string> {
  const steps = new Map(results.steps.map((step) => [step.name, step]));
  const withStep = (name: string, render: (step: StepRecord) => string | null) => {
    const step = steps.get(name);
    return (step === undefined ? null : render(step)) ?? NO_RESULTS;
  };
  const regions: Record<string, string> = {
    reproduce: reproduceRegion(results) ?? NO_RESULTS,
    auth: withStep("auth-memory", (step) => authRegion(results, step)),
    memory: withStep("auth-memory", (step) => memoryRegion(results, step)),
    micro: withStep("micro", (step) => microRegion(results, step)),
    "readme-auth": withStep("auth-memory", (step) => readmeAuth(results, step)),
    "readme-cost": readmeCost(results, steps) ?? NO_RESULTS,
    "readme-window": readmeWindow(results, steps) ?? NO_RESULTS,
  };
  for (const jool of REPORT_VERSIONS) {
    regions[`sync-${jool}`] = withStep(`sync-${jool}`, (step) => syncRegion(results, step, jool));
    regions[`window-${jool}`] = withStep(`window-${jool}`, (step) => windowRegion(results, step));
  }
  for (const jool of LOSSY_VERSIONS) {
    for (const loss of LOSSES) {
      const name = `lossy-${jool}-${loss}`;
      regions[name] = withStep(name, (step) => lossyRegion(results, step, loss));
    }
  }
  regions["reliable-cost"] = withStep("reliable-cost", (step) => reliableCostRegion(results, step));
  for (const jool of CONVERGENCE_VERSIONS) {
    const name = `convergence-${jool}`;
    regions[name] = withStep(name, (step) => convergenceRegion(results, step));
  }
  return regions;
}

const MARKER = /<!-- bench:(begin|end) ([\w.-]+) -->/g;

/** The regions of `text` in order, with the offsets of their contents. */
function findRegions(text: string, file: string): { name: string; start: number; end: number }[] {
  const regions: { name: string; start: number; end: number }[] = [];
  let open: { name: string; start: number } | null = null;
  for (const match of text.matchAll(MARKER)) {
    const [marker, side, name] = match;
    if (side === "begin") {
      if (open !== null) throw new Error(`${file}: region ${open.name} has no end before ${name}`);
      open = { name, start: match.index + marker.length };
    } else {
      if (open === null || open.name !== name) {
        throw new Error(`${file}: bench:end ${name} without its bench:begin`);
      }
      regions.push({ name, start: open.start, end: match.index });
      open = null;
    }
  }
  if (open !== null) throw new Error(`${file}: region ${open.name} has no end`);
  return regions;
}

/** The names of the regions in `text`, in order, and each one's content (trimmed). */
export function readRegions(text: string, file: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const region of findRegions(text, file)) {
    if (found.has(region.name)) throw new Error(`${file}: region ${region.name} twice`);
    found.set(region.name, text.slice(region.start, region.end).trim());
  }
  return found;
}

/**
 * `text` with each region's content replaced by `contents[name]`; every
 * byte outside the regions kept. A region `contents` lacks, or one of
 * `contents` the text lacks, is an error naming it.
 */
export function replaceRegions(
  text: string,
  contents: Record<string, string>,
  file: string,
): string {
  const regions = findRegions(text, file);
  const names = new Set(regions.map((region) => region.name));
  for (const name of Object.keys(contents)) {
    if (!names.has(name)) throw new Error(`${file}: no region ${name} (bench:begin ${name})`);
  }
  let out = "";
  let at = 0;
  for (const region of regions) {
    const content = contents[region.name];
    if (content === undefined) throw new Error(`${file}: unknown region ${region.name}`);
    out += `${text.slice(at, region.start)}\n\n${content.trim()}\n\n`;
    at = region.end;
  }
  return out + text.slice(at);
}
