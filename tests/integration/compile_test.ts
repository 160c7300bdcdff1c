/**
 * `deno task compile`: where denort cannot be had it says so in one line
 * and exits non-zero; where DENORT_BIN names a real denort (release
 * machines), the binary it builds runs.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { RUNTIME_V8_FLAGS } from "../../scripts/compile.ts";

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

Deno.test("the V8 flags of the executable are those of `deno task start`/`bench`, the README and the e2e daemons", () => {
  const [compiled] = RUNTIME_V8_FLAGS;
  assert.match(compiled, /^--v8-flags=\S+$/);
  const read = (path: string) => Deno.readTextFileSync(`${ROOT}/${path}`);
  const tasks: Record<string, string> = JSON.parse(read("deno.json")).tasks;
  for (const task of ["start", "bench"]) {
    assert.ok(
      tasks[task].split(" ").includes(compiled),
      `deno.json's ${task} task: ${tasks[task]}`,
    );
  }
  assert.ok(
    read("README.md").includes(` ${compiled} main.ts`),
    "README's run-from-a-checkout line",
  );
  assert.ok(
    read("tests/e2e/lib/daemons.sh").includes(
      `E2E_OURS_V8_FLAGS=${compiled.slice("--v8-flags=".length)}\n`,
    ),
    "tests/e2e/lib/daemons.sh E2E_OURS_V8_FLAGS",
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
