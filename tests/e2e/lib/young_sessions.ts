/**
 * The verdict of the young-sessions scenario (tests/e2e/scenarios/young_sessions.sh)
 * for one daemon: which probe sessions were on node 2 later than the limit
 * after their creation on node 1, or never.
 *
 * @module
 */

import type { RunWindows } from "../../../bench/window_stats.ts";
import { percentile } from "../../../bench/window_stats.ts";

/** How young a session may be at a failover and still be on the backup, in the scenario. */
export const YOUNG_LIMIT_MS = 1000;

/** What one daemon's probes did. */
export interface YoungVerdict {
  /** Probes on node 2 within the limit. */
  inTime: number;
  /** Windows past the limit, in ms. */
  lateMs: number[];
  /** Probes never seen on node 2. */
  missing: number;
  p50Ms: number;
  maxMs: number;
}

/** Sorts a run's windows against {@link YOUNG_LIMIT_MS}. */
export function youngVerdict(windows: RunWindows, limitMs = YOUNG_LIMIT_MS): YoungVerdict {
  const late = windows.windowsMs.filter((ms) => ms > limitMs);
  return {
    inTime: windows.windowsMs.length - late.length,
    lateMs: late,
    missing: windows.missing,
    p50Ms: percentile(windows.windowsMs, 50),
    maxMs: windows.windowsMs.length === 0 ? NaN : Math.max(...windows.windowsMs),
  };
}

/** One line for the log: `ours: 20 of 20 within 1000 ms (p50 45 ms, max 120 ms)`. */
export function describeVerdict(kind: string, verdict: YoungVerdict): string {
  const total = verdict.inTime + verdict.lateMs.length + verdict.missing;
  const name = kind === "reference" ? "C joold" : kind;
  const ms = (value: number) => Number.isNaN(value) ? "-" : `${Math.round(value)} ms`;
  const never = verdict.missing > 0 ? `, ${verdict.missing} never seen` : "";
  return `${name}: ${verdict.inTime} of ${total} within ${YOUNG_LIMIT_MS} ms ` +
    `(p50 ${ms(verdict.p50Ms)}, max ${ms(verdict.maxMs)}${never})`;
}
