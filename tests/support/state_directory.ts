/**
 * A temporary state directory for tests of the state file, removed
 * afterwards whatever the test did.
 *
 * @module
 */

/** Runs `run` on a new temporary directory, then removes it. */
export async function withStateDirectory(
  run: (directory: string) => Promise<void>,
): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "joold-state-" });
  try {
    await run(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}
