/**
 * One helper for the release scripts and their tests: run a program to its
 * end and keep what it printed, as text.
 *
 * @module
 */

/** How a program run ended, and what it printed. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with `args` (no input) and returns its exit status and
 * output. `options` go to `Deno.Command` (cwd, env, signal…).
 */
export async function runCommand(
  command: string,
  args: string[],
  options: Omit<Deno.CommandOptions, "args" | "stdout" | "stderr"> = {},
): Promise<CommandResult> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    stdin: "null",
    ...options,
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}
