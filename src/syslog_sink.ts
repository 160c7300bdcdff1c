/**
 * Logging to syslog (`--syslog`): facility daemon, ident `joold`, with the
 * process id, as the reference joold logs (it uses no LOG_PID).
 *
 * @module
 */

import { Libc } from "../ffi/libc.ts";
import { LOG_DAEMON, LOG_PID, Syslog } from "../ffi/syslog.ts";
import { type LineSink, SYSLOG_PRIORITY } from "./log.ts";
import { openStderrSink, type StderrOptions } from "./stderr_sink.ts";
import { errorText } from "./error_text.ts";

/** The ident every record carries. */
export const SYSLOG_IDENT = "joold";

/** What the sink writes through: {@link Syslog} or a test's fake. */
export interface SyslogWriter {
  /** One record at a syslog severity (3 error ... 7 debug). */
  log(severity: number, message: string): void;
}

/**
 * A {@link LineSink} writing one record per line, `level: message`, at the
 * level's severity. Newlines become spaces so a record never splits.
 */
export function syslogSink(writer: SyslogWriter): LineSink {
  return (level, message) => {
    writer.log(SYSLOG_PRIORITY[level], `${level}: ${message.replaceAll("\n", " ")}`);
  };
}

/** An open connection to the system logger. */
export interface SyslogConnection {
  /** Where the logger writes. */
  sink: LineSink;
  /** closelog(3) and unload the C library (unless it was given); the sink then drops lines. */
  close(): void;
}

/**
 * Opens the system logger for the daemon: facility daemon, ident
 * {@link SYSLOG_IDENT}, LOG_PID, through `libc` if given (closed by its
 * owner, after this), else a C library of its own. Throws if the C library
 * cannot be opened.
 */
export function openSyslog(given?: Libc): SyslogConnection {
  const libc = given ?? Libc.open();
  const syslog = Syslog.open(libc, SYSLOG_IDENT, LOG_PID, LOG_DAEMON);
  let closed = false;
  return {
    sink: syslogSink(syslog),
    close() {
      if (closed) return;
      closed = true;
      syslog.close();
      if (libc !== given) libc.close();
    },
  };
}

/**
 * Where a command's log lines go: the system logger if `syslog` (say why
 * not on stderr, and null, if it cannot be opened), else stderr, marked for
 * journald or with the time as src/stderr_sink.ts decides; through `libc`
 * if given (see {@link openSyslog}).
 */
export function openLogSink(
  syslog: boolean,
  stderr: StderrOptions = { nonBlocking: false, longRunning: false },
  libc?: Libc,
): SyslogConnection | null {
  if (!syslog) return { sink: openStderrSink(stderr, libc), close() {} };
  try {
    return openSyslog(libc);
  } catch (error) {
    console.error(`joold: --syslog: ${errorText(error)}`);
    return null;
  }
}
