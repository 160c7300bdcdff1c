/**
 * Replacing a small file in the state directory so that a reader, or a
 * kill mid-write, sees the old content or the new, never part of one.
 *
 * @module
 */

/**
 * Writes `text` to `path` with `mode` (before the umask): whole, to
 * `path.tmp`, then renamed over `path`. Makes the directory if it is
 * missing (the daemon started by hand, not by the unit that makes it).
 *
 * @throws {Error} A file error, e.g. Deno.errors.NotCapable outside the
 * directory the executable may write.
 */
export function replaceFile(path: string, text: string, mode: number): void {
  const temporary = `${path}.tmp`;
  try {
    Deno.writeTextFileSync(temporary, text, { mode });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true, mode: 0o755 });
    Deno.writeTextFileSync(temporary, text, { mode });
  }
  Deno.renameSync(temporary, path);
}
