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

/** The Jool versions the VM can run (scripts/vm/jool_version.sh). */
export const JOOL_VERSIONS = ["4.1.9", "4.1.13", "4.1.15"];

/**
 * Why `task` cannot run here, or not with Jool `jool`: prints one line and
 * returns the exit status; null if it can.
 */
export function vmBenchRefusal(task: string, jool: string): number | null {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
    console.error(`${task}: needs Linux and root (it boots a VM and may install packages)`);
    return 1;
  }
  if (!JOOL_VERSIONS.includes(jool)) {
    console.error(`${task}: --jool must be one of ${JOOL_VERSIONS.join(", ")}, got '${jool}'`);
    return 2;
  }
  return null;
}

/**
 * Boots the VM (`vm`: run_vm.sh's environment, JOOLD_VM_JOOL and the like)
 * and runs the guest script `guest` (under bench/) in it with `env`; its
 * results go to `out`.
 */
export function runGuest(
  out: string,
  guest: string,
  env: Record<string, string>,
  vm: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return run("bash", [
    `${REPO}/scripts/vm/run_vm.sh`,
    out,
    "env",
    ...Object.entries(env).map(([name, value]) => `${name}=${value}`),
    "bash",
    `${REPO}/bench/${guest}`,
  ], vm);
}

/** A VM run's outcome as the task's exit status: 1 with a line naming its console if it failed. */
export function vmRunStatus(
  task: string,
  vm: { code: number; output: string },
  out: string,
): number {
  if (vm.code === 0) return 0;
  console.error(
    `${task}: the VM run failed (status ${vm.code}); console: ${out}/vm/console.log\n` +
      vm.output.trim(),
  );
  return 1;
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
