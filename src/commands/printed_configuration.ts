/**
 * The configuration is printed once per distinct start: while Jool is
 * absent the service manager restarts the daemon every few seconds, and
 * each start printing its whole configuration filled the journal with the
 * same lines. What was printed last is remembered (its hash and when) in
 * the state directory, per instance and network namespace; a start with
 * the same configuration prints one line saying since when it is
 * unchanged. A daemon stopped on a signal forgets it: the next start, the
 * operator's, prints it whole. Without a writable directory, every start
 * prints it whole.
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import type { Logger } from "../log.ts";
import { isoTime } from "../iso_time.ts";

/** What the record file holds. */
export interface PrintedRecord {
  /** SHA-256 of the printed text, hex. */
  hash: string;
  /** When it was printed in full (ISO 8601). */
  since: string;
}

/** The record's text. */
export function encodePrintedRecord(record: PrintedRecord): string {
  return JSON.stringify(record) + "\n";
}

/** The record in `text`, or null if it is none (a file of another kind is printed over). */
export function decodePrintedRecord(text: string): PrintedRecord | null {
  try {
    const value = JSON.parse(text);
    if (typeof value?.hash === "string" && typeof value?.since === "string") {
      return { hash: value.hash, since: value.since };
    }
  } catch {
    // Not a record.
  }
  return null;
}

/** SHA-256 of `text`, hex. */
export async function textHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * What to print for `text` given the record of the last start: the text
 * itself, or one line if it is unchanged; and the record to keep.
 */
export function configurationToPrint(
  text: string,
  hash: string,
  previous: PrintedRecord | null,
  nowMs: number,
): { print: string; record: PrintedRecord } {
  if (previous !== null && previous.hash === hash) {
    const title = text.split("\n", 1)[0].replace(/:$/, "");
    return { print: `${title} unchanged since ${previous.since}`, record: previous };
  }
  return { print: text, record: { hash, since: isoTime(nowMs) } };
}

/**
 * Prints the configuration `text`, or the one line if the record at
 * `path` (null: none) says it was printed already.
 */
export async function printConfigurationOnce(
  text: string,
  path: string | null,
  print: (text: string) => void,
  logger: Logger,
  nowMs = Date.now(),
): Promise<void> {
  let previous: PrintedRecord | null = null;
  if (path !== null) {
    try {
      previous = decodePrintedRecord(await Deno.readTextFile(path));
    } catch {
      // First start, or no directory: printed whole.
    }
  }
  const { print: output, record } = configurationToPrint(
    text,
    await textHash(text),
    previous,
    nowMs,
  );
  print(output);
  if (path === null || record === previous) return;
  try {
    // Written whole, then renamed: a kill mid-write leaves the old record or the new.
    const temporary = `${path}.tmp`;
    await Deno.writeTextFile(temporary, encodePrintedRecord(record), { mode: 0o600 });
    await Deno.rename(temporary, path);
  } catch (error) {
    logger.debug(`Cannot remember the printed configuration in ${path}: ${errorText(error)}`);
  }
}

/** Removes the record at `path`, if any: the next start prints the configuration whole. */
export async function forgetPrintedConfiguration(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // None, or not ours to remove: the next start compares with it, as before.
  }
}
