/**
 * The queue in which a fake Jool keeps new sessions until it sends them to
 * the daemon, deciding as Jool's `should_send()` (src/mod/common/joold.c)
 * does on each version, on a manual clock (a millisecond per jiffy): for
 * tests of how long a session waits in the kernel.
 *
 * @module
 */

import { kernelHonoursFlushAsap } from "../../src/jool/kernel_behaviour.ts";
import { GlobalAttribute } from "../../src/jool/protocol.ts";
import { encodeSessions, type Session } from "../../src/jool/session.ts";
import { sessionEncodingFor } from "../../src/jool/session_layout.ts";
import type { FakeJool } from "./fake_jool.ts";
import type { ManualClock } from "./manual_clock.ts";

/** `ss-max-sessions-per-packet`'s default. */
const SESSIONS_PER_BATCH = 36;

/** The module's timer that re-checks every queue (joold_clean()). */
const CLEAN_INTERVAL_MS = 2000;

/** Why a batch left, as Jool's JSTAT_JOOLD_* counters name it. */
export type SendReason = "TIMEOUT" | "FLUSH_ASAP" | "PKT_FULL";

/** A batch the queue sent. */
export interface SentBatch {
  at: number;
  sessions: Session[];
  reason: SendReason;
}

/** One instance's joold queue. */
export class FakeJooldQueue {
  readonly sent: SentBatch[] = [];
  readonly #jool: FakeJool;
  readonly #clock: ManualClock;
  #queued: Session[] = [];
  #ackReceived = true;
  #lastFlushAt = -Infinity;

  constructor(jool: FakeJool, clock: ManualClock) {
    this.#jool = jool;
    this.#clock = clock;
    jool.onAck = () => {
      this.#ackReceived = true;
      this.#check();
    };
    clock.repeat(() => this.#check(), CLEAN_INTERVAL_MS);
  }

  /** A new session (joold_add()). */
  add(session: Session): void {
    this.#queued.push(session);
    this.#check();
  }

  #reason(): SendReason | null {
    if (this.#queued.length === 0) return null;
    const globals = this.#jool.globals;
    const now = this.#clock.monotonic();
    if (now - this.#lastFlushAt > globals.get(GlobalAttribute.JOOLD_FLUSH_DEADLINE)!) {
      return "TIMEOUT";
    }
    if (!this.#ackReceived) return null;
    const asap = globals.get(GlobalAttribute.JOOLD_FLUSH_ASAP) !== 0;
    if (asap && kernelHonoursFlushAsap(this.#jool.version)) return "FLUSH_ASAP";
    return this.#queued.length >= SESSIONS_PER_BATCH ? "PKT_FULL" : null;
  }

  #check(): void {
    const reason = this.#reason();
    if (reason === null) return;
    const sessions = this.#queued.splice(0, SESSIONS_PER_BATCH);
    this.#ackReceived = false;
    this.#lastFlushAt = this.#clock.monotonic();
    this.sent.push({ at: this.#lastFlushAt, sessions, reason });
    const payload = encodeSessions(sessions, sessionEncodingFor(this.#jool.version));
    // Delivered later, as a multicast reaches the socket after the sender returns.
    queueMicrotask(() => this.#jool.multicast(payload));
  }
}
