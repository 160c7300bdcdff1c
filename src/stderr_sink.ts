/**
 * The daemon's log on stderr. When stderr is not a terminal (journald's
 * socket, a pipe), lines carry the priority prefix, and stderr is made
 * non-blocking: a reader that does not keep up (a pipe nobody empties, a
 * stalled journald) then costs log lines, counted by the logger
 * (`LevelLogger.sinkFailures`), not the event loop that syncs sessions. A
 * terminal is shared with the shell, so it is left as it is.
 *
 * @module
 */

import { Libc } from "../ffi/libc.ts";
import { setNonBlocking } from "../ffi/system_files.ts";
import { type LineSink, stderrSink } from "./log.ts";

/**
 * The stderr sink; with `nonBlocking` (the daemon), stderr is made
 * non-blocking unless it is a terminal. stdout often shares stderr's open
 * file description (journald's socket): the daemon's stdout writes must
 * then tolerate EAGAIN too (main.ts).
 */
export function openStderrSink(nonBlocking: boolean): LineSink {
  const journal = !Deno.stderr.isTerminal();
  if (journal && nonBlocking) nonBlockingStderr();
  return stderrSink(writeStderr, journal);
}

/** O_NONBLOCK on stderr; if that fails, writes stay blocking as before. */
function nonBlockingStderr(): void {
  try {
    const libc = Libc.open();
    try {
      setNonBlocking(libc, 2);
    } finally {
      libc.close();
    }
  } catch {
    // Blocking writes, as before.
  }
}

/** Writes a whole line; throws (the logger counts it) when stderr would block. */
function writeStderr(bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.byteLength) written += Deno.stderr.writeSync(bytes.subarray(written));
}
