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

/**
 * 64-bit FNV-1a of `text`'s UTF-16 code units, hex: it tells one
 * configuration from another, nothing secret. Not WebCrypto's SHA-256:
 * its first digest costs the daemon's start about 3 ms of CPU and 1.3 MiB
 * of resident code (measured with Deno 2.9.6).
 */
export function textHash(text: string): string {
  // The 64-bit state in two 32-bit halves; the prime is 2^40 + 0x1b3.
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (let index = 0; index < text.length; index++) {
    low = (low ^ text.charCodeAt(index)) >>> 0;
    const lowProduct = low * 0x1b3; // below 2^41: exact
    high = (Math.imul(high, 0x1b3) + Math.floor(lowProduct / 0x1_0000_0000) + (low << 8)) >>> 0;
    low = lowProduct >>> 0;
  }
  return high.toString(16).padStart(8, "0") + low.toString(16).padStart(8, "0");
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
export function printConfigurationOnce(
  text: string,
  path: string | null,
  print: (text: string) => void,
  logger: Logger,
  nowMs = Date.now(),
): void {
  let previous: PrintedRecord | null = null;
  if (path !== null) {
    try {
      // Synchronous: a few bytes in /run, and the first asynchronous file
      // operation would cost the start about 3 ms and 2 MiB of resident code.
      previous = decodePrintedRecord(Deno.readTextFileSync(path));
    } catch {
      // First start, or no directory: printed whole.
    }
  }
  const { print: output, record } = configurationToPrint(
    text,
    textHash(text),
    previous,
    nowMs,
  );
  print(output);
  if (path === null || record === previous) return;
  try {
    // Written whole, then renamed: a kill mid-write leaves the old record or the new.
    const temporary = `${path}.tmp`;
    Deno.writeTextFileSync(temporary, encodePrintedRecord(record), { mode: 0o600 });
    Deno.renameSync(temporary, path);
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
