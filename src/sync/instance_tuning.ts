/**
 * Which of the instance's session-sync globals the daemon raises while it
 * runs, on which Jool version, and why: the policy only (no I/O); the daemon
 * reads, raises and puts back the values.
 *
 * Both globals size the queue in which the kernel keeps new sessions while it
 * waits for the daemon's ACK; whatever does not fit is dropped, so a burst of
 * new connections faster than the ACK round trip loses sessions:
 *
 * - Jool 4.1.10 and earlier: one batch of at most `ss-max-payload` bytes
 *   (default 1452: 11 sessions). The relay splits the larger batch into
 *   ordinary datagrams for the peers (src/sync/batch_split.ts).
 * - Jool 4.1.11 and later: up to `ss-capacity` sessions (default 512), sent
 *   36 per message. `ss-max-sessions-per-packet` is left alone: the kernel
 *   builds each message in a 1500-byte buffer (genlmsg_new(1500) in
 *   joold.c), so more than 36 sessions of 40 bytes do not fit.
 *
 * @module
 */

import type { ModsocketConfig } from "../config/modsocket.ts";
import { kernelUsesMaxPayload } from "../jool/kernel_behaviour.ts";
import { GlobalAttribute } from "../jool/protocol.ts";

/** One global to raise to `wanted` while the daemon runs. */
export interface GlobalTuning {
  /** The GLOBALS attribute type. */
  type: number;
  /** Its name in `jool global`, e.g. `ss-capacity`. */
  name: string;
  /** Its unit in messages, e.g. `sessions`. */
  unit: string;
  /** The modsocket key that sets or disables it. */
  key: string;
  wanted: number;
  /** What a larger value buys, for the log line. */
  reason: string;
}

/**
 * The globals to raise on a kernel of `kernelVersion` (null: unknown, then
 * both; each is a no-op on the versions the other one serves), as the
 * modsocket file allows.
 */
export function instanceTunings(
  modsocket: ModsocketConfig,
  kernelVersion: number | null,
): GlobalTuning[] {
  const tunings: GlobalTuning[] = [];
  const old = kernelVersion === null || kernelUsesMaxPayload(kernelVersion);
  const recent = kernelVersion === null || !kernelUsesMaxPayload(kernelVersion);
  if (old && modsocket.ssMaxPayload !== null) {
    tunings.push({
      type: GlobalAttribute.JOOLD_MAX_PAYLOAD,
      name: "ss-max-payload",
      unit: "bytes",
      key: "ss max payload",
      wanted: modsocket.ssMaxPayload,
      reason: "bursts of sessions wait in the kernel instead of being dropped",
    });
  }
  if (recent && modsocket.ssCapacity !== null) {
    tunings.push({
      type: GlobalAttribute.JOOLD_CAPACITY,
      name: "ss-capacity",
      unit: "sessions",
      key: "ss capacity",
      wanted: modsocket.ssCapacity,
      reason: "bursts of sessions wait in the kernel's queue instead of being dropped",
    });
  }
  return tunings;
}
