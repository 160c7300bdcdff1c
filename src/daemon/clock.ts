/**
 * Time as the daemon's parts see it: readings and timers, passed in so that
 * tests move time by hand (tests/support/manual_clock.ts) instead of
 * waiting for it.
 *
 * @module
 */

/** A timer handle: what setTimeout returns, or a manual clock's number. */
export type TimerHandle = number | ReturnType<typeof setTimeout>;

/** Readings and timers. */
export interface Clock {
  /** Milliseconds since the epoch (`Date.now()`): when something happened. */
  now(): number;
  /**
   * Monotonic milliseconds (`performance.now()`, the clock of the kernel
   * link's batch times): how long something took.
   */
  monotonic(): number;
  /** Calls `callback` once, `ms` from now. */
  setTimer(callback: () => void, ms: number): TimerHandle;
  /** Calls `callback` every `ms` until the timer is cleared. */
  repeat(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer of either kind; a spent or unknown one is ignored. */
  clearTimer(handle: TimerHandle): void;
}

/** The process's clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  repeat: (callback, ms) => setInterval(callback, ms),
  // setTimeout and setInterval share one list of timers: either clear works.
  clearTimer: (handle) => clearTimeout(handle),
};
