/**
 * Running `main.ts` as a process, for the host integration tests.
 */

import { fileURLToPath } from "node:url";
import { RUNTIME_FLAGS } from "../../scripts/runtime_flags.ts";

/** The daemon's entry point. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** True if this kernel has the Jool module loaded. */
export function joolLoaded(): boolean {
  try {
    Deno.statSync("/sys/module/jool");
    return true;
  } catch {
    return false;
  }
}

/** How a run of joold ended. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `joold ARGS...` (main.ts under this Deno, with exactly the
 * executable's permissions and V8 flags) in `cwd` and collects its output.
 */
export async function joold(args: string[], cwd?: string): Promise<Outcome> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...RUNTIME_FLAGS, MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
