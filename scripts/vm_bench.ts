/**
 * What the VM benchmarks (scripts/bench_sync.ts, scripts/bench_window.ts)
 * share: running a step, reading a result file, and getting the VM and the
 * daemon's bundle ready for one Jool version.
 *
 * @module
 */
import { bundleArgs } from "./runtime_flags.ts";

const REPO = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");

/** Runs a command in the repository; `quiet`: its output is captured, else shown. */
export async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  quiet = true,
): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(command, {
    args,
    cwd: REPO,
    env,
    stdout: quiet ? "piped" : "inherit",
    stderr: quiet ? "piped" : "inherit",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: quiet ? decoder.decode(result.stdout) + decoder.decode(result.stderr) : "",
  };
}

/** Runs a command; throws with its output if it fails. */
export async function step(what: string, command: string, args: string[]): Promise<void> {
  const result = await run(command, args);
  if (result.code !== 0) {
    throw new Error(`${what} failed (status ${result.code}):\n${result.output.trim()}`);
  }
}

/** A result file's text, "" if the run left none. */
export async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "";
    throw error;
  }
}

/**
 * Installs what is missing, builds that Jool version's VM, empties
 * `out/results` and bundles the daemon into `out/joold.js`; returns the
 * bundle's path. `out` must not be under /tmp: the guest sees this
 * machine's files, except its /tmp.
 */
export async function prepareVmBench(jool: string, out: string, results: string): Promise<string> {
  const bundle = `${out}/joold.js`;
  console.log("== dependencies, VM and bundle");
  await step("scripts/vm/install_deps.sh", "bash", [`${REPO}/scripts/vm/install_deps.sh`]);
  await step("scripts/vm/build_initrd.sh", "env", [
    `JOOLD_VM_JOOL=${jool}`,
    "bash",
    `${REPO}/scripts/vm/build_initrd.sh`,
  ]);
  await Deno.remove(`${out}/${results}`, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  await step("deno bundle", Deno.execPath(), bundleArgs(bundle, `${REPO}/main.ts`));
  return bundle;
}
