/**
 * `deno task bench:window`: the exposure window, how long after a session is
 * created on node 1 it exists on node 2 (a session younger than that when
 * node 1 dies is lost), with this project's joold and with Jool's C joold of
 * the same version, in one VM run (bench/window_guest.sh): at a quiet rate
 * and during a burst, p50, p99 and max. Prints one table (markdown) and
 * leaves everything in the out directory.
 *
 * Options (all optional):
 *   --jool VERSION       Jool in the VM: 4.1.9, 4.1.13 or 4.1.15 (default)
 *   --kinds "K K ..."    daemons in turn (default: reference ours reference ours)
 *   --quiet COUNT:MS     the quiet load: COUNT flows, one every MS ms (30:300)
 *   --burst COUNT        the burst: COUNT flows at once (300)
 *   --out DIR            results (default /var/tmp/joold-bench-window; then /VERSION)
 *   --report-only        no VM: the table again from the results of the last run
 *
 * Needs Linux and root (it boots a VM). Not part of the test suite: it
 * measures, it does not pass or fail on numbers.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { RUNTIME_FLAGS } from "./runtime_flags.ts";
import { prepareVmBench, readText, runGuest, vmBenchRefusal, vmRunStatus } from "./vm_bench.ts";
import {
  joolStatsDelta,
  joolStatsTable,
  parseJoolStats,
  parseStamps,
  pollPeriods,
  type RunWindows,
  windowRows,
  windowsOf,
  windowTable,
} from "../bench/window_stats.ts";

/** What one bench:window run left in OUT/window, per daemon and load. */
export interface WindowResults {
  runs: { kind: string; load: string; windows: RunWindows; polls: number[] }[];
  statsRuns: { kind: string; load: string; delta: (number | null)[] }[];
  /** Node 1's ss-* globals before the daemons, as `jool global display` listed them. */
  globals: string;
}

/** Reads the results in `dir` (OUT/window) of the daemons `kindList` ran in turn. */
export async function readWindowResults(dir: string, kindList: string): Promise<WindowResults> {
  const runs: WindowResults["runs"] = [];
  const statsRuns: WindowResults["statsRuns"] = [];
  const kinds = kindList.split(/\s+/).filter((kind) => kind !== "");
  for (const [i, kind] of kinds.entries()) {
    for (const load of ["quiet", "burst"]) {
      const run = `${dir}/${i + 1}-${kind}-${load}`;
      const created = parseStamps(await readText(`${run}/created.txt`));
      if (created.size === 0) continue;
      const windows = windowsOf(created, parseStamps(await readText(`${run}/seen.txt`)));
      runs.push({ kind, load, windows, polls: pollPeriods(await readText(`${run}/polls.txt`)) });
      const before = parseJoolStats(await readText(`${run}/stats-before.txt`));
      const after = parseJoolStats(await readText(`${run}/stats-after.txt`));
      statsRuns.push({ kind, load, delta: joolStatsDelta(before, after) });
    }
  }
  const globals = (await readText(`${dir}/jool.txt`)).split("\n")
    .filter((line) => /^\s*ss-(flush-asap|flush-deadline|max-payload|capacity):/.test(line))
    .map((line) => line.trim()).join(", ");
  return { runs, statsRuns, globals };
}

/** The tables of a bench:window run (what it prints after its header lines). */
export function windowReport(results: WindowResults): string {
  const hasStats = results.statsRuns.some((run) => run.delta.some((value) => value !== null));
  return [
    windowTable(windowRows(results.runs)),
    "",
    hasStats
      ? `Node 1's kernel counters per run (jool stats display, after minus before):\n\n${
        joolStatsTable(results.statsRuns)
      }`
      : "Node 1's kernel has no JSTAT_JOOLD_ counters (Jool 4.1.10 and earlier).",
  ].join("\n");
}

/** The table of the results in OUT/window, with what they were measured on. */
async function report(
  out: string,
  jool: string,
  kindList: string,
  quiet: string,
  burst: string,
  minutes: number,
): Promise<string> {
  const results = await readWindowResults(`${out}/window`, kindList);
  const [count, interval] = quiet.split(":");
  return [
    `Jool ${jool}; node 1's instance before the daemons: ${results.globals}`,
    `Quiet: ${count} flows, one every ${interval} ms; burst: ${burst} flows at once`,
    `VM run: ${Number.isNaN(minutes) ? "-" : minutes.toFixed(1)} min; results in ${out}/window`,
    "",
    windowReport(results),
  ].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      jool: { type: "string", default: "4.1.15" },
      kinds: { type: "string", default: "reference ours reference ours" },
      quiet: { type: "string", default: "30:300" },
      burst: { type: "string", default: "300" },
      "report-only": { type: "boolean", default: false },
      out: {
        type: "string",
        default: Deno.env.get("JOOLD_BENCH_OUT") ?? "/var/tmp/joold-bench-window",
      },
    },
  });
  const jool = values.jool;
  const refusal = vmBenchRefusal("bench:window", jool);
  if (refusal !== null) return refusal;
  const quiet = /^(\d+):(\d+)$/.exec(values.quiet);
  if (quiet === null || !/^\d+$/.test(values.burst)) {
    console.error(`bench:window: --quiet is COUNT:MS and --burst COUNT, got '${values.quiet}'`);
    return 2;
  }
  const out = `${values.out}/${jool}`;
  if (values["report-only"]) {
    console.log(await report(out, jool, values.kinds, values.quiet, values.burst, NaN));
    return 0;
  }
  const bundle = await prepareVmBench(jool, out, "window");
  const env: Record<string, string> = {
    JOOLD_E2E_BUNDLE: bundle,
    JOOLD_E2E_OURS_FLAGS: RUNTIME_FLAGS.join(" "),
    WINDOW_KINDS: values.kinds,
    WINDOW_QUIET_COUNT: quiet[1],
    WINDOW_QUIET_INTERVAL_MS: quiet[2],
    WINDOW_BURST_COUNT: values.burst,
  };
  console.log(`== booting the VM (Jool ${jool}): ${values.kinds}`);
  const started = performance.now();
  const vm = await runGuest(out, "window_guest.sh", env, {
    JOOLD_VM_JOOL: jool,
    JOOLD_VM_TIMEOUT: Deno.env.get("JOOLD_VM_TIMEOUT") ?? "900",
  });
  const minutes = (performance.now() - started) / 60000;
  const text = await report(out, jool, values.kinds, values.quiet, values.burst, minutes);
  console.log(text);
  await Deno.writeTextFile(`${out}/window/report.md`, `${text}\n`).catch(() => {});
  return vmRunStatus("bench:window", vm, out);
}

if (import.meta.main) Deno.exit(await main());
