/**
 * Which of the instance's session-sync globals the daemon changes while it
 * runs, on which Jool version, and why: the policy only (no I/O); the daemon
 * reads, changes and puts back the values.
 *
 * Two globals size the queue in which the kernel keeps new sessions while
 * it waits for the daemon's ACK; whatever does not fit is dropped, so a
 * burst of new connections faster than the ACK round trip loses sessions:
 *
 * - Jool 4.1.10 and earlier: one batch of at most `ss-max-payload` bytes
 *   (default 1452: 11 sessions). The relay splits the larger batch into
 *   ordinary datagrams for the peers (src/sync/batch_split.ts).
 * - Jool 4.1.11 and later: up to `ss-capacity` sessions (default 512), sent
 *   36 per message. `ss-max-sessions-per-packet` is left alone: the kernel
 *   builds each message in a 1500-byte buffer (genlmsg_new(1500) in
 *   joold.c), so more than 36 sessions of 40 bytes do not fit.
 *
 * Two decide how long a session waits in the kernel before any daemon sees
 * it, and so how young a connection can be and still survive a failover
 * (docs/configuration.md, "ss flush asap" and "ss flush deadline"):
 *
 * - up to Jool 4.1.12, `ss-flush-asap` on sends a partial batch as soon as
 *   the daemon's ACK is in;
 * - from 4.1.13, only `ss-flush-deadline` (default 2000 ms) lets a partial
 *   batch go, so the daemon lowers it and nudges the kernel once it has
 *   passed (src/daemon/flush_nudge.ts).
 *
 * @module
 */

import type { ModsocketConfig } from "../config/modsocket.ts";
import { kernelHonoursFlushAsap, kernelUsesMaxPayload } from "../jool/kernel_behaviour.ts";
import { GlobalAttribute } from "../jool/protocol.ts";

/** Which way the daemon moves a global: a value already past `wanted` is left alone. */
export type TuningDirection = "raise" | "lower";

/** One global to move to `wanted` while the daemon runs. */
export interface GlobalTuning {
  /** The GLOBALS attribute type. */
  type: number;
  /** Its name in `jool global`, e.g. `ss-capacity`. */
  name: string;
  /** Its unit in messages, e.g. `sessions`; {@link SWITCH} for an on/off global. */
  unit: string;
  /** The modsocket key that sets or disables it. */
  key: string;
  wanted: number;
  direction: TuningDirection;
  /** What the new value buys, for the log line. */
  reason: string;
}

/** The unit of an on/off global: its values read `on` and `off`. */
export const SWITCH = "switch";

/** A value of `tuning`'s global as the log lines show it. */
export function tunedValueText(tuning: Pick<GlobalTuning, "unit">, value: number): string {
  if (tuning.unit === SWITCH) return value === 0 ? "off" : "on";
  return String(value);
}

/** Whether `value` needs no change: it is `wanted` or past it in the tuning's direction. */
export function alreadyTuned(tuning: GlobalTuning, value: number): boolean {
  return tuning.direction === "raise" ? value >= tuning.wanted : value <= tuning.wanted;
}

/**
 * The globals to change on a kernel of `kernelVersion` (null: unknown, then
 * all; each is a no-op on the versions another one serves), as the
 * modsocket file allows.
 */
export function instanceTunings(
  modsocket: ModsocketConfig,
  kernelVersion: number | null,
): GlobalTuning[] {
  const tunings: GlobalTuning[] = [];
  const applies = (onVersion: (version: number) => boolean) =>
    kernelVersion === null || onVersion(kernelVersion);
  if (applies(kernelUsesMaxPayload) && modsocket.ssMaxPayload !== null) {
    tunings.push({
      type: GlobalAttribute.JOOLD_MAX_PAYLOAD,
      name: "ss-max-payload",
      unit: "bytes",
      key: "ss max payload",
      wanted: modsocket.ssMaxPayload,
      direction: "raise",
      reason: "bursts of sessions wait in the kernel instead of being dropped",
    });
  }
  if (applies((version) => !kernelUsesMaxPayload(version)) && modsocket.ssCapacity !== null) {
    tunings.push({
      type: GlobalAttribute.JOOLD_CAPACITY,
      name: "ss-capacity",
      unit: "sessions",
      key: "ss capacity",
      wanted: modsocket.ssCapacity,
      direction: "raise",
      reason: "bursts of sessions wait in the kernel's queue instead of being dropped",
    });
  }
  if (applies(kernelHonoursFlushAsap) && modsocket.ssFlushAsap) {
    tunings.push({
      type: GlobalAttribute.JOOLD_FLUSH_ASAP,
      name: "ss-flush-asap",
      unit: SWITCH,
      key: "ss flush asap",
      wanted: 1,
      direction: "raise",
      reason: "a new session leaves the kernel as soon as the last batch is ACKed",
    });
  }
  if (
    applies((version) => !kernelHonoursFlushAsap(version)) && modsocket.ssFlushDeadline !== null
  ) {
    tunings.push({
      type: GlobalAttribute.JOOLD_FLUSH_DEADLINE,
      name: "ss-flush-deadline",
      unit: "ms",
      key: "ss flush deadline",
      wanted: modsocket.ssFlushDeadline,
      direction: "lower",
      reason: "a new session waits at most that long in the kernel before it reaches the peers",
    });
  }
  return tunings;
}

/**
 * How long after a batch the daemon nudges the kernel (an extra ACK, which
 * makes it check its queue) on a kernel of `kernelVersion`, or null for
 * never: only where `ss-flush-deadline` decides when a partial batch
 * leaves and the daemon lowered it. The kernel sends once more than the
 * deadline has passed in jiffies (up to 10 ms each, plus one of rounding),
 * so the nudge comes {@link NUDGE_MARGIN_MS} after the deadline.
 */
export function flushNudgeDelayMs(
  modsocket: ModsocketConfig,
  kernelVersion: number | null,
): number | null {
  if (modsocket.ssFlushDeadline === null) return null;
  if (kernelVersion !== null && kernelHonoursFlushAsap(kernelVersion)) return null;
  return modsocket.ssFlushDeadline + NUDGE_MARGIN_MS;
}

/** Two jiffies of a 100 Hz kernel, and some scheduling slack. */
export const NUDGE_MARGIN_MS = 30;
