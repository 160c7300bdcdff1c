/**
 * Leveled logging. On stderr, under journald each line starts with the
 * sd-daemon priority prefix `<N>`, so journald files it under the right
 * priority (and stamps it); elsewhere a long-running process's lines start
 * with the time, which nothing else adds (src/stderr_sink.ts decides).
 *
 * @module
 */

import type { Problem } from "./problem.ts";
import { isoTime } from "./iso_time.ts";

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

/** `text` as a log level, or why it is none (quoted as `shown`). */
export function parseLogLevel(text: string, shown: string): LogLevel | Problem {
  if (isLogLevel(text)) return text;
  return { problem: `must be error, warning, info or debug, got ${shown}` };
}

/** True if `text` names a log level. */
export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/**
 * The longest message written: what a peer, a kernel or a file put into a
 * message (a name, a key, an error text) must not make a line of megabytes.
 */
export const MAX_LOG_MESSAGE = 2048;

/** Writes one finished line (without newline) at a priority. */
export type LineSink = (level: LogLevel, line: string) => void;

/**
 * A {@link Logger} that formats lines and hands them to a sink, dropping
 * those below the threshold.
 */
export class LevelLogger implements Logger {
  readonly #threshold: number;
  readonly #sink: LineSink;
  #sinkFailures = 0;

  constructor(level: LogLevel, sink: LineSink) {
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#sink = sink;
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#threshold;
  }

  /**
   * Lines the sink failed to write (stderr closed: EPIPE; syslog gone). A
   * log line is never worth the daemon: the failure is counted, not thrown.
   */
  get sinkFailures(): number {
    return this.#sinkFailures;
  }

  #write(level: LogLevel, message: string): void {
    if (!this.enabled(level)) return;
    const line = message.length <= MAX_LOG_MESSAGE
      ? message
      : `${message.slice(0, MAX_LOG_MESSAGE)}... (${
        message.length - MAX_LOG_MESSAGE
      } more characters)`;
    try {
      this.#sink(level, line);
    } catch {
      this.#sinkFailures++;
    }
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
 * How stderr lines are marked: `journal`, `<N>level: message` (journald
 * reads the priority and adds the time); `timestamp`, `TIME level: message`
 * (UTC, ISO 8601 with milliseconds); `plain`, `level: message`.
 */
export type StderrStyle = "journal" | "timestamp" | "plain";

/** A sink writing one line per record through `write`, marked as `style` says. */
export function stderrSink(
  write: (bytes: Uint8Array) => void,
  style: StderrStyle,
  now: () => number = Date.now,
): LineSink {
  const encoder = new TextEncoder();
  return (level, message) => {
    // One line per record: a kernel message with a newline must not split
    // into a second record with no priority.
    const flat = message.replaceAll("\n", " ");
    const prefix = style === "journal"
      ? `<${SYSLOG_PRIORITY[level]}>`
      : style === "timestamp"
      ? `${isoTime(now())} `
      : "";
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

/** Keys remembered by a {@link RateLimiter}; newer ones share {@link OTHER_SOURCES}. */
const MAX_RATE_LIMITED_KEYS = 1024;

/** Events let through per interval by a {@link RateLimiter}, all keys together. */
const MAX_EVENTS_PER_INTERVAL = 20;

/** Reports per call of {@link RateLimiter.takeSuppressed}; the rest are summed under one. */
const MAX_REPORTS = 20;

/** The key that stands for every key beyond what a {@link RateLimiter} remembers. */
export const OTHER_SOURCES = "other sources";

interface LimitedKey {
  nextMs: number;
  suppressed: number;
}

/**
 * Lets one event per key through each interval, and at most
 * {@link MAX_EVENTS_PER_INTERVAL} of all keys together, and counts the rest,
 * so that a peer sending garbage at line rate, or thousands of forged
 * sources, cost a few log lines per interval. The table of keys is bounded:
 * beyond {@link MAX_RATE_LIMITED_KEYS}, new keys share one entry,
 * {@link OTHER_SOURCES}, instead of starting the table afresh (which let every
 * key through again).
 */
export class RateLimiter {
  readonly #intervalMs: number;
  readonly #keys = new Map<string, LimitedKey>();
  #windowEndsMs = -Infinity;
  #windowEvents = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Returns null if the event is suppressed, else how many events of this
   * key were suppressed since the last one let through.
   */
  allow(key: string, nowMs: number): number | null {
    let entry = this.#keys.get(key);
    if (entry === undefined && this.#keys.size >= MAX_RATE_LIMITED_KEYS) {
      key = OTHER_SOURCES;
      entry = this.#keys.get(key);
    }
    if (entry !== undefined && nowMs < entry.nextMs) {
      entry.suppressed++;
      return null;
    }
    if (nowMs >= this.#windowEndsMs) {
      this.#windowEndsMs = nowMs + this.#intervalMs;
      this.#windowEvents = 0;
    }
    if (this.#windowEvents >= MAX_EVENTS_PER_INTERVAL) {
      // Over the global budget: counted, and reported when its key is due.
      if (entry === undefined) this.#keys.set(key, { nextMs: nowMs, suppressed: 1 });
      else entry.suppressed++;
      return null;
    }
    this.#windowEvents++;
    const suppressed = entry?.suppressed ?? 0;
    this.#keys.set(key, { nextMs: nowMs + this.#intervalMs, suppressed: 0 });
    return suppressed;
  }

  /**
   * The keys whose interval is over with events suppressed in it, and how
   * many: call it periodically so that a burst's count is reported even if
   * no event follows it. Each key returned starts a new interval (a steady
   * stream gives one report per interval); keys with nothing to report are
   * forgotten. `all` reports every key at once, due or not (at exit). At
   * most {@link MAX_REPORTS} entries: the rest come summed as
   * {@link OTHER_SOURCES}.
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
    if (due.length <= MAX_REPORTS) return due;
    const rest = due.slice(MAX_REPORTS - 1).reduce((sum, [, count]) => sum + count, 0);
    return [...due.slice(0, MAX_REPORTS - 1), [OTHER_SOURCES, rest]];
  }
}
