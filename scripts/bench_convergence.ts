/**
 * `deno task bench:convergence`: what a convergence round (docs/lossless.md,
 * "Convergence check") costs on full tables of the real Jool, in one VM run
 * (bench/convergence_guest.sh says what happens in the guest): per table
 * size, both nodes filled with the same sessions and node 1 with a few more,
 * ours on both, one round; each daemon's table read, CPU, memory and bytes
 * on the control and sync ports, and how long until node 2 held node 1's
 * extra sessions. Prints the tables and leaves everything in the out
 * directory.
 *
 * Options (all optional):
 *   --jool VERSION      Jool in the VM: 4.1.9, 4.1.13 or 4.1.15 (default)
 *   --sizes "N ..."     table sizes, in order (default "100000 1000000")
 *   --extras D          sessions on node 1 only (20)
 *   --buckets K         digest buckets they fall in (16: what a round repairs at most)
 *   --memory MIB        the guest's memory (6144: two kernels of a million sessions)
 *   --out DIR           results (default /var/tmp/joold-bench-convergence; then /VERSION)
 *   --report-only       no VM: the tables again from the results of the last run
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
  type ConvergenceRecord,
  convergenceReport,
  parseRoundLog,
  type RoundLog,
} from "../bench/convergence_stats.ts";

/** The table sizes measured by default: the issue's. */
export const DEFAULT_SIZES = "100000 1000000";

/** What one bench:convergence run left in OUT/VERSION/convergence. */
export interface ConvergenceResults {
  records: ConvergenceRecord[];
  /** Each daemon's log of the measured round, by "SIZE.NODE". */
  logs: Map<string, RoundLog>;
  /** The guest's kernel, Jool, CPU and Deno (machine.txt). */
  machine: string;
}

/** Reads a bench:convergence results directory; a run that left nothing reads as empty. */
export async function readConvergenceResults(dir: string): Promise<ConvergenceResults> {
  const records: ConvergenceRecord[] = (await readText(`${dir}/runs.jsonl`)).split("\n")
    .filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
  const logs = new Map<string, RoundLog>();
  for (const record of records) {
    for (const node of ["j1", "j2"]) {
      const text = await readText(`${dir}/${record.sessions}.${node}.stderr`);
      logs.set(`${record.sessions}.${node}`, parseRoundLog(text, record.round));
    }
  }
  return { records, logs, machine: (await readText(`${dir}/machine.txt`)).trim() };
}

/** The tables of a bench:convergence run. */
export function convergenceResultsReport(results: ConvergenceResults): string {
  return convergenceReport(results.records, results.logs);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      jool: { type: "string", default: "4.1.15" },
      sizes: { type: "string", default: DEFAULT_SIZES },
      extras: { type: "string", default: "20" },
      buckets: { type: "string", default: "16" },
      memory: { type: "string", default: "6144" },
      "report-only": { type: "boolean", default: false },
      out: {
        type: "string",
        default: Deno.env.get("JOOLD_BENCH_OUT") ?? "/var/tmp/joold-bench-convergence",
      },
    },
  });
  const jool = values.jool;
  const refusal = vmBenchRefusal("bench:convergence", jool);
  if (refusal !== null) return refusal;
  const numbers = [values.extras, values.buckets, values.memory, ...values.sizes.split(/\s+/)];
  if (!numbers.every((word) => /^\d+$/.test(word))) {
    console.error("bench:convergence: --sizes, --extras, --buckets and --memory are whole numbers");
    return 2;
  }
  const out = `${values.out}/${jool}`;
  const dir = `${out}/convergence`;
  if (values["report-only"]) {
    console.log(convergenceResultsReport(await readConvergenceResults(dir)));
    return 0;
  }
  const bundle = await prepareVmBench(jool, out, "convergence");
  const env: Record<string, string> = {
    JOOLD_E2E_BUNDLE: bundle,
    JOOLD_E2E_OURS_FLAGS: RUNTIME_FLAGS.join(" "),
    CONV_SIZES: values.sizes,
    CONV_EXTRAS: values.extras,
    CONV_BUCKETS: values.buckets,
  };
  console.log(`== booting the VM (Jool ${jool}, ${values.memory} MiB): sizes ${values.sizes}`);
  const started = performance.now();
  const vm = await runGuest(out, "convergence_guest.sh", env, {
    JOOLD_VM_JOOL: jool,
    JOOLD_VM_MEMORY: values.memory,
    JOOLD_VM_TIMEOUT: Deno.env.get("JOOLD_VM_TIMEOUT") ?? "5400",
  });
  const minutes = (performance.now() - started) / 60000;
  const results = await readConvergenceResults(dir);
  const report = [
    `Machine (guest): ${results.machine.replaceAll("\n", "; ")}`,
    `VM run: ${minutes.toFixed(1)} min; results in ${dir}`,
    "",
    convergenceResultsReport(results),
  ].join("\n");
  console.log(report);
  await Deno.writeTextFile(`${dir}/report.md`, `${report}\n`).catch(() => {});
  return vmRunStatus("bench:convergence", vm, out);
}

if (import.meta.main) Deno.exit(await main());
