/**
 * A clock for unit tests: time moves only when the test says so, and the
 * timers due by then run in order.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../../src/daemon/clock.ts";

/** A timer waiting in a {@link ManualClock}. */
export interface ManualTimer {
  /** When it is due, in the clock's monotonic milliseconds. */
  at: number;
  run: () => void;
  /** For a repeating timer, its interval; else null. */
  everyMs: number | null;
}

/** Wall-clock time at monotonic 0: 2024-01-01T00:00:00Z. */
const EPOCH_MS = Date.UTC(2024, 0, 1);

/** A {@link Clock} that the test moves with {@link advance}. */
export class ManualClock implements Clock {
  /** Milliseconds since the clock was made. */
  monotonicMs = 0;
  /** The timers not run (or, for repeating ones, not cleared) yet, by handle. */
  readonly timers = new Map<number, ManualTimer>();
  #next = 1;

  now = (): number => EPOCH_MS + this.monotonicMs;
  monotonic = (): number => this.monotonicMs;

  setTimer = (run: () => void, ms: number): TimerHandle => this.#add(run, ms, null);
  repeat = (run: () => void, ms: number): TimerHandle => this.#add(run, ms, ms);
  clearTimer = (handle: TimerHandle): void => {
    this.timers.delete(handle as number);
  };

  #add(run: () => void, ms: number, everyMs: number | null): number {
    const handle = this.#next++;
    this.timers.set(handle, { at: this.monotonicMs + ms, run, everyMs });
    return handle;
  }

  /** Moves time `ms` on, running every timer due by then, earliest first. */
  advance(ms: number): void {
    const until = this.monotonicMs + ms;
    for (;;) {
      let due: [number, ManualTimer] | null = null;
      for (const entry of this.timers) {
        if (entry[1].at <= until && (due === null || entry[1].at < due[1].at)) due = entry;
      }
      if (due === null) break;
      const [handle, timer] = due;
      this.monotonicMs = timer.at;
      if (timer.everyMs === null) this.timers.delete(handle);
      else timer.at += timer.everyMs;
      timer.run();
    }
    this.monotonicMs = until;
  }
}
