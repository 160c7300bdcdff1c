/**
 * Leveled logging to stderr. When stderr is not a terminal (journald,
 * a pipe) each line starts with the sd-daemon priority prefix `<N>`, so
 * journald files it under the right priority.
 *
 * @module
 */

/** Log levels, most severe first. */
export const LOG_LEVELS = ["error", "warning", "info", "debug"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** syslog priorities (sys/syslog.h) for each level. */
export const SYSLOG_PRIORITY: Readonly<Record<LogLevel, number>> = {
  error: 3,
  warning: 4,
  info: 6,
  debug: 7,
};

/** Where log lines go. Daemon code receives one; it never logs globally. */
export interface Logger {
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** True if `level` would be written (to skip building costly messages). */
  enabled(level: LogLevel): boolean;
}

/** True if `text` names a log level. */
export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/** Writes one finished line (without newline) at a priority. */
export type LineSink = (level: LogLevel, line: string) => void;

/**
 * A {@link Logger} that formats lines and hands them to a sink, dropping
 * those below the threshold.
 */
export class LevelLogger implements Logger {
  readonly #threshold: number;
  readonly #sink: LineSink;

  constructor(level: LogLevel, sink: LineSink) {
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#sink = sink;
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#threshold;
  }

  #write(level: LogLevel, message: string): void {
    if (this.enabled(level)) this.#sink(level, message);
  }

  error(message: string): void {
    this.#write("error", message);
  }

  warning(message: string): void {
    this.#write("warning", message);
  }

  info(message: string): void {
    this.#write("info", message);
  }

  debug(message: string): void {
    this.#write("debug", message);
  }
}

/**
 * A sink writing `<N>level: message` lines (or, with `priorityPrefix`
 * false, `level: message`) through `write`.
 */
export function stderrSink(
  write: (bytes: Uint8Array) => void,
  priorityPrefix: boolean,
): LineSink {
  const encoder = new TextEncoder();
  return (level, message) => {
    // One line per record: a kernel message with a newline must not split
    // into a second record with no priority.
    const flat = message.replaceAll("\n", " ");
    const prefix = priorityPrefix ? `<${SYSLOG_PRIORITY[level]}>` : "";
    write(encoder.encode(`${prefix}${level}: ${flat}\n`));
  };
}

/** A logger that discards everything (tests, `--quiet` tools). */
export const silentLogger: Logger = {
  error() {},
  warning() {},
  info() {},
  debug() {},
  enabled: () => false,
};

/** Keys remembered by a {@link RateLimiter} before it starts afresh. */
const MAX_RATE_LIMITED_KEYS = 1024;

/**
 * Lets one event per key through each interval and counts the rest, so a
 * peer sending garbage at line rate costs one log line per interval.
 */
export class RateLimiter {
  readonly #intervalMs: number;
  readonly #keys = new Map<string, { nextMs: number; suppressed: number }>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Returns null if the event is suppressed, else how many events of this
   * key were suppressed since the last one let through.
   */
  allow(key: string, nowMs: number): number | null {
    const entry = this.#keys.get(key);
    if (entry !== undefined && nowMs < entry.nextMs) {
      entry.suppressed++;
      return null;
    }
    if (entry === undefined && this.#keys.size >= MAX_RATE_LIMITED_KEYS) this.#keys.clear();
    const suppressed = entry?.suppressed ?? 0;
    this.#keys.set(key, { nextMs: nowMs + this.#intervalMs, suppressed: 0 });
    return suppressed;
  }

  /**
   * The keys whose interval is over with events suppressed in it, and how
   * many: call it periodically so that a burst's count is reported even if
   * no event follows it. Each key returned starts a new interval (a steady
   * stream gives one report per interval); keys with nothing to report are
   * forgotten. `all` reports every key at once, due or not (at exit).
   */
  takeSuppressed(nowMs: number, all = false): [key: string, suppressed: number][] {
    const due: [string, number][] = [];
    for (const [key, entry] of this.#keys) {
      if (nowMs < entry.nextMs && !(all && entry.suppressed > 0)) continue;
      if (entry.suppressed === 0) {
        this.#keys.delete(key);
        continue;
      }
      due.push([key, entry.suppressed]);
      entry.suppressed = 0;
      entry.nextMs = nowMs + this.#intervalMs;
    }
    return due;
  }
}
