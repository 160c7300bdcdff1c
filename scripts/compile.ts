/**
 * `deno task compile [--target TRIPLE]...`: builds the single `joold`
 * executable for x86_64 and aarch64 Linux into dist/.
 *
 * `deno compile` needs `denort`, the runtime it embeds, and downloads it
 * from Deno's release site unless DENORT_BIN names a local copy. When
 * DENORT_BIN is set, it must be a denort for the (single) target built.
 * If denort cannot be had, this says so in one line and exits non-zero.
 *
 * `deno compile` succeeds with any runtime, even a plain `deno` (whose copy
 * then ignores the program), so each result is checked before it is called
 * built: one for this machine must answer `--version` and `check --help` as
 * joold does (scripts/verify_executable.ts); one for another architecture
 * must at least be an ELF executable of that architecture. A result that
 * fails is deleted, with one line saying why, and the exit status is
 * non-zero.
 *
 * What it compiles is the bundle (dist/joold.js, as `deno task bundle`): the
 * code the end-to-end tests run, with the npm package inlined as plain
 * JavaScript, so that no start loads Deno's Node compatibility layer.
 *
 * The binary gets only the permissions and V8 flags of
 * scripts/runtime_flags.ts.
 */

import { parseArgs } from "node:util";
import { bundleArgs, RUNTIME_PERMISSIONS, RUNTIME_V8_FLAGS } from "./runtime_flags.ts";
import { elfArchitecture, notJooldReason } from "./verify_executable.ts";

/** What is bundled, then compiled (`deno task bundle` writes the same file). */
const BUNDLE = "dist/joold.js";

/** Targets built when none is given. */
export const DEFAULT_TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

function outputName(target: string): string {
  return `dist/joold-${target.split("-")[0]}-linux`;
}

function denortHint(): string {
  const denort = Deno.env.get("DENORT_BIN");
  return denort === undefined
    ? "set DENORT_BIN to a denort binary for this target"
    : `DENORT_BIN=${denort} did not work for this target`;
}

/**
 * Why the built file is not joold for `target`, or undefined if it is.
 * Runs it when it is for this machine's architecture.
 */
async function rejection(output: string, target: string): Promise<string | undefined> {
  const arch = target.split("-")[0];
  const found = await elfArchitecture(output);
  if (found !== arch) return `it is not an ${arch} ELF executable (${found ?? "not ELF"})`;
  if (arch !== Deno.build.arch || Deno.build.os !== "linux") return undefined;
  const reason = await notJooldReason(`./${output}`);
  return reason === undefined ? undefined : `it is not joold: ${reason}`;
}

async function compile(target: string): Promise<boolean> {
  const output = outputName(target);
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      ...RUNTIME_PERMISSIONS,
      ...RUNTIME_V8_FLAGS,
      "--target",
      target,
      "--output",
      output,
      BUNDLE,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const result = await command.output();
  if (result.success) {
    const reason = await rejection(output, target);
    if (reason !== undefined) {
      // Nothing that is not joold stays where a release would pick it up.
      await Deno.remove(output).catch(() => {});
      const denort = Deno.env.get("DENORT_BIN");
      const hint = denort === undefined ? "" : `; DENORT_BIN=${denort} is not a denort`;
      console.error(`Cannot build ${output}: ${reason}${hint}`);
      return false;
    }
    const checked = target.startsWith(`${Deno.build.arch}-`)
      ? "its --version and check --help answered as joold"
      : `not run here: an ${target.split("-")[0]} ELF executable, built on ${Deno.build.arch}`;
    console.log(`Built ${output} (${target}; ${checked})`);
    return true;
  }
  const text = new TextDecoder().decode(result.stderr);
  if (/denort|Setting up base binary|dl\.deno\.land/i.test(text)) {
    // Deno prints a numbered "Caused by" chain; the deepest cause says most.
    const causes = text.split("Stack backtrace")[0].split("\n").map((line) => line.trim()).filter((
      line,
    ) => /^\d+: /.test(line));
    const cause = causes.at(-1)?.replace(/^\d+: /, "") ?? "unknown error";
    console.error(`Cannot build ${output}: denort is not available (${cause}); ${denortHint()}`);
  } else {
    console.error(`Cannot build ${output}: deno compile failed:\n${text}`);
  }
  return false;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { target: { type: "string", multiple: true } },
  });
  let targets = values.target ?? DEFAULT_TARGETS;
  if (values.target === undefined && Deno.env.get("DENORT_BIN") !== undefined) {
    // One denort serves one target: build the host's.
    targets = [`${Deno.build.arch}-unknown-linux-gnu`];
  }
  await Deno.mkdir("dist", { recursive: true });
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: bundleArgs(BUNDLE),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!bundled.success) {
    const text = new TextDecoder().decode(bundled.stderr).trim();
    console.error(`Cannot build joold: deno bundle failed: ${text.split("\n").at(-1)}`);
    return 1;
  }
  let ok = true;
  for (const target of targets) ok = (await compile(target)) && ok;
  return ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
