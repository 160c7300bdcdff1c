/**
 * `deno task compile`: where denort cannot be had it says so in one line
 * and exits non-zero; given a runtime that is not denort (a plain deno) it
 * refuses the result in one line, deletes it and exits non-zero; where
 * DENORT_BIN names a real denort (release machines), the binary it builds
 * runs.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleArgs, RUNTIME_FLAGS, RUNTIME_V8_FLAGS } from "../../scripts/runtime_flags.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function compile(env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "compile"],
    cwd: ROOT,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("compile without a usable denort: one line per target, non-zero exit", async () => {
  const result = await compile({ DENORT_BIN: "/nonexistent/denort" });
  assert.notEqual(result.code, 0);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0],
    /^Cannot build dist\/joold-(x86_64|aarch64)-linux: denort is not available \(.+\); DENORT_BIN=\/nonexistent\/denort did not work for this target$/,
  );
});

Deno.test("compile with a plain deno as DENORT_BIN: the result is checked, refused in one line and deleted", async () => {
  // deno compile accepts any runtime; a copy of deno answers `--version` as deno.
  const result = await compile({ DENORT_BIN: Deno.execPath() });
  assert.notEqual(result.code, 0, result.stdout);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  const output = `dist/joold-${Deno.build.arch}-linux`;
  assert.equal(
    lines[0],
    `Cannot build ${output}: it is not joold: its --version printed "deno ${Deno.version.deno} ` +
      `(stable, release, ${Deno.build.target})" (exit status 0), not "joold ${VERSION} (…)"; ` +
      `DENORT_BIN=${Deno.execPath()} is not a denort`,
  );
  assert.throws(() => Deno.statSync(`${ROOT}/${output}`), Deno.errors.NotFound);
});

Deno.test("the executable's permissions and V8 flags are those of `deno task start`/`bench` and the docs", () => {
  const read = (path: string) => Deno.readTextFileSync(`${ROOT}/${path}`);
  const tasks: Record<string, string> = JSON.parse(read("deno.json")).tasks;
  const words = tasks.start.split(" ");
  assert.deepEqual(
    words.filter((word) => word.startsWith("--")),
    [...RUNTIME_FLAGS],
    `deno.json's start task: ${tasks.start}`,
  );
  assert.equal(
    tasks.bundle,
    `deno ${bundleArgs("dist/joold.js").join(" ")}`,
    "deno.json's bundle task",
  );
  const [v8] = RUNTIME_V8_FLAGS;
  assert.ok(tasks.bench.split(" ").includes(v8), `deno.json's bench task: ${tasks.bench}`);
  assert.ok(
    read("docs/operation.md").includes(` run ${RUNTIME_FLAGS.join(" ")} main.ts`),
    "docs/operation.md's run-from-a-checkout line",
  );
});

/** Files that start joold (or its commands) for tests, benchmarks and the demo. */
const LAUNCHERS = [
  "tests/e2e/lib/daemons.sh",
  "tests/e2e/e2e_test.ts",
  "tests/e2e/lib/harness.ts",
  "tests/integration/joold_process.ts",
  "scripts/bench_sync.ts",
  "bench/sync_guest.sh",
  "bench/guest_lib.sh",
  "bench/convergence_guest.sh",
  "scripts/bench_convergence.ts",
  "scripts/demo.sh",
  "tests/e2e/lib/topology.sh",
  "tests/e2e/scenarios/install.sh",
];

Deno.test("nothing starts joold with other flags than the executable's", () => {
  const read = (path: string) => Deno.readTextFileSync(`${ROOT}/${path}`);
  const wide: string[] = [];
  for (const file of LAUNCHERS) {
    read(file).split("\n").forEach((line, index) => {
      // A line that names the daemon (the bundle or main.ts) and widens its rights.
      if (/joold\.js|E2E_BUNDLE|\bMAIN\b|main\.ts/.test(line) && /--allow-all|\s-A\s/.test(line)) {
        wide.push(`${file}:${index + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(wide, [], `joold started with --allow-all:\n${wide.join("\n")}`);
  // The daemon's launchers take the flags from scripts/runtime_flags.ts, not a copy.
  assert.match(read("tests/e2e/lib/daemons.sh"), /"\$E2E_DENO" run "\$\{E2E_FLAGS\[@\]\}"/);
  assert.doesNotMatch(read("tests/e2e/lib/daemons.sh"), /max-opt|memory-reducer/);
  assert.match(read("tests/e2e/lib/harness.ts"), /JOOLD_E2E_OURS_FLAGS: RUNTIME_FLAGS\.join/);
  assert.match(read("scripts/bench_sync.ts"), /JOOLD_E2E_OURS_FLAGS: RUNTIME_FLAGS\.join/);
  assert.match(read("scripts/demo.sh"), /scripts\/runtime_flags\.ts/);
  assert.match(read("tests/integration/joold_process.ts"), /\.\.\.RUNTIME_FLAGS, MAIN/);
  // The install scenario's stand-in for the executable.
  assert.match(
    read("tests/e2e/lib/topology.sh"),
    /printf ' %q' "\$\{E2E_FLAGS\[@\]\}" --no-config "\$E2E_BUNDLE"/,
  );
});

const denort = Deno.env.get("DENORT_BIN");
Deno.test({
  name: "compile with DENORT_BIN builds an executable that runs",
  ignore: denort === undefined,
  fn: async () => {
    const result = await compile({ DENORT_BIN: denort! });
    assert.equal(result.code, 0, result.stderr);
    const binary = `${ROOT}/dist/joold-${Deno.build.arch}-linux`;
    const version = await new Deno.Command(binary, { args: ["--version"], stdout: "piped" })
      .output();
    assert.match(new TextDecoder().decode(version.stdout), /^joold \d+\.\d+\.\d+/);
  },
});
if (denort === undefined) console.error("compile with DENORT_BIN skipped: DENORT_BIN is not set");
