/**
 * The convergence check's rounds (docs/lossless.md, "Convergence check"):
 * what no sequence number sees (a session the kernel dropped where the
 * daemon cannot tell, one a peer's kernel refused, what a node missed
 * while it was away) shows as a difference between the peers' digests of
 * their tables, and is repaired by sending the sessions of the buckets
 * that differ, both ways: union, never delete.
 *
 * A round: its starter sends a start (a DIGEST of no bucket) on the
 * control port; it and every peer that takes part read their tables, build
 * a digest of the sessions that count (src/sync/convergence_round.ts) and
 * send it (four DIGESTs of 64 buckets). Each compares its digest with
 * every peer's of the round that came within {@link REPAIR_DELAY_MS}, and
 * sends its own sessions of at most {@link MAX_REPAIR_BUCKETS} of the
 * buckets that differed, read from the table again, as ordinary batches to
 * the group (the peer that differed does the same for its side).
 *
 * Two starts within {@link ROUND_MERGE_WINDOW_MS} make one round (both ids
 * name it): daemons started together do not each make a round alone.
 *
 * Bounds: a daemon takes part in one round per {@link MIN_ROUND_INTERVAL_MS}
 * whatever starts it receives; a round reads the table at most twice and
 * sends at most its digest and the sessions of 16 buckets of 256; a round
 * keeps the digests of at most {@link MAX_ROUND_PEERS} peers; what is
 * dropped is counted (`controlDropped`) and logged within a budget.
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import { sameInstance } from "../jool/header.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import {
  type SessionEncoding,
  sessionEncodingFor,
  sessionEntryLength,
  TABLE_READ_ENCODING,
} from "../jool/session.ts";
import { readCheckedSessionFields } from "../jool/session_decode.ts";
import { writeSessionFields } from "../jool/session_encode.ts";
import type { SessionFields } from "../jool/session_layout.ts";
import { type Logger, RateLimiter } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import {
  countsInRound,
  FIRST_ROUND_DELAY_MS,
  FOLLOW_UP_ROUND_DELAY_MS,
  MAX_REPAIR_BUCKETS,
  MAX_ROUND_IDS,
  MAX_ROUND_PEERS,
  MIN_ROUND_INTERVAL_MS,
  REPAIR_DELAY_MS,
  ROUND_INTERVAL_MS,
  ROUND_JITTER_MS,
  ROUND_LOG_INTERVAL_MS,
  ROUND_MERGE_WINDOW_MS,
  type SessionTimeouts,
  worthRepairing,
} from "../sync/convergence_round.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
import type { PeerDatagram } from "../sync/multicast_socket.ts";
import { describeHost, describePeer } from "../sync/peer_address.ts";
import {
  applyDigestPart,
  decodeDigest,
  DIGEST_BUCKETS,
  DIGEST_BUCKETS_PER_MESSAGE,
  type DigestPart,
  encodeRoundStart,
  isRoundStart,
  TableDigest,
} from "../sync/table_digest.ts";
import {
  checkTablePage,
  forEachSessionPage,
  SessionPacker,
  type TablePagePorts,
} from "../sync/table_dump.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { sessionDatagramBytes } from "./kernel_to_network.ts";
import type { LocalJool } from "./local_jool.ts";
import { type GroupSender, type PeerChannel, sendControl } from "./peer_channel.ts";
import type { SyncPath } from "./sync_path.ts";

/** Between two pages of a read: the daemon keeps relaying meanwhile. */
const PAGE_PAUSE_MS = 1;

/** Every part of a digest received: one bit per {@link DIGEST_BUCKETS_PER_MESSAGE} buckets. */
const ALL_PARTS = (1 << (DIGEST_BUCKETS / DIGEST_BUCKETS_PER_MESSAGE)) - 1;

/** The timeouts' globals, by the name `jool global` gives them. */
const TIMEOUT_GLOBALS: readonly [keyof SessionTimeouts, number, string][] = [
  ["tcpEst", GlobalAttribute.TTL_TCP_EST, "tcp-est-timeout"],
  ["tcpTrans", GlobalAttribute.TTL_TCP_TRANS, "tcp-trans-timeout"],
  ["udp", GlobalAttribute.TTL_UDP, "udp-timeout"],
  ["icmp", GlobalAttribute.TTL_ICMP, "icmp-timeout"],
];

/** What the check works with. */
export interface ConvergenceCheckDeps {
  /** The table's pages, and the timeouts (GLOBAL_FOREACH). */
  kernel: Pick<KernelLink, "sessionPage" | "readGlobalNumber">;
  /** The control port's channel (sealed with "auth key file"), as the LEDGERs use it. */
  control: Pick<PeerChannel, "send">;
  /** The group, for the repairs' sessions (numbered by reliable delivery like any). */
  sender: Pick<GroupSender, "send">;
  /** Its version says in which encoding the repairs' sessions go. */
  jool: Pick<LocalJool, "version">;
  instance: string;
  counters: SyncCounters;
  logger: Logger;
  clock: Clock;
  /** Bytes the channel adds to each datagram (sealing); default 0. */
  datagramOverhead?: number;
  /** In [0, 1): the jitter and the repaired buckets' pick; default Math.random. */
  random?: () => number;
}

/** A peer's digest of the round under way, as its parts come. */
interface PeerDigest {
  digest: TableDigest;
  /** One bit per part received. */
  parts: number;
  compared: boolean;
}

/** A round this daemon takes part in. */
interface Round {
  /** Its id: the one our digest goes under. */
  id: number;
  /** Its id and those of the starts merged into it (see {@link ROUND_MERGE_WINDOW_MS}). */
  ids: Set<number>;
  /** Its start, on our monotonic clock. */
  startMs: number;
  /** The batches' encoding of our kernel. */
  encoding: SessionEncoding;
  /** Our digest, once our table is read. */
  own: TableDigest | null;
  peers: Map<string, PeerDigest>;
  /** Buckets found different from some peer's digest. */
  differing: Set<number>;
  /** The peers whose digest differed. */
  differingPeers: Set<string>;
}

/** See the module documentation. */
export class ConvergenceCheck {
  readonly #deps: ConvergenceCheckDeps;
  readonly #random: () => number;
  readonly #log = new RateLimiter(ROUND_LOG_INTERVAL_MS);
  #round: Round | null = null;
  /** When this daemon last took part in a round (monotonic ms). */
  #lastRoundMs = -Infinity;
  #roundTimer: TimerHandle | null = null;
  #repairTimer: TimerHandle | null = null;
  #closed = false;

  constructor(deps: ConvergenceCheckDeps) {
    this.#deps = deps;
    this.#random = deps.random ?? Math.random;
  }

  /** Starts a round {@link FIRST_ROUND_DELAY_MS} from now, and then every {@link ROUND_INTERVAL_MS} or so. */
  start(): void {
    this.#schedule(FIRST_ROUND_DELAY_MS);
  }

  /** Stops (at exit): no more rounds; a read under way sends nothing more. */
  stop(): void {
    this.#closed = true;
    const { clock } = this.#deps;
    if (this.#roundTimer !== null) clock.clearTimer(this.#roundTimer);
    if (this.#repairTimer !== null) clock.clearTimer(this.#repairTimer);
    this.#roundTimer = this.#repairTimer = null;
    this.#round = null;
  }

  /**
   * A control datagram that is no resync message: true if it is a DIGEST
   * (handled, or counted as dropped), false if not.
   */
  receive(datagram: PeerDatagram): boolean {
    const part = decodeDigest(datagram.data);
    if (part === null) return false;
    if (typeof part === "string") {
      this.#dropped("malformed", `a control datagram from ${describePeer(datagram.from)}: ${part}`);
      return true;
    }
    if (!sameInstance(part.instance, this.#deps.instance) || datagram.from === null) return true;
    const host = describeHost(datagram.from.address);
    if (isRoundStart(part)) this.#startFrom(host, part.round);
    else this.#peerPart(host, part);
    return true;
  }

  /** A peer started a round: take part, unless a bound says not now. */
  #startFrom(host: string, id: number): void {
    const round = this.#round;
    if (round !== null && round.ids.has(id)) return; // ours, or a copy
    if (
      round !== null && round.ids.size < MAX_ROUND_IDS &&
      this.#deps.clock.monotonic() - round.startMs < ROUND_MERGE_WINDOW_MS
    ) {
      // Started together: one round, whose digests go under either id.
      round.ids.add(id);
      this.#deps.logger.debug(
        `Convergence round ${roundName(id)} from ${host} merged into ${roundName(round.id)}`,
      );
      return;
    }
    const refusal = this.#refusal();
    if (refusal !== null) {
      // A peer restarted, or timers that fired apart: the bound at work, not a fault.
      this.#dropped(
        "start",
        `the start of round ${roundName(id)} from ${host}: ${refusal}`,
        "info",
      );
      return;
    }
    this.#run(id, false);
  }

  /** Why this daemon cannot take part in a round now, or null. */
  #refusal(): string | null {
    if (this.#closed) return "this daemon is stopping";
    if (this.#round !== null) return `round ${roundName(this.#round.id)} is under way`;
    if (this.#deps.jool.version === null) return "the local Jool's version is not known yet";
    const sinceMs = this.#deps.clock.monotonic() - this.#lastRoundMs;
    if (sinceMs < MIN_ROUND_INTERVAL_MS) {
      return `this daemon took part in a round ${Math.round(sinceMs / 1000)} s ago`;
    }
    return null;
  }

  /** Our next own round in `ms` (one timer: a round joined meanwhile moves it on). */
  #schedule(ms: number): void {
    const { clock } = this.#deps;
    if (this.#closed) return;
    if (this.#roundTimer !== null) clock.clearTimer(this.#roundTimer);
    this.#roundTimer = clock.setTimer(() => {
      this.#roundTimer = null;
      const refusal = this.#refusal();
      if (refusal === null) this.#run(newRoundId(), true);
      else {
        this.#deps.logger.debug(`No convergence round now: ${refusal}`);
        this.#schedule(this.#nextRoundInMs());
      }
    }, ms);
  }

  #nextRoundInMs(): number {
    return ROUND_INTERVAL_MS + Math.floor(this.#random() * ROUND_JITTER_MS);
  }

  /** Takes part in round `id`: reads the table, sends our digest, then repairs. */
  #run(id: number, starter: boolean): void {
    const { clock, counters, instance } = this.#deps;
    const round: Round = {
      id,
      ids: new Set([id]),
      startMs: clock.monotonic(),
      encoding: sessionEncodingFor(this.#deps.jool.version!),
      own: null,
      peers: new Map(),
      differing: new Set(),
      differingPeers: new Set(),
    };
    this.#round = round;
    this.#lastRoundMs = round.startMs;
    counters.convergenceRounds++;
    this.#schedule(this.#nextRoundInMs());
    if (starter) this.#send(encodeRoundStart(instance, id));
    this.#readDigest(round).then(({ digest: own, read, counted }) => {
      if (this.#round !== round) return;
      round.own = own;
      this.#deps.logger.debug(
        `Convergence round ${roundName(id)}: read ${read} sessions in ` +
          `${Math.round(clock.monotonic() - round.startMs)} ms, ${counted} counted in the digest`,
      );
      for (const message of own.encode(instance, id)) this.#send(message);
      for (const [host, peer] of round.peers) this.#compareIfComplete(round, host, peer);
      this.#repairTimer = clock.setTimer(() => {
        this.#repairTimer = null;
        this.#repair(round);
      }, REPAIR_DELAY_MS);
    }, (error) => this.#failed(round, "cannot read the session table", error));
  }

  /** Our digest of the round: the table read page by page, the sessions that count. */
  async #readDigest(round: Round): Promise<{ digest: TableDigest; read: number; counted: number }> {
    const timeouts = await this.#readTimeouts();
    const result = { digest: new TableDigest(), read: 0, counted: 0 };
    const { clock } = this.#deps;
    await forEachSessionPage(this.#pages(round), (page) => {
      checkTablePage(page, TABLE_READ_ENCODING);
      const readAgeMs = clock.monotonic() - round.startMs;
      for (const fields of readCheckedSessionFields(page.entries, TABLE_READ_ENCODING)) {
        result.read++;
        if (!countsInRound(fields, timeouts, readAgeMs)) continue;
        result.digest.addIdentity(fields);
        result.counted++;
      }
    });
    return result;
  }

  async #readTimeouts(): Promise<SessionTimeouts> {
    const timeouts: SessionTimeouts = { tcpEst: 0, tcpTrans: 0, udp: 0, icmp: 0 };
    for (const [key, type, name] of TIMEOUT_GLOBALS) {
      const value = await this.#deps.kernel.readGlobalNumber(type);
      if (value === null) throw new Error(`the kernel does not report ${name}`);
      timeouts[key] = value;
    }
    return timeouts;
  }

  /** The table's pages while `round` is under way (a round ended or stopped stops the read). */
  #pages(round: Round): TablePagePorts {
    const { kernel, clock } = this.#deps;
    return {
      page: (protocol, after) => {
        if (this.#round !== round) return Promise.reject(new Error("the round was stopped"));
        return kernel.sessionPage(protocol, after);
      },
      pause: () => new Promise((resolve) => clock.setTimer(resolve, PAGE_PAUSE_MS)),
    };
  }

  /** One part of a peer's digest. */
  #peerPart(host: string, part: DigestPart): void {
    const round = this.#round;
    if (round === null || !round.ids.has(part.round)) {
      this.#dropped("round", `a DIGEST of round ${roundName(part.round)} from ${host}: not ours`);
      return;
    }
    if (
      part.prefixBits !== 0 || part.high.length !== DIGEST_BUCKETS_PER_MESSAGE ||
      part.first % DIGEST_BUCKETS_PER_MESSAGE !== 0
    ) {
      this.#dropped("prefix", `a DIGEST from ${host}: only whole digests of 64-bucket parts count`);
      return;
    }
    let peer = round.peers.get(host);
    if (peer === undefined) {
      if (round.peers.size >= MAX_ROUND_PEERS) {
        this.#dropped(
          "peers",
          `a DIGEST from ${host}: ${MAX_ROUND_PEERS} peers in the round already`,
        );
        return;
      }
      peer = { digest: new TableDigest(), parts: 0, compared: false };
      round.peers.set(host, peer);
    }
    applyDigestPart(peer.digest, part);
    peer.parts |= 1 << (part.first / DIGEST_BUCKETS_PER_MESSAGE);
    this.#compareIfComplete(round, host, peer);
  }

  #compareIfComplete(round: Round, host: string, peer: PeerDigest): void {
    if (round.own === null || peer.parts !== ALL_PARTS || peer.compared) return;
    peer.compared = true;
    const buckets = round.own.differing(peer.digest);
    for (const bucket of buckets) round.differing.add(bucket);
    if (buckets.length > 0) round.differingPeers.add(host);
  }

  /** Sends our sessions of (at most {@link MAX_REPAIR_BUCKETS} of) the buckets that differed. */
  #repair(round: Round): void {
    if (this.#round !== round) return;
    const { counters, clock } = this.#deps;
    const differing = [...round.differing];
    if (differing.length === 0) {
      this.#round = null;
      return;
    }
    counters.convergenceBuckets += differing.length;
    const chosen = new Set(pick(differing, MAX_REPAIR_BUCKETS, this.#random));
    if (chosen.size < differing.length) {
      this.#schedule(Math.max(0, FOLLOW_UP_ROUND_DELAY_MS - (clock.monotonic() - round.startMs)));
    }
    const entryLength = sessionEntryLength(round.encoding);
    let sessions = 0;
    const packer = new SessionPacker((datagram) => {
      if (this.#closed || !this.#deps.sender.send(datagram)) return;
      // Counted as each goes out: the stats add up in the middle of a repair too. Sent
      // from a table read, as a table dump's are: counted as advertised as well.
      const count = datagram.byteLength / entryLength;
      sessions += count;
      counters.convergenceSessions += count;
      counters.advertisedSessions += count;
      counters.advertisedDatagrams++;
    }, sessionDatagramBytes(this.#deps.datagramOverhead ?? 0));
    const bucketer = new TableDigest();
    const read = forEachSessionPage(this.#pages(round), (page) => {
      checkTablePage(page, TABLE_READ_ENCODING);
      const picked: SessionFields[] = [];
      for (const fields of readCheckedSessionFields(page.entries, TABLE_READ_ENCODING)) {
        if (worthRepairing(fields) && chosen.has(bucketer.bucketOf(fields))) picked.push(fields);
      }
      if (picked.length > 0) packer.add(writeSessionFields(picked, round.encoding));
    });
    read.finally(() => packer.flush()).then(() => {
      counters.convergenceRepairs++;
      if (this.#log.allow("repair", clock.now()) !== null) {
        this.#deps.logger.info(
          `Convergence round ${roundName(round.id)}: ${differing.length} of ${DIGEST_BUCKETS} ` +
            `buckets differed from ${[...round.differingPeers].join(", ")}; sent our ` +
            `${sessions} sessions of ${chosen.size} of them`,
        );
      }
      if (this.#round === round) this.#round = null;
    }, (error) => this.#failed(round, "cannot read the session table for the repair", error));
  }

  #failed(round: Round, what: string, error: unknown): void {
    if (this.#round !== round) return; // stopped
    this.#round = null;
    this.#deps.counters.convergenceFailures++;
    this.#warn("failure", `Convergence round ${roundName(round.id)}: ${what}: ${errorText(error)}`);
  }

  #send(bytes: Uint8Array): void {
    const problem = sendControl(this.#deps.control, bytes);
    if (problem === null) return;
    this.#deps.counters.netSendFailures++;
    this.#warn("send", `Cannot send a convergence check message: ${problem}`);
  }

  /** A control datagram not taken: counted, logged within the budget. */
  #dropped(kind: string, what: string, level: "info" | "warning" = "warning"): void {
    this.#deps.counters.controlDropped++;
    this.#warn(kind, `Dropped ${what}`, level);
  }

  #warn(kind: string, line: string, level: "info" | "warning" = "warning"): void {
    const suppressed = this.#log.allow(kind, this.#deps.clock.now());
    if (suppressed === null) return;
    this.#deps.logger[level](line + (suppressed > 0 ? ` (and ${suppressed} more since)` : ""));
  }
}

/** A round's id in the log. */
export function roundName(id: number): string {
  return id.toString(16).padStart(8, "0");
}

/** A new round's id: random, never 0. */
export function newRoundId(): number {
  const values = new Uint32Array(1);
  do crypto.getRandomValues(values); while (values[0] === 0);
  return values[0];
}

/** At most `count` of `items`, picked at random (every bucket gets its turn over rounds). */
function pick<T>(items: T[], count: number, random: () => number): T[] {
  const all = [...items];
  for (let i = 0; i < Math.min(count, all.length); i++) {
    const j = i + Math.floor(random() * (all.length - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, count);
}

/**
 * The convergence check, started over a wired sync path: part of reliable
 * delivery, so with `reliableDelivery` off it is not started, and null.
 */
export function startConvergenceCheck(
  sync: Pick<SyncPath, "sender">,
  deps: Omit<ConvergenceCheckDeps, "sender">,
  reliableDelivery: boolean,
): ConvergenceCheck | null {
  if (!reliableDelivery) return null;
  const check = new ConvergenceCheck({ ...deps, sender: sync.sender });
  check.start();
  return check;
}
