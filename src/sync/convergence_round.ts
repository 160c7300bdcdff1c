/**
 * The convergence check's rules (docs/lossless.md, "Convergence check"):
 * its timers and bounds, in one place, and which sessions a round's digest
 * counts. Pure: the table, the clock and the messages are the caller's.
 *
 * A round has one start, T: when its starter sent the round's start, and
 * (within the link's delay) when every peer received it; each daemon then
 * reads its table. Two reads are never simultaneous, so a digest counts
 * only what both sides see alike whatever the moment of their read:
 *
 * - a session idle for at least {@link ROUND_IDLE_MS} at T (its last update,
 *   on each node the same within the sync's delay, is before T minus that).
 *   An active session's own packets sync it again and again, so leaving it
 *   out loses nothing a peer would keep missing; one refreshed between the
 *   two reads would otherwise be in one digest and not the other;
 * - a session that lives past T plus {@link ROUND_EXPIRY_MARGIN_MS} (one
 *   about to expire may be gone on a peer when that peer reads).
 *
 * Both are judged from T, not from the read's moment: a session's last
 * update is the page's read time plus its remaining time less its timeout
 * (Jool's `update_time + timeout`; the timeout is the instance's current
 * global for the protocol and timer).
 *
 * @module
 */

import { L4Protocol, SessionTimer } from "../jool/protocol.ts";
import type { SessionFields } from "../jool/session_layout.ts";

/** A session counts in a round if it was idle for at least this long at the round's start... */
export const ROUND_IDLE_MS = 60_000;
/**
 * A daemon starts a round this long after it starts: the first round whose
 * digests count some of what was relayed since the start (its first 30 s),
 * and what its kernel made meanwhile through the node...
 */
export const FIRST_ROUND_DELAY_MS = ROUND_IDLE_MS + 30_000;
/** ...and then this long after the last round it took part in (its own or a peer's)... */
export const ROUND_INTERVAL_MS = 600_000;
/** ...plus up to this much at random, so that peers do not start theirs together. */
export const ROUND_JITTER_MS = 60_000;
/**
 * A daemon takes part in (reads its table for) at most one round per this
 * interval, however many starts it receives: a round reads the table at
 * most twice (the digest's read and the repair's), so a flood of forged
 * starts reads it at most once a minute on average.
 */
export const MIN_ROUND_INTERVAL_MS = 120_000;
/**
 * A start that comes this soon after the start of the round under way (two
 * daemons whose timers fired together, or that started together) makes one
 * round with it: both ids name it, so that neither's digest is dropped...
 */
export const ROUND_MERGE_WINDOW_MS = 5_000;
/** ...up to this many ids (more starts are refused). */
export const MAX_ROUND_IDS = 8;
/** A session counts in a round (idle {@link ROUND_IDLE_MS} at its start) if it also lives this long past it. */
export const ROUND_EXPIRY_MARGIN_MS = 30_000;
/**
 * The peers' digests are compared for this long after our own went out;
 * then the repair. A peer's read may take longer than ours (its table, its
 * load): a digest that comes later is dropped, and that peer repairs its
 * side only.
 */
export const REPAIR_DELAY_MS = 30_000;
/** Buckets repaired per round at most (of 256): bounds what one round sends. */
export const MAX_REPAIR_BUCKETS = 16;
/**
 * A round that found more buckets different than it repaired is followed
 * by another this long after its start rather than a whole interval later:
 * just past {@link MIN_ROUND_INTERVAL_MS}, so that the peers, which took
 * part in it as well, take part again.
 */
export const FOLLOW_UP_ROUND_DELAY_MS = MIN_ROUND_INTERVAL_MS + 10_000;
/** Peers whose digests one round keeps at most (more are dropped). */
export const MAX_ROUND_PEERS = 64;
/** A failure (a read, a send, a message dropped) is logged at most once per this interval. */
export const ROUND_LOG_INTERVAL_MS = 60_000;

/**
 * TCP_INCOMING_SYN (src/common/constants.h): the fixed lifetime of a TCP
 * session waiting for the IPv6 side's SYN (timer SYN4).
 */
const TCP_INCOMING_SYN_MS = 6_000;

/** The instance's session timeouts, in ms (the `*-timeout` globals). */
export interface SessionTimeouts {
  tcpEst: number;
  tcpTrans: number;
  udp: number;
  icmp: number;
}

/** The timeout the kernel gives a session of this protocol and timer (its `get_timeout()`). */
export function sessionTimeoutMs(packed: number, timeouts: SessionTimeouts): number {
  const protocol = (packed >>> 5) & 3;
  if (protocol === L4Protocol.UDP) return timeouts.udp;
  if (protocol === L4Protocol.ICMP) return timeouts.icmp;
  const timer = packed & 3;
  if (timer === SessionTimer.TRANS) return timeouts.tcpTrans;
  if (timer === SessionTimer.SYN4) return TCP_INCOMING_SYN_MS;
  return timeouts.tcpEst;
}

/**
 * Whether a session read `readAgeMs` after the round's start counts in its
 * digest (see the module's doc).
 */
export function countsInRound(
  fields: SessionFields,
  timeouts: SessionTimeouts,
  readAgeMs: number,
): boolean {
  const remaining = fields.expirationMs;
  const idleAtStart = sessionTimeoutMs(fields.packed, timeouts) - remaining - readAgeMs;
  return idleAtStart >= ROUND_IDLE_MS && readAgeMs + remaining > ROUND_EXPIRY_MARGIN_MS;
}

/**
 * Whether a session read now goes out in a repair: not if it expires
 * within the margin (it may be gone on the peer, and would come back there
 * for a few seconds only).
 */
export function worthRepairing(fields: SessionFields): boolean {
  return fields.expirationMs > ROUND_EXPIRY_MARGIN_MS;
}
