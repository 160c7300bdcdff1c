/**
 * Reporting peers' datagrams dropped before the kernel: one log line per
 * sending host per interval, and what that kept out of the log counted and
 * reported once the interval is over (or at exit), so that a peer sending
 * garbage at line rate costs a few lines, yet no drop goes untold. Hosts,
 * not address:port pairs: a host sending from thousands of source ports
 * would otherwise get a line (and a report) for each.
 *
 * @module
 */

import { type Logger, RateLimiter } from "../log.ts";
import type { Clock, TimerHandle } from "./clock.ts";

/** One log line per peer per this interval. */
export const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * The host of a sender as peers are described ("[2001:db8::1]:6464",
 * "192.0.2.1:6464"): the address without the port; anything else as it is.
 */
export function senderHost(origin: string): string {
  const match = /^(\[[^\]]*\]|[^:]*):\d+$/.exec(origin);
  return match === null ? origin : match[1];
}

/** Logs drops within the limit and reports the rest. */
export class DropReporter {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #dropLog = new RateLimiter(DROP_LOG_INTERVAL_MS);
  #timer: TimerHandle | null = null;

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  /** A datagram from `origin` was dropped for `problem`, at `nowMs`. */
  dropped(origin: string, problem: string, nowMs: number): void {
    const suppressed = this.#dropLog.allow(senderHost(origin), nowMs);
    if (suppressed === null) return;
    this.#logger.warning(
      `Dropped a datagram from ${origin}: ${problem}` +
        (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : ""),
    );
  }

  /** Starts reporting the drops kept out of the log, every interval. */
  start(): void {
    this.#timer = this.#clock.repeat(() => this.#report(false), DROP_LOG_INTERVAL_MS);
  }

  /** Stops the reports, then reports every drop not told yet (at exit). */
  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#report(true);
  }

  /**
   * The drops that the rate limit kept out of the log, per host, once its
   * interval is over (or all of them, at exit).
   */
  #report(atExit: boolean): void {
    for (const [origin, count] of this.#dropLog.takeSuppressed(this.#clock.now(), atExit)) {
      this.#logger.warning(
        `Dropped ${count} more datagram${count === 1 ? "" : "s"} from ${origin} ` +
          (atExit ? "since the last report" : `in the last ${DROP_LOG_INTERVAL_MS / 1000} s`) +
          " (per-peer counts: the JSON stats)",
      );
    }
  }
}
