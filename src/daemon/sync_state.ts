/**
 * Whether this node holds its peers' sessions, as `joold status`, systemd
 * (`STATUS=`) and keepalived see it: the daemon's sync state, and the status
 * file that publishes it.
 *
 * The state starts as `starting`, is `resyncing` once the start-up resync
 * request is out, then `in-sync` when a peer that answered has sent its table
 * (or answered with an empty one), or `alone` when no peer answered. The
 * protocol does not mark the end of a table: it counts as sent once the
 * answerer has been quiet for {@link SETTLE_QUIET_MS}, or
 * {@link SETTLE_MAX_MS} after its first sessions (a master's live traffic
 * never goes quiet). Later
 * requests (the sync interface back) do not leave `in-sync` or `alone`: a
 * node that holds the live sessions must not lose the virtual address over
 * a flap of the sync link. A node with known gaps in what it received
 * ({@link SyncState.knownGaps}) is not in sync whatever its state.
 *
 * Pure code: the daemon writes the file (src/daemon.ts), `joold status`
 * reads it (src/commands/status.ts).
 *
 * @module
 */

import { hostOf, type ResyncOutcome } from "../sync/resync.ts";
import { instanceFileStem, namespaceSuffix } from "./tuning_state.ts";
import { isoTime } from "../iso_time.ts";

/** The states, in the order a start goes through them. */
export const SYNC_STATES = ["starting", "resyncing", "in-sync", "alone"] as const;

/** One of {@link SYNC_STATES}. */
export type SyncStateName = typeof SYNC_STATES[number];

/** How often the daemon rewrites its status file, changed or not. */
export const HEARTBEAT_MS = 2_000;

/**
 * A status file whose heartbeat is older than this is a daemon that is not
 * running (or whose event loop is stuck): five heartbeats missed.
 */
export const STALE_AFTER_MS = 5 * HEARTBEAT_MS;

/** An answerer silent this long after its sessions came has sent its whole table. */
export const SETTLE_QUIET_MS = 1_000;

/** The longest wait for that silence: an answerer carrying traffic is never silent. */
export const SETTLE_MAX_MS = 10_000;

/** The status file format's version; a file of another version is not read. */
const FORMAT_VERSION = 1;

/** One peer, as the status file lists it. */
export interface PeerStatus {
  /** Its sync socket's address, e.g. `192.0.2.2:6464`. */
  address: string;
  /** When its last datagram arrived (ISO 8601), or null if never. */
  lastHeard: string | null;
  /** Whether it answered our start-up resync request. */
  answeredResync: boolean;
}

/** The status file's content. */
export interface DaemonStatus {
  version: typeof FORMAT_VERSION;
  /** The daemon's process id. */
  pid: number;
  /** The Jool instance it synchronises. */
  instance: string;
  state: SyncStateName;
  /** When it entered `state` (ISO 8601). */
  since: string;
  /** Why it is in `state`, for people. */
  reason: string;
  /**
   * Gaps it knows of in the sessions it received from its peers: while
   * non-zero the node is not in sync, whatever `state` says.
   */
  knownGaps: number;
  /** Peers heard on the sync port. */
  peers: PeerStatus[];
  /** When the file was written (ISO 8601). */
  heartbeat: string;
  /** When the file was written, on CLOCK_MONOTONIC (ms): what freshness is judged on. */
  heartbeatMonotonicMs: number;
}

/** Peers' last datagram times (ms since the epoch) by sync origin, as src/stats/peers.ts keeps them. */
export type PeersHeard = ReadonlyMap<string, number>;

/** The daemon's sync state; see the module's doc. */
export class SyncState {
  #state: SyncStateName = "starting";
  #sinceMs: number;
  #reason = "opening the kernel link and the sockets";
  /** Hosts that answered our start-up resync request. */
  readonly #answeredBy = new Set<string>();
  /** The answerer whose table is coming, while it comes. */
  #settling: { host: string; from: string; startMs: number } | null = null;
  /**
   * Gaps known in what peers sent us; stays 0 until sync can tell
   * (sequence numbers on the sync path).
   */
  knownGaps = 0;

  constructor(nowMs: number) {
    this.#sinceMs = nowMs;
  }

  /** The current state. */
  get state(): SyncStateName {
    return this.#state;
  }

  /** Whether a router may hold the virtual address: see docs/failover.md. */
  get inSync(): boolean {
    return (this.#state === "in-sync" || this.#state === "alone") && this.knownGaps === 0;
  }

  /** The start-up resync request is out. */
  resyncing(why: string, nowMs: number): void {
    this.#enter("resyncing", why, nowMs);
  }

  /** There is nobody to resync from (no control port): said so, and the node counts as alone. */
  noResync(why: string, nowMs: number): void {
    this.#enter("alone", why, nowMs);
  }

  /** The start-up resync is over; later outcomes (re-requests) change nothing. */
  resyncOutcome(outcome: ResyncOutcome, nowMs: number): void {
    if (outcome.kind === "sessions") this.#answeredBy.add(hostOf(outcome.from));
    if (outcome.kind === "answered-empty") {
      for (const origin of outcome.by) this.#answeredBy.add(hostOf(origin));
    }
    if (this.#state !== "resyncing" || this.#settling !== null) return;
    if (outcome.kind === "sessions") {
      this.#settling = { host: hostOf(outcome.from), from: outcome.from, startMs: nowMs };
      this.#reason = `receiving ${outcome.from}'s sessions`;
    } else if (outcome.kind === "answered-empty") {
      this.#enter("in-sync", `${outcome.by.join(", ")} answered with no sessions`, nowMs);
    } else {
      this.#enter("alone", `no peer answered ${outcome.attempts} resync requests`, nowMs);
    }
  }

  /** Whether an answerer's table is coming: call {@link settle} until it is in. */
  get settling(): boolean {
    return this.#settling !== null;
  }

  /**
   * Whether the answerer's table is in by now (see the module's doc); if so
   * the state is `in-sync`. `peers`: when each sync origin was last heard.
   */
  settle(peers: PeersHeard, nowMs: number): boolean {
    const settling = this.#settling;
    if (settling === null) return false;
    let lastMs = settling.startMs;
    for (const [origin, heardMs] of peers) {
      if (hostOf(origin) === settling.host) lastMs = Math.max(lastMs, heardMs);
    }
    const quiet = nowMs - lastMs >= SETTLE_QUIET_MS;
    if (!quiet && nowMs - settling.startMs < SETTLE_MAX_MS) return false;
    this.#settling = null;
    const why = quiet ? "" : ` (still sending after ${SETTLE_MAX_MS / 1000} s: its live traffic)`;
    this.#enter("in-sync", `${settling.from} sent its sessions${why}`, nowMs);
    return true;
  }

  #enter(state: SyncStateName, reason: string, nowMs: number): void {
    if (state !== this.#state) this.#sinceMs = nowMs;
    this.#state = state;
    this.#reason = reason;
  }

  /** One line for systemd's `STATUS=`, e.g. `in sync: 192.0.2.2:6465 sent its sessions; 2 peers heard`. */
  describe(peers: PeersHeard): string {
    const label = this.#state === "in-sync" ? "in sync" : this.#state;
    const gaps = this.knownGaps === 0 ? "" : `; ${this.knownGaps} known gaps`;
    const heard = peers.size === 1 ? "1 peer heard" : `${peers.size} peers heard`;
    return `${label}: ${this.#reason}${gaps}; ${heard}`;
  }

  /** The status file's content at `nowMs` (wall clock) and `monotonicMs`. */
  snapshot(
    identity: { pid: number; instance: string },
    peers: PeersHeard,
    nowMs: number,
    monotonicMs: number,
  ): DaemonStatus {
    return {
      version: FORMAT_VERSION,
      pid: identity.pid,
      instance: identity.instance,
      state: this.#state,
      since: isoTime(this.#sinceMs),
      reason: this.#reason,
      knownGaps: this.knownGaps,
      peers: [...peers].map(([address, lastMs]) => ({
        address,
        lastHeard: lastMs > 0 ? isoTime(lastMs) : null,
        answeredResync: this.#answeredBy.has(hostOf(address)),
      })),
      heartbeat: isoTime(nowMs),
      heartbeatMonotonicMs: monotonicMs,
    };
  }
}

/** The status file's name for `instance` in `netns` (see stateFileName). */
export function statusFileName(instance: string, netns: string | null): string {
  return `${instanceFileStem(instance, netns)}${STATUS_FILE_SUFFIX}`;
}

/** What every status file's name ends with. */
const STATUS_FILE_SUFFIX = ".status.json";

/** Whether `name` is a status file of a daemon in `netns` (`anyNamespace`: in any). */
export function isStatusFileOf(name: string, netns: string | null, anyNamespace = false): boolean {
  if (anyNamespace) return /\.net-(\d+|unknown)\.status\.json$/.test(name);
  return name.endsWith(`${namespaceSuffix(netns)}${STATUS_FILE_SUFFIX}`);
}

/** The file's JSON text. */
export function encodeDaemonStatus(status: DaemonStatus): string {
  return JSON.stringify(status, null, 2) + "\n";
}

function isTime(value: unknown): value is string {
  return typeof value === "string" && !Number.isNaN(Date.parse(value));
}

/**
 * Reads a status file's text; returns what is wrong with it as a string if
 * it is not a status file of this version.
 */
export function decodeDaemonStatus(text: string): DaemonStatus | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return "not a JSON object";
  }
  const file = parsed as Record<string, unknown>;
  if (file.version !== FORMAT_VERSION) {
    return `"version" is ${JSON.stringify(file.version)}, not ${FORMAT_VERSION}`;
  }
  const wrong = (key: string, what: string) => `"${key}" is not ${what}`;
  if (!Number.isInteger(file.pid) || (file.pid as number) <= 0) return wrong("pid", "a pid");
  if (typeof file.instance !== "string") return wrong("instance", "a string");
  if (!SYNC_STATES.includes(file.state as SyncStateName)) {
    return wrong("state", `one of ${SYNC_STATES.join(", ")}`);
  }
  if (!isTime(file.since)) return wrong("since", "a time");
  if (typeof file.reason !== "string") return wrong("reason", "a string");
  if (!Number.isInteger(file.knownGaps) || (file.knownGaps as number) < 0) {
    return wrong("knownGaps", "a count");
  }
  if (!isTime(file.heartbeat)) return wrong("heartbeat", "a time");
  if (typeof file.heartbeatMonotonicMs !== "number" || !(file.heartbeatMonotonicMs >= 0)) {
    return wrong("heartbeatMonotonicMs", "a number of milliseconds");
  }
  if (!Array.isArray(file.peers)) return wrong("peers", "a list");
  const peers: PeerStatus[] = [];
  for (const peer of file.peers as unknown[]) {
    const entry = peer as Partial<PeerStatus> | null;
    if (
      typeof entry !== "object" || entry === null || typeof entry.address !== "string" ||
      !(entry.lastHeard === null || isTime(entry.lastHeard)) ||
      typeof entry.answeredResync !== "boolean"
    ) {
      return wrong("peers", "a list of address, lastHeard, answeredResync");
    }
    peers.push({
      address: entry.address,
      lastHeard: entry.lastHeard,
      answeredResync: entry.answeredResync,
    });
  }
  return {
    version: FORMAT_VERSION,
    pid: file.pid as number,
    instance: file.instance,
    state: file.state as SyncStateName,
    since: file.since,
    reason: file.reason,
    knownGaps: file.knownGaps as number,
    peers,
    heartbeat: file.heartbeat,
    heartbeatMonotonicMs: file.heartbeatMonotonicMs,
  };
}
