/**
 * Is this file the joold executable of this checkout? `deno compile`
 * succeeds whatever runtime it embeds (a plain `deno` given as DENORT_BIN
 * makes a copy of deno that ignores the program), so the build
 * (scripts/compile.ts) and the release's smoke test (scripts/smoke_test.ts)
 * ask the file itself.
 *
 * @module
 */

import { VERSION } from "../src/version.ts";
import { runCommand } from "./run_command.ts";

/** ELF `e_machine` values of the architectures joold is built for. */
const ELF_MACHINES: Record<number, string> = { 0x3e: "x86_64", 0xb7: "aarch64" };

/** How long one run of the executable may take; a start under load takes a second or two. */
const RUN_TIMEOUT_MS = 60_000;

/**
 * The architecture of an ELF executable (`x86_64`, `aarch64`), or
 * undefined if the file is not an ELF file of one of those.
 */
export async function elfArchitecture(path: string): Promise<string | undefined> {
  const file = await Deno.open(path);
  try {
    const header = new Uint8Array(20);
    const read = await file.read(header);
    const magic = [0x7f, 0x45, 0x4c, 0x46];
    if (read !== header.length || magic.some((byte, i) => header[i] !== byte)) return undefined;
    // e_machine, in the file's byte order (EI_DATA: 1 little-endian, 2 big-endian).
    const machine = header[5] === 1
      ? header[18] | (header[19] << 8)
      : (header[18] << 8) | header[19];
    return ELF_MACHINES[machine];
  } finally {
    file.close();
  }
}

/** What a run printed, first line only (enough to say what answered). */
async function firstLine(path: string, args: string[]): Promise<{ code: number; line: string }> {
  const result = await runCommand(path, args, {
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  });
  const text = result.code === 0 ? result.stdout : result.stderr;
  return { code: result.code, line: text.trim().split("\n")[0] ?? "" };
}

/**
 * Runs `PATH --version` and `PATH check --help`; returns why the file is not
 * joold VERSION (one line, for a message after "it is not joold: "), or
 * undefined if it is.
 */
export async function notJooldReason(path: string): Promise<string | undefined> {
  let version;
  try {
    version = await firstLine(path, ["--version"]);
  } catch (error) {
    return `it does not run (${error instanceof Error ? error.message : error})`;
  }
  if (version.code !== 0 || !version.line.startsWith(`joold ${VERSION} (`)) {
    return `its --version printed "${version.line}" (exit status ${version.code}), ` +
      `not "joold ${VERSION} (…)"`;
  }
  const help = await firstLine(path, ["check", "--help"]);
  if (help.code !== 0 || !help.line.startsWith("Usage: joold ")) {
    return `its "check --help" printed "${help.line}" (exit status ${help.code}), ` +
      `not joold's usage`;
  }
  return undefined;
}
