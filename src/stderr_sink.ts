/**
 * The log on stderr. Under journald (systemd.exec(5): JOURNAL_STREAM holds
 * the device and inode of the stream it connected stderr to) lines carry
 * the priority prefix; elsewhere (a terminal, a pipe, a file) a
 * long-running process's lines carry the time instead, which nobody else
 * adds, and a command's carry neither. With `nonBlocking` (the daemon),
 * stderr is made non-blocking unless it is a terminal: a reader that does
 * not keep up (a pipe nobody empties, a stalled journald) then costs log
 * lines, counted by the logger (`LevelLogger.sinkFailures`), not the event
 * loop that syncs sessions. A terminal is shared with the shell, so it is
 * left as it is.
 *
 * @module
 */

import { Libc } from "../ffi/libc.ts";
import {
  type FileIdentity,
  fileIdentity,
  readSystemFile,
  setNonBlocking,
} from "../ffi/system_files.ts";
import { type LineSink, stderrSink, type StderrStyle } from "./log.ts";

/** How the stderr sink is opened. */
export interface StderrOptions {
  /** Never wait for the reader (the daemon). */
  nonBlocking: boolean;
  /** Stamp the lines with the time when journald does not (daemons and follow). */
  longRunning: boolean;
}

/**
 * The stderr sink. stdout often shares stderr's open file description
 * (journald's socket): with `nonBlocking`, the daemon's stdout writes must
 * then tolerate EAGAIN too (src/commands/cli.ts). Given `libc` (the
 * daemon's, still open), it uses that rather than opening its own.
 */
export function openStderrSink(options: StderrOptions, libc?: Libc): LineSink {
  const terminal = Deno.stderr.isTerminal();
  let journal = false;
  try {
    const opened = libc ?? Libc.open();
    try {
      journal = isJournalStream(
        journalStreamOf(readSystemFile(opened, "/proc/self/environ")),
        () => fileIdentity(opened, 2),
      );
      if (options.nonBlocking && !terminal) setNonBlocking(opened, 2);
    } finally {
      if (opened !== libc) opened.close();
    }
  } catch {
    // Without libc or /proc: not known to be journald; writes stay blocking.
  }
  return stderrSink(writeStderr, stderrStyle(journal, options.longRunning));
}

/** How the lines are marked: see the module documentation. */
export function stderrStyle(journal: boolean, longRunning: boolean): StderrStyle {
  return journal ? "journal" : longRunning ? "timestamp" : "plain";
}

/** JOURNAL_STREAM's value in a NUL-separated environment block, or null. */
export function journalStreamOf(environ: string): string | null {
  const entry = environ.split("\0").find((variable) => variable.startsWith("JOURNAL_STREAM="));
  return entry === undefined ? null : entry.slice("JOURNAL_STREAM=".length);
}

/**
 * Whether stderr is the stream JOURNAL_STREAM (`DEVICE:INODE`, decimal)
 * names: a child of the service that inherited the variable but not the
 * stream (its stderr redirected) is not under journald.
 */
export function isJournalStream(
  journalStream: string | null,
  stderr: () => FileIdentity,
): boolean {
  const match = journalStream?.match(/^(\d+):(\d+)$/);
  if (match === null || match === undefined) return false;
  const { dev, ino } = stderr();
  return BigInt(match[1]) === dev && BigInt(match[2]) === ino;
}

/** Writes a whole line; throws (the logger counts it) when stderr would block. */
function writeStderr(bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.byteLength) written += Deno.stderr.writeSync(bytes.subarray(written));
}
