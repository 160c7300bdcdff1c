/**
 * When the daemon nudges the kernel to send the sessions it holds back. On
 * Jool 4.1.13 and later a partial batch leaves only once `ss-flush-deadline`
 * has passed since the last batch, and the kernel checks that only when a
 * session is queued, when an ACK comes, and every 2 s: a session queued
 * just after a batch, with no other behind it, waits up to 4 s. One nudge
 * (src/sync/joold_traffic.ts) a deadline after the last batch sends it.
 *
 * While batches keep coming (a burst) the nudge waits: the kernel's own
 * checks send them, and the ACK flow control is left as it is. Each batch
 * costs a reading of the clock; the timer is set once per quiet spell.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";

/** What the nudge runs on. */
export interface FlushNudgeDeps {
  clock: Pick<Clock, "monotonic" | "setTimer" | "clearTimer">;
  /** Sends the nudge (KernelLink.nudge). */
  nudge: () => void;
  /** How long after the last batch the nudge goes (src/sync/instance_tuning.ts). */
  delayMs: number;
}

/** Nudges the kernel once, {@link FlushNudgeDeps.delayMs} after the last batch. */
export class FlushNudge {
  readonly #deps: FlushNudgeDeps;
  #lastBatchAt = 0;
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(deps: FlushNudgeDeps) {
    this.#deps = deps;
  }

  /** A batch came from the kernel (or was lost to an overrun). */
  batchArrived(): void {
    if (this.#stopped) return;
    this.#lastBatchAt = this.#deps.clock.monotonic();
    if (this.#timer === null) this.#arm(this.#deps.delayMs);
  }

  #arm(ms: number): void {
    this.#timer = this.#deps.clock.setTimer(() => this.#due(), ms);
  }

  #due(): void {
    this.#timer = null;
    if (this.#stopped) return;
    const waited = this.#deps.clock.monotonic() - this.#lastBatchAt;
    // A batch came since the timer was set: the deadline counts from it.
    if (waited < this.#deps.delayMs) {
      this.#arm(this.#deps.delayMs - waited);
      return;
    }
    this.#deps.nudge();
  }

  /** No more nudges. Idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#deps.clock.clearTimer(this.#timer);
    this.#timer = null;
  }
}
