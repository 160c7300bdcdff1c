/**
 * `deno task bench:report`: every benchmark in one command, then
 * BENCHMARKS.md's and README.md's generated regions rewritten from the
 * results (scripts/bench_render.ts says which steps and regions). Per Jool
 * version 4.1.15, 4.1.13 and 4.1.9: bench:sync with its defaults, then
 * bench:window; on 4.1.15 bench:sync --auth with the memory run; then the
 * micro-benchmarks (`deno task bench`), the lossy links, reliable delivery's
 * cost, and bench:convergence on 4.1.15 and 4.1.9. Each step's results go to its own
 * directory under the root, and meta.json there records each step's
 * commit, date and wall time.
 *
 * Options (all optional):
 *   --out DIR                   the root (default /var/tmp/joold-bench-report; not under /tmp)
 *   --only KIND,...             run only these steps (sync, window, auth-memory, lossy,
 *                               reliable-cost, convergence, micro, or a step's name such
 *                               as convergence-4.1.15); the others' results already in
 *                               the root are rendered again
 *   --from DIR                  run nothing: render again from the results in DIR
 *
 * Needs Linux and root to run the steps (they boot a VM); --from needs neither.
 * Not part of the test suite: it measures, it does not pass or fail on numbers.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { readSyncResults, type SyncResults } from "./bench_sync.ts";
import { readWindowResults, type WindowResults } from "./bench_window.ts";
import { type ConvergenceResults, readConvergenceResults } from "./bench_convergence.ts";
import {
  parseMicro,
  REGION_FILES,
  renderRegions,
  replaceRegions,
  REPORT_COMMAND,
  type ReportResults,
  reportSteps,
  STEP_KINDS,
  type StepPlan,
  type StepRecord,
} from "./bench_render.ts";
import { readText, run } from "./vm_bench.ts";

const REPO = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

/** The daemon's code and what measures it: changes there make a step's commit inexact. */
const MEASURED_PATHS = ["src", "ffi", "main.ts", "bench", "scripts"];

async function readMeta(root: string): Promise<StepRecord[]> {
  const text = await readText(`${root}/meta.json`);
  return text === "" ? [] : JSON.parse(text).steps;
}

/** Writes meta.json, its steps in the order they run. */
async function writeMeta(root: string, steps: StepRecord[]): Promise<void> {
  const order = reportSteps().map((plan) => plan.name);
  steps.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  await Deno.writeTextFile(`${root}/meta.json`, `${JSON.stringify({ steps }, null, 2)}\n`);
}

async function git(args: string[]): Promise<string> {
  const result = await run("git", args);
  if (result.code !== 0) throw new Error(`git ${args.join(" ")}: ${result.output.trim()}`);
  return result.output.trim();
}

/** Runs one step (its output shown; `deno task bench`'s JSON into its directory). */
async function runStep(root: string, plan: StepPlan): Promise<StepRecord> {
  let commit: string | null = null;
  let dirty = false;
  try {
    commit = await git(["rev-parse", "--short", "HEAD"]);
    dirty = (await git(["status", "--porcelain", "--", ...MEASURED_PATHS])) !== "";
  } catch (error) {
    console.error(`bench:report: the commit will say "not recorded": ${(error as Error).message}`);
  }
  const record = {
    name: plan.name,
    command: `scripts/deno.sh task ${[plan.task, ...plan.args].join(" ")}`,
    via: REPORT_COMMAND,
    commit,
    dirty,
    date: new Date().toISOString().slice(0, 10),
  };
  console.log(`== ${plan.name}: ${record.command}`);
  const started = performance.now();
  let status: number;
  if (plan.kind === "micro") {
    await Deno.mkdir(`${root}/${plan.out}`, { recursive: true });
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", plan.task, ...plan.args],
      cwd: REPO,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    await Deno.writeFile(`${root}/${plan.results}/bench.json`, result.stdout);
    status = result.code;
  } else {
    const args = ["task", plan.task, ...plan.args, "--out", `${root}/${plan.out}`];
    status = (await run(Deno.execPath(), args, {}, false)).code;
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  console.log(
    `== ${plan.name}: status ${status}, ${seconds} s; results in ${root}/${plan.results}`,
  );
  return { ...record, seconds, status };
}

/** Reads what the steps of meta.json left under `root`. */
async function readResults(root: string): Promise<ReportResults> {
  const steps = await readMeta(root);
  const plans = new Map(reportSteps().map((plan) => [plan.name, plan]));
  const sync: Record<string, SyncResults> = {};
  const window: Record<string, WindowResults> = {};
  const convergence: Record<string, ConvergenceResults> = {};
  let micro: ReportResults["micro"] = null;
  for (const step of steps) {
    const plan = plans.get(step.name);
    if (plan === undefined) throw new Error(`${root}/meta.json: unknown step ${step.name}`);
    const dir = `${root}/${plan.results}`;
    console.log(`${step.name}: raw results in ${dir}`);
    if (plan.kind === "window") {
      window[step.name] = await readWindowResults(dir, await readText(`${dir}/kinds.txt`));
    } else if (plan.kind === "convergence") {
      convergence[step.name] = await readConvergenceResults(dir);
    } else if (plan.kind === "micro") {
      const json = await readText(`${dir}/bench.json`);
      micro = json === "" ? null : parseMicro(json);
    } else {
      sync[step.name] = await readSyncResults(dir);
    }
  }
  return { steps, sync, window, convergence, micro };
}

/** Rewrites the generated regions of BENCHMARKS.md and README.md, then formats them. */
async function render(root: string): Promise<void> {
  const regions = renderRegions(await readResults(root));
  const files = Object.keys(REGION_FILES);
  for (const file of files) {
    const path = `${REPO}/${file}`;
    const contents = Object.fromEntries(REGION_FILES[file].map((name) => [name, regions[name]]));
    await Deno.writeTextFile(path, replaceRegions(await Deno.readTextFile(path), contents, file));
  }
  const fmt = await run(Deno.execPath(), ["fmt", ...files]);
  if (fmt.code !== 0) throw new Error(`deno fmt: ${fmt.output.trim()}`);
  console.log(`rewrote ${files.join(" and ")} from ${root}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: "/var/tmp/joold-bench-report" },
      only: { type: "string" },
      from: { type: "string" },
    },
  });
  if (values.from !== undefined) {
    await render(values.from);
    return 0;
  }
  const only = values.only?.split(",").map((kind) => kind.trim()) ?? [...STEP_KINDS];
  const names = reportSteps().map((plan) => plan.name);
  const unknown = only.filter((kind) =>
    !(STEP_KINDS as readonly string[]).includes(kind) && !names.includes(kind)
  );
  if (unknown.length > 0) {
    console.error(
      `bench:report: --only takes ${STEP_KINDS.join(", ")} or a step's name ` +
        `(${names.join(", ")}); got '${unknown}'`,
    );
    return 2;
  }
  const root = values.out;
  if (root.startsWith("/tmp/")) {
    console.error(`bench:report: --out must not be under /tmp (the VM does not see it): ${root}`);
    return 2;
  }
  const needsVm = only.some((kind) => kind !== "micro");
  if (needsVm && (Deno.build.os !== "linux" || Deno.uid() !== 0)) {
    console.error("bench:report: needs Linux and root (it boots a VM and may install packages)");
    return 1;
  }
  await Deno.mkdir(root, { recursive: true });
  let failed = 0;
  const chosen = (plan: StepPlan) => only.includes(plan.kind) || only.includes(plan.name);
  for (const plan of reportSteps().filter(chosen)) {
    const record = await runStep(root, plan);
    if (record.status !== 0) failed++;
    // Saved after each step, so that a run cut short renders what it measured.
    const steps = (await readMeta(root)).filter((step) => step.name !== plan.name);
    await writeMeta(root, [...steps, record]);
  }
  await render(root);
  if (failed > 0) console.error(`bench:report: ${failed} step(s) failed; see their output above`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
