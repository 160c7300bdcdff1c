/**
 * How anything caught is told in a log line. Every layer uses it (start-up,
 * the daemon, the commands), so it lives apart from all of them.
 *
 * @module
 */

/** The message of an Error, or the value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
