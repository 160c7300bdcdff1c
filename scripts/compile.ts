/**
 * `deno task compile [--target TRIPLE]...`: builds the single `joold`
 * executable for x86_64 and aarch64 Linux into dist/.
 *
 * `deno compile` needs `denort`, the runtime it embeds, and downloads it
 * from Deno's release site unless DENORT_BIN names a local copy. When
 * DENORT_BIN is set, it must be a denort for the (single) target built.
 * If denort cannot be had, this says so in one line and exits non-zero.
 *
 * The binary gets only the permissions and V8 flags of
 * scripts/runtime_flags.ts.
 */

import { parseArgs } from "node:util";
import { RUNTIME_PERMISSIONS, RUNTIME_V8_FLAGS } from "./runtime_flags.ts";

/** Targets built when none is given. */
export const DEFAULT_TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

function outputName(target: string): string {
  return `dist/joold-${target.split("-")[0]}-linux`;
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
      "main.ts",
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const result = await command.output();
  if (result.success) {
    console.log(`Built ${output} (${target})`);
    return true;
  }
  const text = new TextDecoder().decode(result.stderr);
  if (/denort|Setting up base binary|dl\.deno\.land/i.test(text)) {
    const hint = Deno.env.get("DENORT_BIN") === undefined
      ? "set DENORT_BIN to a denort binary for this target"
      : `DENORT_BIN=${Deno.env.get("DENORT_BIN")} did not work for this target`;
    // Deno prints a numbered "Caused by" chain; the deepest cause says most.
    const causes = text.split("Stack backtrace")[0].split("\n").map((line) => line.trim()).filter((
      line,
    ) => /^\d+: /.test(line));
    const cause = causes.at(-1)?.replace(/^\d+: /, "") ?? "unknown error";
    console.error(`Cannot build ${output}: denort is not available (${cause}); ${hint}`);
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
  let ok = true;
  for (const target of targets) ok = (await compile(target)) && ok;
  return ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
