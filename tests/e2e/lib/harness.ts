/**
 * Runs e2e scenarios in the VM and registers them as Deno tests: one test per
 * scenario and Jool version, named `NAME (Jool V)`. Scenario families
 * (tests/e2e/families/*.ts) say what runs; tests/e2e/e2e_test.ts registers
 * them all at once, so that the selectors below see every scenario.
 *
 * Selectors (environment): `JOOLD_E2E_SCENARIO=name[,name...]` only those
 * scenarios; `JOOLD_E2E_JOOL=4.1.15[,4.1.9...]` every scenario (or the named
 * ones) on those versions; `JOOLD_E2E_MATRIX=full` every scenario on every
 * version. By default (CI) every scenario runs on MAIN_JOOL and those marked
 * `ci: "all"` on every version. `JOOLD_E2E_OUT_DIR` moves the results (default
 * /var/tmp/joold-e2e/VERSION/NAME); `JOOLD_E2E_OURS=reference` puts the C
 * joold where ours would run, to check the harness itself. Our daemon runs
 * with exactly the executable's permissions and V8 flags
 * (scripts/runtime_flags.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { bundleArgs, RUNTIME_FLAGS } from "../../../scripts/runtime_flags.ts";
import { exists, type Outcome, readText } from "./checks.ts";

const REPO = decodeURIComponent(new URL("../../../", import.meta.url).pathname).replace(/\/$/, "");
const OUT_ROOT = Deno.env.get("JOOLD_E2E_OUT_DIR") ?? "/var/tmp/joold-e2e";
/** The Jool versions users run (docs/testing.md), oldest first. */
export const JOOL_VERSIONS = ["4.1.9", "4.1.13", "4.1.15"] as const;
/** One of the Jool versions the harness has. */
export type JoolVersion = (typeof JOOL_VERSIONS)[number];
/** The version CI runs every scenario on: the man page's. */
export const MAIN_JOOL: JoolVersion = "4.1.15";

/** One VM run: a guest script (tests/e2e/scenarios/NAME.sh) and the checks of what it left. */
export interface Scenario {
  /** Also the guest script's name, with '-' as '_'. */
  name: string;
  /** Whether the scenario starts this project's daemon (which must be bundled first). */
  ours: boolean;
  /** How many nodes (j1, j2, ...) the guest builds; it lists them in nodes.txt. */
  nodes: number;
  /** Which versions CI runs it on: MAIN_JOOL only, every version, or those listed. */
  ci: "main" | "all" | readonly JoolVersion[];
  /**
   * Two VMs, one per version, linked (scripts/vm/run_vm_pair.sh): the guest
   * script runs in both, j1 on the first, j2 on the second. Such a scenario
   * is one test, `NAME (Jool A + B)`, run by CI if `ci` is "main"; its
   * results are OUT_ROOT/A+B/NAME/{a,b}.
   */
  pair?: readonly [JoolVersion, JoolVersion];
  check: (outcome: Outcome) => Promise<void>;
}

function onPath(command: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(`${dir}/${command}`).isFile;
    } catch {
      return false;
    }
  });
}

/** Why this machine cannot run the scenarios, if it cannot. */
function environmentProblem(): string | undefined {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) return "needs root (it boots a VM and may install packages)";
  if (!onPath("qemu-system-x86_64") && !onPath("apt-get")) {
    return "needs qemu-system-x86_64, or apt-get to install it";
  }
  return undefined;
}

async function run(command: string, args: string[], options: { cwd?: string } = {}) {
  const result = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

async function runOrThrow(what: string, command: string, args: string[]): Promise<void> {
  const result = await run(command, args);
  if (result.code !== 0) {
    throw new Error(`${what} failed (status ${result.code}):\n${result.stderr}${result.stdout}`);
  }
}

/** Newest modification time under the given files and directories. */
async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      continue;
    }
    if (info.isDirectory) {
      const children = [];
      for await (const entry of Deno.readDir(path)) children.push(`${path}/${entry.name}`);
      newest = Math.max(newest, await newestMtime(children));
    } else {
      newest = Math.max(newest, info.mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

/** Bundles main.ts into dist/joold.js unless the bundle is newer than every source. */
async function ensureBundle(): Promise<void> {
  const main = `${REPO}/main.ts`;
  try {
    await Deno.stat(main);
  } catch {
    throw new Error(`Cannot bundle the daemon: ${main} does not exist`);
  }
  const bundle = `${REPO}/dist/joold.js`;
  const sources = ["main.ts", "src", "ffi", "deno.json", "deno.lock"].map((p) => `${REPO}/${p}`);
  if ((await newestMtime([bundle])) > (await newestMtime(sources))) return;
  await runOrThrow("deno bundle", "bash", [`${REPO}/scripts/deno.sh`, ...bundleArgs(bundle, main)]);
}

/**
 * Installs what is missing, builds that Jool version and the VM (cached)
 * and, if needed, the bundle; all idempotent.
 */
async function prepare(
  scenario: Scenario,
  jool: JoolVersion,
  oursIsReference: boolean,
): Promise<void> {
  await runOrThrow("scripts/vm/install_deps.sh", "bash", [`${REPO}/scripts/vm/install_deps.sh`]);
  await runOrThrow("scripts/vm/build_initrd.sh", "env", [
    `JOOLD_VM_JOOL=${jool}`,
    "bash",
    `${REPO}/scripts/vm/build_initrd.sh`,
  ]);
  if (scenario.ours && !oursIsReference) await ensureBundle();
}

async function tail(path: string, lines: number): Promise<string> {
  const text = (await readText(path)) ?? "(missing)";
  return text.split("\n").slice(-lines).join("\n");
}

/** Everything worth reading when a scenario fails. */
async function diagnostics(outcome: Outcome): Promise<string> {
  const parts = [`Results: ${outcome.out}`];
  for (const node of outcome.nodes) {
    const base = `${outcome.out}/daemons/${node}`;
    const cmd = await readText(`${base}.cmd`);
    if (cmd === undefined) continue;
    const exit = (await readText(`${base}.exit`))?.trim() ?? "none: still running";
    const how = (await exists(`${base}.stopped`)) ? ", after the harness stopped it" : "";
    parts.push(`--- ${node}: ${cmd.trim()} (exit status ${exit}${how})`);
    parts.push(`stderr (last 20 lines):\n${await tail(`${base}.stderr`, 20)}`);
  }
  parts.push(
    `--- guest console (last 15 lines):\n${await tail(`${outcome.out}/vm/console.log`, 15)}`,
  );
  return parts.join("\n");
}

/**
 * Empties the scenario's out directory; returns the guest script and the
 * environment passed into the guest (the JOOLD_E2E_ variables and our
 * daemon's runtime flags).
 */
async function guestRun(scenario: Scenario, out: string) {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  const passed = Object.entries({
    ...Deno.env.toObject(),
    JOOLD_E2E_OURS_FLAGS: RUNTIME_FLAGS.join(" "),
  }).filter(([name]) => name.startsWith("JOOLD_E2E_"))
    .map(([name, value]) => `${name}=${value}`);
  const script = `tests/e2e/scenarios/${scenario.name.replaceAll("-", "_")}.sh`;
  return { passed, script };
}

async function runScenario(scenario: Scenario, jool: JoolVersion): Promise<void> {
  const oursIsReference = Deno.env.get("JOOLD_E2E_OURS") === "reference";
  await prepare(scenario, jool, oursIsReference);
  const out = `${OUT_ROOT}/${jool}/${scenario.name}`;
  const { passed, script } = await guestRun(scenario, out);
  const vm = await run("env", [
    `JOOLD_VM_JOOL=${jool}`,
    "bash",
    `${REPO}/scripts/vm/run_vm.sh`,
    out,
    "env",
    ...passed,
    "bash",
    `${REPO}/${script}`,
  ]);
  const nodes = Array.from({ length: scenario.nodes }, (_, i) => `j${i + 1}`);
  const outcome: Outcome = { name: scenario.name, jool, out, nodes };
  try {
    if (vm.code !== 0) {
      // The guest says why on its console (e2e_die), run_vm.sh on its stderr.
      const consoleLog = (await readText(`${out}/vm/console.log`)) ?? "";
      const why = consoleLog.split("\n").filter((line) => /^(e2e: |daemon in )/.test(line));
      assert.fail(
        `${script} failed in the VM (status ${vm.code}): ${[...why, vm.stderr.trim()].join("\n")}`,
      );
    }
    const listed = ((await readText(`${out}/nodes.txt`)) ?? "").trim().split("\n");
    assert.deepEqual(listed, nodes, "The guest built other nodes than expected");
    await scenario.check(outcome);
  } catch (error) {
    console.error(await diagnostics(outcome));
    throw error;
  }
}

/** A scenario of two linked VMs (Scenario.pair). */
async function runPairScenario(
  scenario: Scenario,
  [first, second]: readonly [JoolVersion, JoolVersion],
): Promise<void> {
  await prepare(scenario, first, false);
  await prepare(scenario, second, false);
  const out = `${OUT_ROOT}/${first}+${second}/${scenario.name}`;
  const { passed, script } = await guestRun(scenario, out);
  const vm = await run("bash", [
    `${REPO}/scripts/vm/run_vm_pair.sh`,
    out,
    first,
    second,
    "env",
    ...passed,
    "bash",
    `${REPO}/${script}`,
  ]);
  const outcome: Outcome = {
    name: scenario.name,
    jool: `${first}+${second}`,
    out,
    nodes: ["j1", "j2"],
  };
  try {
    if (vm.code !== 0) {
      const why: string[] = [];
      for (const side of ["a", "b"]) {
        const consoleLog = (await readText(`${out}/${side}/vm/console.log`)) ?? "";
        why.push(...consoleLog.split("\n").filter((line) => /^(e2e: |daemon in )/.test(line)));
      }
      assert.fail(
        `${script} failed in a VM (status ${vm.code}): ${[...why, vm.stderr.trim()].join("\n")}`,
      );
    }
    await scenario.check(outcome);
  } catch (error) {
    for (const [side, node] of [["a", "j1"], ["b", "j2"]]) {
      const part = { ...outcome, out: `${out}/${side}`, nodes: [node] };
      console.error(await diagnostics(part));
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Registration

/**
 * Registers one Deno test per scenario and Jool version; throws on a selector
 * naming an unknown scenario or version, or on two scenarios of one name.
 */
export function registerScenarios(scenarios: Scenario[]): void {
  const names = scenarios.map((s) => s.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) throw new Error(`Scenarios registered twice: ${twice.join(", ")}`);
  const skipReason = environmentProblem();
  if (skipReason !== undefined) console.log(`e2e scenarios ignored: ${skipReason}`);
  const only = (Deno.env.get("JOOLD_E2E_SCENARIO") ?? "").split(",").map((name) =>
    name.trim().replaceAll("_", "-")
  ).filter((name) => name !== "");
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown JOOLD_E2E_SCENARIO: ${unknown.join(", ")} (known: ${names.join(", ")})`,
    );
  }
  const joolOnly = (Deno.env.get("JOOLD_E2E_JOOL") ?? "").split(",").map((v) => v.trim())
    .filter((v) => v !== "");
  const unknownJool = joolOnly.filter((v) => !(JOOL_VERSIONS as readonly string[]).includes(v));
  if (unknownJool.length > 0) {
    throw new Error(
      `Unknown JOOLD_E2E_JOOL: ${unknownJool.join(", ")} (known: ${JOOL_VERSIONS.join(", ")})`,
    );
  }
  const fullMatrix = Deno.env.get("JOOLD_E2E_MATRIX") === "full";
  const selected = (scenario: Scenario, jool: JoolVersion): boolean => {
    if (only.length > 0 && !only.includes(scenario.name)) return false;
    if (joolOnly.length > 0) return joolOnly.includes(jool);
    if (fullMatrix || scenario.ci === "all") return true;
    return Array.isArray(scenario.ci) ? scenario.ci.includes(jool) : jool === MAIN_JOOL;
  };
  for (const scenario of scenarios) {
    const pair = scenario.pair;
    if (pair === undefined) continue;
    const wanted = only.length > 0
      ? only.includes(scenario.name)
      : (joolOnly.length === 0 || pair.some((v) => joolOnly.includes(v))) &&
        (fullMatrix || scenario.ci === "main");
    Deno.test({
      name: `${scenario.name} (Jool ${pair[0]} + ${pair[1]})`,
      ignore: skipReason !== undefined || !wanted,
      fn: () => runPairScenario(scenario, pair),
    });
  }
  for (const jool of JOOL_VERSIONS) {
    for (const scenario of scenarios) {
      if (scenario.pair !== undefined) continue;
      Deno.test({
        name: `${scenario.name} (Jool ${jool})`,
        ignore: skipReason !== undefined || !selected(scenario, jool),
        fn: () => runScenario(scenario, jool),
      });
    }
  }
}
