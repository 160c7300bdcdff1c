/**
 * The C library's syslog(3): openlog, syslog and closelog, so that log
 * lines reach the system logger (`/dev/log`) as the reference joold's do.
 *
 * @module
 */

import type { Libc } from "./libc.ts";

/** openlog option: put the process id in every record. */
export const LOG_PID = 0x01;
/** openlog option: connect to the logger at once rather than at the first record. */
export const LOG_NDELAY = 0x08;

/** Facility of system daemons (sys/syslog.h: 3 << 3). */
export const LOG_DAEMON = 3 << 3;

/** Severities (sys/syslog.h), most severe first. */
export const LogSeverity = {
  EMERG: 0,
  ALERT: 1,
  CRIT: 2,
  ERR: 3,
  WARNING: 4,
  NOTICE: 5,
  INFO: 6,
  DEBUG: 7,
} as const;

/** The lowest 3 bits of a priority: its severity. */
const SEVERITY_MASK = 0x07;

const encoder = new TextEncoder();

/** A C string: the text's UTF-8 bytes and a NUL. A NUL inside would cut it, so it is spelled out. */
function cString(text: string): Uint8Array {
  return encoder.encode(`${text.replaceAll("\0", "\\0")}\0`);
}

/**
 * The process's connection to the system logger. glibc keeps one per
 * process, so open at most one at a time.
 */
export class Syslog {
  readonly #libc: Libc;
  readonly facility: number;
  // glibc keeps the ident pointer rather than a copy: this field keeps the
  // bytes alive (ArrayBuffer contents never move) until closelog().
  readonly #ident: Uint8Array;
  readonly #format = cString("%s");
  #closed = false;

  private constructor(libc: Libc, ident: Uint8Array, facility: number) {
    this.#libc = libc;
    this.#ident = ident;
    this.facility = facility;
  }

  /**
   * openlog(3). `ident` prefixes every record (e.g. `joold`); `options` is
   * an OR of {@link LOG_PID} and {@link LOG_NDELAY}; `facility` e.g.
   * {@link LOG_DAEMON}.
   */
  static open(libc: Libc, ident: string, options: number, facility: number): Syslog {
    const syslog = new Syslog(libc, cString(ident), facility);
    libc.symbols.openlog(syslog.#ident, options, facility);
    return syslog;
  }

  /**
   * Sends one record at `severity` (one of {@link LogSeverity}) with this
   * connection's facility. The message goes through a `"%s"` format, so
   * `%` in it is printed as is. Does nothing once closed.
   */
  log(severity: number, message: string): void {
    if (this.#closed) return;
    this.#libc.symbols.syslog(
      this.facility | (severity & SEVERITY_MASK),
      this.#format,
      cString(message),
    );
  }

  /** closelog(3). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.symbols.closelog();
  }
}
