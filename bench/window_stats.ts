/**
 * The exposure window from what bench/window_guest.sh recorded: per session
 * (client source port), the time from its creation on node 1 to the end of
 * the first listing of node 2 that had it; then percentiles per daemon and
 * load.
 *
 * @module
 */

/** `EPOCH_MS PORT` lines to a map from port to time (the first line of each port wins). */
export function parseStamps(text: string): Map<number, number> {
  const stamps = new Map<number, number>();
  for (const line of text.split("\n")) {
    const [ms, port] = line.trim().split(/\s+/);
    if (!/^\d+(\.\d+)?$/.test(ms ?? "") || !/^\d+$/.test(port ?? "")) continue;
    if (!stamps.has(Number(port))) stamps.set(Number(port), Number(ms));
  }
  return stamps;
}

/** One run's windows: ms per session seen on node 2, and how many never were. */
export interface RunWindows {
  windowsMs: number[];
  missing: number;
}

/** Pairs creation and first sight per port. */
export function windowsOf(created: Map<number, number>, seen: Map<number, number>): RunWindows {
  const windowsMs: number[] = [];
  let missing = 0;
  for (const [port, at] of created) {
    const seenAt = seen.get(port);
    if (seenAt === undefined) missing++;
    else windowsMs.push(Math.max(0, seenAt - at));
  }
  return { windowsMs, missing };
}

/** The nearest-rank percentile (0-100) of the values; NaN if there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** The gaps between the ends of consecutive listings (`START_MS END_MS` lines). */
export function pollPeriods(text: string): number[] {
  const ends = text.split("\n").map((line) => Number(line.trim().split(/\s+/)[1]))
    .filter((end) => Number.isFinite(end) && end > 0);
  return ends.slice(1).map((end, i) => end - ends[i]);
}

/** One row of the table: a daemon under one load, its runs together. */
export interface WindowRow {
  kind: string;
  load: string;
  sessions: number;
  missing: number;
  /** The shortest window: the relay path alone, when the kernel sent the session at once. */
  min: number;
  p50: number;
  p99: number;
  max: number;
  /** The median time between two listings of node 2: the measurement's resolution. */
  pollMs: number;
}

/** Gathers runs (by daemon and load) into rows, in the order first met. */
export function windowRows(
  runs: { kind: string; load: string; windows: RunWindows; polls: number[] }[],
): WindowRow[] {
  const groups = new Map<string, typeof runs>();
  for (const run of runs) {
    const key = `${run.kind}\t${run.load}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((group) => {
    const windows = group.flatMap((run) => run.windows.windowsMs);
    return {
      kind: group[0].kind,
      load: group[0].load,
      sessions: windows.length + group.reduce((n, run) => n + run.windows.missing, 0),
      missing: group.reduce((n, run) => n + run.windows.missing, 0),
      min: windows.length === 0 ? NaN : Math.min(...windows),
      p50: percentile(windows, 50),
      p99: percentile(windows, 99),
      max: windows.length === 0 ? NaN : Math.max(...windows),
      pollMs: percentile(group.flatMap((run) => run.polls), 50),
    };
  });
}

/** The rows as a markdown table, times in ms. */
export function windowTable(rows: WindowRow[]): string {
  const ms = (value: number) => Number.isNaN(value) ? "-" : Math.round(value).toLocaleString("en");
  const lines = [
    "| daemon  | load  | sessions | never seen | min ms | p50 ms | p99 ms | max ms | listing every (ms) |",
    "| ------- | ----- | -------: | ---------: | -----: | -----: | -----: | -----: | -----------------: |",
  ];
  for (const row of rows) {
    const name = row.kind === "reference" ? "C joold" : row.kind;
    lines.push(
      `| ${name.padEnd(7)} | ${row.load.padEnd(5)} | ${row.sessions} | ${row.missing} | ` +
        `${ms(row.min)} | ${ms(row.p50)} | ${ms(row.p99)} | ${ms(row.max)} | ${ms(row.pollMs)} |`,
    );
  }
  return lines.join("\n");
}

/** `jool stats display --all` lines (`NAME: VALUE`, or `NAME,VALUE` with --csv) to a map. */
export function parseJoolStats(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(JSTAT\w+)[:,]\s*(\d+)/.exec(line.trim());
    if (match !== null) stats.set(match[1], Number(match[2]));
  }
  return stats;
}

/** The kernel's joold counters: why a batch left or waited (Jool 4.1.11 and later). */
export const JOOLD_STATS = [
  "JSTAT_JOOLD_PKT_SENT",
  "JSTAT_JOOLD_TIMEOUT",
  "JSTAT_JOOLD_PKT_FULL",
  "JSTAT_JOOLD_AD_ONGOING",
  "JSTAT_JOOLD_MISSING_ACK",
  "JSTAT_JOOLD_QUEUING",
  "JSTAT_JOOLD_EMPTY",
  "JSTAT_JOOLD_ACKS",
  "JSTAT_JOOLD_SSS_QUEUED",
  "JSTAT_JOOLD_SSS_SENT",
  "JSTAT_JOOLD_SSS_ENOSPC",
] as const;

/** One run's change in each of {@link JOOLD_STATS}: null where the kernel has no such counter. */
export function joolStatsDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): (number | null)[] {
  return JOOLD_STATS.map((name) => {
    const start = before.get(name);
    const end = after.get(name);
    return start === undefined || end === undefined ? null : end - start;
  });
}

/**
 * Node 1's kernel counters per run, as a markdown table: batches sent, and
 * why each check sent one (TIMEOUT: ss-flush-deadline passed; PKT_FULL: 36
 * sessions) or not (MISSING_ACK, QUEUING, EMPTY).
 */
export function joolStatsTable(runs: { kind: string; load: string; delta: (number | null)[] }[]) {
  const names = JOOLD_STATS.map((name) => name.replace("JSTAT_JOOLD_", ""));
  const lines = [
    `| daemon  | load  | ${names.join(" | ")} |`,
    `| ------- | ----- | ${names.map(() => "--:").join(" | ")} |`,
  ];
  for (const run of runs) {
    const name = run.kind === "reference" ? "C joold" : run.kind;
    const cells = run.delta.map((value) => value === null ? "-" : String(value));
    lines.push(`| ${name.padEnd(7)} | ${run.load.padEnd(5)} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
