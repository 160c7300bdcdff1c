/**
 * `deno task bench:sync`: how many sessions of a burst reach the other node,
 * with this project's joold and with Jool's C joold of the same version, in
 * one VM run (a real Jool module under QEMU, the version --jool names; see
 * bench/sync_guest.sh for what happens in the guest). Prints one table and leaves everything in the out directory.
 *
 * Options (all optional):
 *   --jool VERSION                               Jool in the VM: 4.1.9, 4.1.13 or 4.1.15 (default)
 *   --runs "KIND:COUNT:RATE[:MAX_PAYLOAD] ..."   what to measure, in order (KIND: ours,
 *                                                ours-auth: ours with "auth key file", ours-off
 *                                                and ours-auth-off: the same with "reliable
 *                                                delivery": false, or reference)
 *   --loss PERCENT                               tc netem loss on the sync link, every run (0)
 *   --auth                                       ours with and without auth, alternating
 *                                                (AUTH_RUNS), unless --runs says otherwise
 *   --startup N                                  exec-to-ready samples per daemon (5; 0: none)
 *   --memory STEP:TOTAL:RATE | none              the memory run of ours
 *   --warmup N                                   sessions relayed before each run
 *   --burst N                                    packets per sendmmsg when the generator is behind
 *   --out DIR                                    results (default /var/tmp/joold-bench; then /VERSION)
 *   --ours-modsocket '"key": value'              extra modsocket members for ours
 *   --v8-flags FLAGS                             V8 flags for ours (%n: node)
 *
 * Needs Linux and root (it boots a VM; on first use it installs the Debian
 * packages, like the end-to-end tests). Not part of the test suite: it
 * measures, it does not pass or fail on numbers.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { RUNTIME_FLAGS } from "./runtime_flags.ts";
import {
  JOOL_VERSIONS,
  prepareVmBench,
  readText,
  runGuest,
  vmBenchRefusal,
  vmRunStatus,
} from "./vm_bench.ts";

/**
 * Five unthrottled 30k-session bursts (RATE 0: as fast as the generator
 * can send) per daemon, alternating: the comparison on each Jool
 * version. Older measurements (rates 3,600-13,400/s, ss-max-payload
 * variants) are in BENCHMARKS.md's git history with the --runs that made them.
 */
export const DEFAULT_RUNS = Array.from(
  { length: 5 },
  () => ["reference:30000:0", "ours:30000:0"],
).flat();
/**
 * `--auth`: the 30k-session burst with ours in clear and sealed ("auth key
 * file"), alternating, three times each: what authentication costs.
 */
export const AUTH_RUNS = Array.from(
  { length: 3 },
  () => ["ours:30000:0", "ours-auth:30000:0"],
).flat();
export { JOOL_VERSIONS };
/**
 * Under the emulated CPU one system call per packet caps the generator near
 * 6,500 packets/s; when it falls behind it may catch up with up to this many
 * packets per sendmmsg(2), so that the twice-the-baseline runs come closer to
 * their rate.
 */
export const DEFAULT_BURST = "8";
/**
 * The memory run (ours relays 10k sessions at a time up to 100k, at
 * 6,700/s; memory is sampled after each): off unless asked for, with
 * `--memory 10000:100000:6700`; about 3 minutes more.
 */
export const DEFAULT_MEMORY = "none";
/** Start-up measurements per daemon, before the runs. */
export const DEFAULT_STARTUP = "5";

/** What ran on both nodes: ours (sealed, without reliable delivery) or the C joold. */
export type RunKind = "ours" | "ours-auth" | "ours-off" | "ours-auth-off" | "reference";

/** One daemon's share of a run, as the guest recorded it. */
export interface NodeRecord {
  userSeconds: number;
  systemSeconds: number;
  rssKiB: number;
  hwmKiB: number;
  /** Memory samples only: resident anonymous memory (what the daemon allocated). */
  anonKiB?: number;
  /** Memory samples only: resident pages of mapped files (the executable's code). */
  fileKiB?: number;
  /** CPU seconds per thread name, before the burst and after it settled. */
  threadsBefore?: Record<string, number>;
  threads?: Record<string, number>;
  // deno-lint-ignore no-explicit-any
  stats: any;
}

/** One measured run (a line of runs.jsonl). */
export interface RunRecord {
  kind: RunKind;
  /** Percent of the sync link's datagrams netem dropped (both ways). */
  loss?: number;
  count: number;
  rate: number;
  /** j1's ss-max-payload during the run, as `jool global display` showed it. */
  maxPayload: number | null;
  /** j1's ss-capacity during the run. */
  capacity?: number | null;
  /** j1's JSTAT_JOOLD_SSS_ENOSPC after the run: sessions its kernel dropped (4.1.11+). */
  enospc?: number | null;
  /** j1's JSTAT_JOOLD_MISSING_ACK after the run (4.1.11+). */
  missingAck?: number | null;
  /** j1's JSTAT_JOOLD_SSS_SENT (4.1.11+): sessions its kernel multicast, warm-up included. */
  j1KernelSent?: number | null;
  /** j2's JSTAT_JOOLD_SSS_RCVD (4.1.11+): sessions its kernel was handed, warm-up included. */
  j2KernelReceived?: number | null;
  warmup: number;
  /** cpuSeconds: absent from results of before it was measured. */
  generator: {
    sent: number;
    seconds: number;
    rate: number;
    maxBehind: number;
    cpuSeconds?: number;
  };
  startEpoch: number;
  settledEpoch: number;
  j1Created: number;
  j2Synced: number;
  datagrams: number;
  /** Datagrams j2's stack dropped because the daemon's socket buffer was full. */
  j2SocketDrops?: number;
  /** What each node sent on the sync link during the burst (every port), before the loss. */
  j1Wire?: { bytes: number; packets: number };
  j2Wire?: { bytes: number; packets: number };
  j1: NodeRecord;
  j2: NodeRecord;
}

/** One sample of the memory run (a line of memory.jsonl). */
export interface MemoryRecord {
  created: number;
  j1Sessions: number;
  j2Sessions: number;
  j1: NodeRecord;
  j2: NodeRecord;
}

function parseLines<T>(text: string): T[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

function cpu(node: NodeRecord): number {
  return node.userSeconds + node.systemSeconds;
}

/** A node's CPU ms per 10,000 sessions that reached j2 (NaN if none did). */
export function cpuMsPer10k(run: RunRecord, node: "j1" | "j2"): number {
  return run.j2Synced > 0 ? (cpu(run[node]) * 1000 * 10000) / run.j2Synced : NaN;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** A Markdown table: header row, then rows; columns padded for reading as text too. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((w, i) => (i < 3 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}

/** How the tables name each kind of run. */
const DAEMON_LABELS: Record<RunKind, string> = {
  ours: "ours",
  "ours-auth": "ours, auth",
  "ours-off": "ours, no reliable delivery",
  "ours-auth-off": "ours, auth, no reliable delivery",
  reference: "C joold",
};

/** The main table: per run, sessions synced, time, CPU and memory of both daemons. */
export function runsTable(runs: RunRecord[]): string {
  const header = [
    "target rate",
    "daemon",
    "ss-max-payload",
    "ss-capacity",
    "sent/s",
    "created j1",
    "synced j2",
    "synced %",
    "j2 settled s",
    "j2 socket drops",
    "j1 ENOSPC",
    "j1 MISSING_ACK",
    "j1 kernel sent",
    "j2 kernel rcvd",
    "CPU j1 s",
    "CPU j2 s",
    "j1 CPU ms/10k",
    "j2 CPU ms/10k",
    "HWM j1 MiB",
    "HWM j2 MiB",
  ];
  const rows = runs.map((r) => {
    return [
      `${r.count} @ ${r.rate === 0 ? "max" : r.rate}/s`,
      DAEMON_LABELS[r.kind],
      r.maxPayload === null ? "?" : String(r.maxPayload),
      String(r.capacity ?? "?"),
      fixed(r.generator.rate, 0),
      String(r.j1Created),
      String(r.j2Synced),
      fixed((100 * r.j2Synced) / Math.max(1, r.j1Created), 2),
      fixed(r.settledEpoch - r.startEpoch, 1),
      String(r.j2SocketDrops ?? "-"),
      String(r.enospc ?? "-"),
      String(r.missingAck ?? "-"),
      String(r.j1KernelSent ?? "-"),
      String(r.j2KernelReceived ?? "-"),
      fixed(cpu(r.j1), 2),
      fixed(cpu(r.j2), 2),
      fixed(cpuMsPer10k(r, "j1"), 0),
      fixed(cpuMsPer10k(r, "j2"), 0),
      fixed(r.j1.hwmKiB / 1024, 1),
      fixed(r.j2.hwmKiB / 1024, 1),
    ];
  });
  return markdownTable(header, rows);
}

/** Per daemon: in how many runs every session created on j1 reached j2. */
export function completeRunsLine(runs: RunRecord[]): string {
  const line = (kind: RunRecord["kind"], label: string) => {
    const mine = runs.filter((r) => r.kind === kind);
    const complete = mine.filter((r) => r.j2Synced >= r.j1Created).length;
    return `${label} synced 100% in ${complete} of ${mine.length} runs`;
  };
  const kinds = (Object.keys(DAEMON_LABELS) as RunKind[]).filter((kind) =>
    runs.some((r) => r.kind === kind)
  );
  const labels: Record<RunKind, string> = {
    ours: "ours",
    "ours-auth": "ours with auth",
    "ours-off": "ours without reliable delivery",
    "ours-auth-off": "ours with auth, without reliable delivery",
    reference: "the C joold",
  };
  return `${kinds.map((kind) => line(kind, labels[kind])).join("; ")}.`;
}

/** One node's mean CPU per 10k sessions synced in two kinds of run, and the change in %. */
export interface CpuChange {
  before: number;
  after: number;
  change: number;
}

/**
 * The daemon's CPU per second of the generator's CPU in the same run. The
 * generator does the same work in every run, so the ratio cancels the
 * emulated CPU's speed, which changes with the host's load from one run to
 * the next; NaN where the generator's CPU was not measured.
 */
export function cpuPerGeneratorSecond(run: RunRecord, node: "j1" | "j2"): number {
  const generator = run.generator.cpuSeconds ?? 0;
  return generator > 0 ? cpu(run[node]) / generator : NaN;
}

/**
 * One kind of run against another, same VM run: each node's median of
 * `measure` (default CPU per 10k sessions synced); null without runs of
 * both kinds, or where `measure` is not known.
 */
export function cpuChange(
  runs: RunRecord[],
  from: RunKind,
  to: RunKind,
  measure: (run: RunRecord, node: "j1" | "j2") => number = cpuMsPer10k,
): { j1: CpuChange; j2: CpuChange } | null {
  // Medians: the emulated CPU's speed drifts with the host's load, and one slow run skews a mean.
  const median = (kind: RunKind, node: "j1" | "j2") => {
    const mine = runs.filter((r) => r.kind === kind && r.j2Synced > 0)
      .map((r) => measure(r, node)).sort((a, b) => a - b);
    if (mine.length === 0) return NaN;
    const middle = Math.floor(mine.length / 2);
    return mine.length % 2 === 1 ? mine[middle] : (mine[middle - 1] + mine[middle]) / 2;
  };
  const node = (name: "j1" | "j2"): CpuChange => {
    const before = median(from, name);
    const after = median(to, name);
    return { before, after, change: (100 * (after - before)) / before };
  };
  const cost = { j1: node("j1"), j2: node("j2") };
  return Object.values(cost).every((c) => Number.isFinite(c.change)) ? cost : null;
}

/**
 * {@link cpuChange} as a line of the report, and the same per second of the
 * generator's CPU where it was measured; null without runs of both kinds.
 */
export function cpuChangeLine(
  runs: RunRecord[],
  from: RunKind,
  to: RunKind,
  what: string,
): string | null {
  const cost = cpuChange(runs, from, to);
  if (cost === null) return null;
  const parts = (change: { j1: CpuChange; j2: CpuChange }, digits: number, unit: string) =>
    (["j1", "j2"] as const).map((node) => {
      const { before, after, change: percent } = change[node];
      return `${node} ${fixed(before, digits)} → ${fixed(after, digits)}${unit} (${
        percent >= 0 ? "+" : ""
      }${fixed(percent, 1)}%)`;
    }).join("; ");
  const line = `CPU per 10k sessions synced, ${what} (medians): ${parts(cost, 0, " ms/10k")}.`;
  const steady = cpuChange(runs, from, to, cpuPerGeneratorSecond);
  if (steady === null) return line;
  return `${line} Per second of the load generator's CPU (the same work in every run: it cancels ` +
    `the emulated CPU's speed, which changes with the host's load; medians): ${
      parts(steady, 3, " s")
    }.`;
}

/** What auth costs: ours in clear against ours sealed. */
export function authCost(runs: RunRecord[]): { j1: CpuChange; j2: CpuChange } | null {
  return cpuChange(runs, "ours", "ours-auth");
}

/** {@link authCost} as a line of the report. */
export function authCostLine(runs: RunRecord[]): string | null {
  return cpuChangeLine(runs, "ours", "ours-auth", "ours in clear → with auth");
}

/** What reliable delivery costs: ours without it against ours with it. */
export function reliableCostLine(runs: RunRecord[]): string | null {
  return cpuChangeLine(runs, "ours-off", "ours", "ours without reliable delivery → with it");
}

/**
 * Per run: the sync link's loss, sessions synced, what each node put on the
 * link per 10,000 sessions synced, and when j2 had them; null if the runs
 * predate the wire counts.
 */
export function wireTable(runs: RunRecord[]): string | null {
  if (!runs.some((r) => r.j1Wire !== undefined)) return null;
  const per10k = (value: number | undefined, sessions: number) =>
    value !== undefined && sessions > 0 ? fixed((value * 10000) / sessions / 1024, 0) : "-";
  const header = [
    "loss %",
    "daemon",
    "target rate",
    "created j1",
    "synced j2",
    "synced %",
    "j2 settled s",
    "j1 KiB/10k",
    "j2 KiB/10k",
    "j1 packets",
    "j2 packets",
  ];
  const rows = runs.map((r) => [
    String(r.loss ?? 0),
    DAEMON_LABELS[r.kind],
    `${r.count} @ ${r.rate === 0 ? "max" : r.rate}/s`,
    String(r.j1Created),
    String(r.j2Synced),
    fixed((100 * r.j2Synced) / Math.max(1, r.j1Created), 2),
    fixed(r.settledEpoch - r.startEpoch, 1),
    per10k(r.j1Wire?.bytes, r.j2Synced),
    per10k(r.j2Wire?.bytes, r.j2Synced),
    String(r.j1Wire?.packets ?? "-"),
    String(r.j2Wire?.packets ?? "-"),
  ]);
  return markdownTable(header, rows);
}

/** Ours only: what its JSON stats say about each run. */
export function oursTable(runs: RunRecord[], sessionBytes: number): string {
  const header = [
    "target rate",
    "daemon",
    "node",
    "kernel batches",
    "sessions/batch",
    "datagrams sent",
    "ACK p50 us",
    "ACK p99 us",
    "relay p50 us",
    "relay p99 us",
  ];
  const rows: string[][] = [];
  for (const r of runs) {
    if (r.kind === "reference") continue;
    const s = r.j1.stats;
    if (s === null || s === undefined) continue;
    const c = s.counters;
    rows.push([
      `${r.count} @ ${r.rate === 0 ? "max" : r.rate}/s`,
      DAEMON_LABELS[r.kind],
      "j1",
      String(c.kernelSentPackets),
      fixed(c.kernelSentBytes / sessionBytes / Math.max(1, c.kernelSentPackets), 1),
      String(c.netSentPackets),
      String(s.ackLatency.p50Us),
      String(s.ackLatency.p99Us),
      String(s.relayLatency.p50Us),
      String(s.relayLatency.p99Us),
    ]);
  }
  return markdownTable(header, rows);
}

/** Where ours spent its CPU during each burst, per thread: the JS thread, V8's helpers, Deno's pool. */
export function threadsTable(runs: RunRecord[]): string {
  const header = ["target rate", "daemon", "node", "JS thread s", "V8 workers s", "Deno pool s"];
  const rows: string[][] = [];
  for (const r of runs) {
    if (r.kind === "reference") continue;
    for (const node of ["j1", "j2"] as const) {
      const delta = (name: string) =>
        (r[node].threads?.[name] ?? 0) - (r[node].threadsBefore?.[name] ?? 0);
      rows.push([
        `${r.count} @ ${r.rate === 0 ? "max" : r.rate}/s`,
        DAEMON_LABELS[r.kind],
        node,
        fixed(delta("deno"), 2),
        fixed(delta("V8 DefaultWorke"), 2),
        fixed(delta("tokio-runtime-w"), 2),
      ]);
    }
  }
  return markdownTable(header, rows);
}

/**
 * The bytes of one session in a kernel batch on Jool `version` (e.g.
 * "4.1.15"): 140 in the nested encoding (≤ 4.1.11), 52 raw (4.1.12), 40 raw
 * (≥ 4.1.13), attribute headers included.
 */
export function sessionBytes(version: string): number {
  const revision = Number(version.split(".")[2] ?? "0");
  return revision <= 11 ? 140 : revision === 12 ? 52 : 40;
}

/** One start-up measurement (a line of startup.jsonl). */
export interface StartupRecord {
  oursMs: number;
  referenceMs: number;
  denoFloorMs: number;
}

/** Exec to ready (sync port bound), median and range, of each daemon and Deno's floor. */
export function startupTable(samples: StartupRecord[]): string {
  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return [String(median), `${sorted[0]}-${sorted[sorted.length - 1]}`];
  };
  return markdownTable(["exec to ready", "samples", "median ms", "range ms"], [
    ["ours", String(samples.length), ...summary(samples.map((s) => s.oursMs))],
    ["C joold", String(samples.length), ...summary(samples.map((s) => s.referenceMs))],
    [
      "Deno floor (empty program, same flags)",
      String(samples.length),
      ...summary(samples.map((s) => s.denoFloorMs)),
    ],
  ]);
}

/**
 * Ours' memory as the sessions it relayed grow: one row per sample. RSS
 * (from smaps_rollup: exact) is split into anonymous memory (what the
 * daemon allocated: heap, buffers) and the rest (mostly the Deno
 * executable's code, paged in as new code paths run; shared, reclaimable).
 */
export function memoryTable(samples: MemoryRecord[], sessionBytes: number): string {
  const header = [
    "sessions sent",
    "on j1",
    "relayed by j1",
    "on j2",
    "RSS j1 MiB",
    "vs first",
    "anon j1 MiB",
    "vs first",
    "RSS j2 MiB",
    "vs first",
    "anon j2 MiB",
    "vs first",
  ];
  const change = (now: number, first: number) =>
    first > 0 ? `${now >= first ? "+" : ""}${fixed((100 * (now - first)) / first, 1)}%` : "-";
  const first = samples[0];
  const rows = samples.map((sample) => [
    String(sample.created),
    String(sample.j1Sessions),
    String(
      Math.round((sample.j1.stats?.counters?.kernelSentBytes ?? 0) / sessionBytes),
    ),
    String(sample.j2Sessions),
    fixed(sample.j1.rssKiB / 1024, 1),
    change(sample.j1.rssKiB, first.j1.rssKiB),
    fixed((sample.j1.anonKiB ?? NaN) / 1024, 1),
    change(sample.j1.anonKiB ?? 0, first.j1.anonKiB ?? 0),
    fixed(sample.j2.rssKiB / 1024, 1),
    change(sample.j2.rssKiB, first.j2.rssKiB),
    fixed((sample.j2.anonKiB ?? NaN) / 1024, 1),
    change(sample.j2.anonKiB ?? 0, first.j2.anonKiB ?? 0),
  ]);
  return markdownTable(header, rows);
}

/** What one bench:sync run left in its results directory (OUT/VERSION/bench). */
export interface SyncResults {
  runs: RunRecord[];
  memory: MemoryRecord[];
  startup: StartupRecord[];
  /** The guest's kernel, Jool, CPU and Deno (machine.txt). */
  machine: string;
}

/** Reads a bench:sync results directory; files the run did not leave count as empty. */
export async function readSyncResults(dir: string): Promise<SyncResults> {
  return {
    runs: parseLines<RunRecord>(await readText(`${dir}/runs.jsonl`)),
    memory: parseLines<MemoryRecord>(await readText(`${dir}/memory.jsonl`)),
    startup: parseLines<StartupRecord>(await readText(`${dir}/startup.jsonl`)),
    machine: (await readText(`${dir}/machine.txt`)).trim(),
  };
}

/** The tables of a bench:sync run on Jool `jool` (what it prints after its header lines). */
export function syncReport(results: SyncResults, jool: string): string {
  const { runs, memory, startup } = results;
  const bytes = sessionBytes(jool);
  return [
    runsTable(runs),
    "",
    completeRunsLine(runs),
    ...[authCostLine(runs), reliableCostLine(runs), wireTable(runs)]
      .filter((part) => part !== null).flatMap((part) => ["", part!]),
    "",
    oursTable(runs, bytes),
    "",
    threadsTable(runs),
    ...(startup.length > 0 ? ["", startupTable(startup)] : []),
    ...(memory.length > 0 ? ["", memoryTable(memory, bytes)] : []),
  ].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string" },
      auth: { type: "boolean", default: false },
      memory: { type: "string", default: DEFAULT_MEMORY },
      warmup: { type: "string", default: "3000" },
      jool: { type: "string", default: "4.1.15" },
      startup: { type: "string", default: DEFAULT_STARTUP },
      burst: { type: "string", default: DEFAULT_BURST },
      out: { type: "string", default: Deno.env.get("JOOLD_BENCH_OUT") ?? "/var/tmp/joold-bench" },
      "ours-modsocket": { type: "string", default: "" },
      "v8-flags": { type: "string", default: "" },
      loss: { type: "string", default: "0" },
    },
  });
  const jool = values.jool;
  const refusal = vmBenchRefusal("bench:sync", jool);
  if (refusal !== null) return refusal;
  if (!/^\d{1,2}(\.\d+)?$/.test(values.loss)) {
    console.error(`bench:sync: --loss must be a percent under 100, got '${values.loss}'`);
    return 2;
  }
  const runsSpec = values.runs ?? (values.auth ? AUTH_RUNS : DEFAULT_RUNS).join(" ");
  const out = `${values.out}/${jool}`;
  const bundle = await prepareVmBench(jool, out, "bench");

  const env: Record<string, string> = {
    JOOLD_E2E_BUNDLE: bundle,
    JOOLD_E2E_OURS_FLAGS: RUNTIME_FLAGS.join(" "),
    BENCH_STARTUP: values.startup,
    BENCH_RUNS: runsSpec,
    BENCH_MEMORY: values.memory === "none" ? "" : values.memory,
    BENCH_WARMUP: values.warmup,
    BENCH_BURST: values.burst,
    BENCH_OURS_ARGS: values["ours-modsocket"],
    BENCH_V8_FLAGS: values["v8-flags"],
    BENCH_LOSS: values.loss,
  };
  console.log(
    `== booting the VM (Jool ${jool}): ${runsSpec}; memory ${values.memory}; loss ${values.loss}%`,
  );
  const started = performance.now();
  const vm = await runGuest(out, "sync_guest.sh", env, {
    JOOLD_VM_JOOL: jool,
    JOOLD_VM_TIMEOUT: Deno.env.get("JOOLD_VM_TIMEOUT") ?? "1200",
  });
  const minutes = (performance.now() - started) / 60000;
  const results = await readSyncResults(`${out}/bench`);
  const report = [
    `Machine (guest): ${results.machine.replaceAll("\n", "; ")}`,
    `VM run: ${fixed(minutes, 1)} min; results in ${out}/bench`,
    "",
    syncReport(results, jool),
  ].join("\n");
  console.log(report);
  await Deno.writeTextFile(`${out}/bench/report.md`, `${report}\n`);
  return vmRunStatus("bench:sync", vm, out);
}

if (import.meta.main) Deno.exit(await main());
