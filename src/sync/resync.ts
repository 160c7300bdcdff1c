/**
 * Startup resynchronisation among our daemons.
 *
 * A node that starts asks its peers for their sessions with a REQUEST on
 * the control port. Every peer that hears it waits a random moment; the
 * first whose wait ends sends an ANSWER and makes its kernel advertise its
 * whole table (JOOLD_ADVERTISE), which reaches every node through the
 * ordinary sync path. Peers that hear the ANSWER first stand down, so N
 * peers do not all flood the group. The requester repeats an unanswered
 * REQUEST a few times, then gives up with a log line (peers may all be C
 * joolds, which have no control port).
 *
 * An ANSWER alone does not end the request: anyone who sniffed the nonce
 * could forge one and silence the real peers. The request is satisfied
 * when sessions arrive on the sync port from the host that answered
 * ({@link ResyncCoordinator.sessionsFrom}); until then it is repeated as
 * before, with a fresh nonce (the peers took the old one as answered), and
 * after the last attempt the log says who answered without sending any.
 *
 * The control port is open to whoever reaches the group, so answering is
 * bounded: requests that come while an answer is pending join it (one
 * advertisement serves them all: it goes to the group), advertisements in
 * answer are at least `minAnswerIntervalMs` apart (a request that comes
 * sooner is answered when the interval is over), and a nonce is remembered
 * for `nonceMemoryMs`, so a replayed request is not answered again. Per
 * requesting host, the requests of one start (its retries, within
 * {@link REQUEST_EPISODE_MS}) are answered, and then nothing until a
 * back-off is over, {@link REQUESTER_BACKOFF_MS} doubling (up to
 * {@link MAX_REQUESTER_BACKOFF_MS}) when the host asks again soon after; in
 * all, new answers come from a budget ({@link ANSWER_LIMITS}). A request
 * refused so is told to the caller, to count and log.
 *
 * Pure logic: sending, advertising, timers and randomness are passed in.
 *
 * @module
 */

import { sameInstance } from "../jool/header.ts";
import { AnswerBudget, type AnswerBudgetLimits } from "../stats/answer_budget.ts";
import type { Logger } from "../log.ts";
import { type ControlMessage, ControlType } from "./control_message.ts";

/** A timer handle as the injected timer functions make it. */
export type TimerHandle = number | ReturnType<typeof setTimeout>;

/** What the coordinator acts through. */
export interface ResyncPorts {
  /** Sends a control message to the group. */
  send(message: ControlMessage): void;
  /** Makes the local kernel advertise its table. */
  advertise(reason: string): Promise<void>;
  logger: Logger;
  /** setTimeout/clearTimeout, replaceable in tests. */
  setTimer(callback: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Uniform in [0, 1). */
  random(): number;
  /** A fresh request nonce. */
  nonce(): bigint;
  /** Monotonic milliseconds, for the intervals above (default performance.now). */
  now?(): number;
  /** Our request came to this: sessions, answers without sessions, or silence. */
  settled?(outcome: ResyncOutcome): void;
}

/** What one of our requests came to, after its last attempt at the latest. */
export type ResyncOutcome =
  /** A peer answered and its sessions arrived: `from` is where it answered from. */
  | { kind: "sessions"; from: string }
  /** Peers answered but sent no sessions (an empty table, or a forged answer). */
  | { kind: "answered-empty"; by: string[] }
  /** Nobody answered any attempt. */
  | { kind: "unanswered"; attempts: number };

/** Timing of the exchange. */
export interface ResyncTiming {
  /** Longest random wait before answering. */
  answerSpreadMs: number;
  /** How long the requester waits for an ANSWER before repeating. */
  requestTimeoutMs: number;
  /** REQUESTs sent before giving up. */
  attempts: number;
  /** Least time between two advertisements in answer to requests. */
  minAnswerIntervalMs: number;
  /** How long a nonce answered (by us or a peer) is remembered. */
  nonceMemoryMs: number;
}

/**
 * Defaults: answer within 200 ms, repeat after 1 s, 3 attempts; at most one
 * advertisement in answer per 2 s (a requester's retries span 3 s, so a
 * request that just missed one is still answered); nonces remembered for
 * a minute.
 */
export const DEFAULT_RESYNC_TIMING: ResyncTiming = {
  answerSpreadMs: 200,
  requestTimeoutMs: 1000,
  attempts: 3,
  minAnswerIntervalMs: 2000,
  nonceMemoryMs: 60_000,
};

/** Nonces remembered at most; beyond, the oldest are forgotten first. */
const MAX_REMEMBERED_NONCES = 4096;

/** Requests one answer serves at most; the rest are still served by its advertisement. */
const MAX_GATHERED_REQUESTS = 16;

/** Hosts remembered per open request (senders of sessions, answerers). */
const MAX_REQUEST_HOSTS = 256;

/** A requester's retries of one request (3 in 3 s by default) fall within this. */
export const REQUEST_EPISODE_MS = 5_000;
/** Requests answered in one episode beyond its first: a requester's own retries. */
export const REQUEST_RETRIES_ANSWERED = DEFAULT_RESYNC_TIMING.attempts - 1;
/** After an episode, a host's next request waits this long, doubled for each soon repeat. */
export const REQUESTER_BACKOFF_MS = 10_000;
/** The longest back-off. */
export const MAX_REQUESTER_BACKOFF_MS = 15 * 60_000;
/** Requesting hosts remembered; the least recently seen is forgotten first. */
const MAX_REQUESTERS = 1024;

/**
 * New answers from all hosts together: a few starts at once are answered
 * at once (one advertisement serves them all), a stream of made-up hosts
 * gets one a minute.
 */
export const ANSWER_LIMITS: AnswerBudgetLimits = {
  perSourcePerSecond: 1,
  perSourceBurst: 1,
  globalPerSecond: 1 / 60,
  globalBurst: 6,
  maxSources: 1,
};

/** What a requesting host may still get. */
interface Requester {
  /** When its current episode began. */
  episodeStartMs: number;
  /** Requests of the episode accepted so far. */
  accepted: number;
  /** Its back-off after the episode. */
  backoffMs: number;
}

/** Our request while it is not satisfied. */
interface OpenRequest {
  nonce: bigint;
  /** Every nonce its attempts used (at most `attempts`). */
  nonces: bigint[];
  attempt: number;
  timer: TimerHandle;
  /** Hosts that answered it, with the origin they answered from (for the log). */
  answeredBy: Map<string, string>;
  /** Hosts whose sessions arrived while it was open (an advertisement may beat its ANSWER). */
  sessionsFrom: Set<string>;
  /** When its first attempt went out. */
  startedMs: number;
}

/** The host of an origin: `[2001:db8::1]:6465` → `2001:db8::1`, `192.0.2.1:6465` → `192.0.2.1`. */
export function hostOf(origin: string): string {
  const host = origin.replace(/:\d+$/, "");
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Runs both sides of the resync exchange for one instance. */
export class ResyncCoordinator {
  readonly #instance: string;
  readonly #ports: ResyncPorts;
  readonly #timing: ResyncTiming;
  readonly #now: () => number;
  /** The answer we are waiting to send: the requests it answers, by nonce, and their origins. */
  #pending: { timer: TimerHandle; requests: Map<bigint, string> } | null = null;
  /** When we last advertised in answer (-Infinity: never). */
  #lastAnswerMs = -Infinity;
  /** Requesting hosts, least recently seen first. */
  readonly #requesters = new Map<string, Requester>();
  readonly #answerBudget: AnswerBudget;
  /** Nonces already answered (by us or a peer), with when, oldest first. */
  readonly #settled = new Map<bigint, number>();
  #request: OpenRequest | null = null;
  /** How many times peers asked and we advertised in answer. */
  answered = 0;
  /** Whether our own last request was answered, and sessions came from the answerer. */
  requestAnswered = false;

  constructor(instance: string, ports: ResyncPorts, timing = DEFAULT_RESYNC_TIMING) {
    this.#instance = instance;
    this.#ports = ports;
    this.#timing = timing;
    this.#now = ports.now?.bind(ports) ?? (() => performance.now());
    this.#answerBudget = new AnswerBudget(ANSWER_LIMITS, this.#now());
  }

  /** Asks the peers for their sessions (at start). */
  requestFromPeers(): void {
    this.#cancelRequest();
    this.requestAnswered = false;
    this.#sendRequest(this.#ports.nonce(), 1, new Map(), new Set(), [], this.#now());
  }

  /** Sends a REQUEST; what the earlier attempts learnt carries over. */
  #sendRequest(
    nonce: bigint,
    attempt: number,
    answeredBy: Map<string, string>,
    sessionsFrom: Set<string>,
    nonces: bigint[],
    startedMs: number,
  ): void {
    this.#ports.send({ type: ControlType.REQUEST, nonce, instance: this.#instance });
    const timer = this.#ports.setTimer(() => {
      const request = this.#request;
      if (request?.nonce !== nonce) return;
      if (attempt < this.#timing.attempts) {
        // Answered without sessions: the peers took this nonce as answered.
        const next = request.answeredBy.size > 0 ? this.#ports.nonce() : nonce;
        this.#sendRequest(
          next,
          attempt + 1,
          request.answeredBy,
          request.sessionsFrom,
          request.nonces,
          request.startedMs,
        );
      } else if (request.answeredBy.size > 0) {
        this.#request = null;
        const by = [...request.answeredBy.values()];
        if (this.#allStartingToo(request)) {
          // A cold start of the cluster: every node asks, every table is empty.
          this.#ports.logger.info(
            `Resync: ${by.join(", ")} answered with no sessions; it was starting too (it asked ` +
              "for sessions itself), so its table is empty",
          );
          this.#ports.settled?.({ kind: "answered-empty", by });
          return;
        }
        this.#ports.logger.warning(
          `Resync: ${by.join(", ")} answered, but no sessions ` +
            `came from it after ${attempt} attempts (its table is empty, or the answer was forged)`,
        );
        this.#ports.settled?.({ kind: "answered-empty", by });
      } else {
        this.#request = null;
        this.#ports.logger.warning(
          `No peer answered the resync request after ${attempt} attempts ` +
            "(peers are absent, or reference joolds without resync)",
        );
        this.#ports.settled?.({ kind: "unanswered", attempts: attempt });
      }
    }, this.#timing.requestTimeoutMs);
    if (!nonces.includes(nonce)) nonces.push(nonce);
    this.#request = { nonce, nonces, attempt, timer, answeredBy, sessionsFrom, startedMs };
  }

  /**
   * Whether every host that answered `request` asked for sessions itself
   * about when it was made (within an episode): it was starting too.
   */
  #allStartingToo(request: OpenRequest): boolean {
    for (const host of request.answeredBy.keys()) {
      const asked = this.#requesters.get(host);
      if (asked === undefined || asked.episodeStartMs < request.startedMs - REQUEST_EPISODE_MS) {
        return false;
      }
    }
    return true;
  }

  /**
   * Sessions from `origin` (a peer's sync socket) reached the kernel: if
   * that host answered our open request, the request is satisfied.
   */
  sessionsFrom(origin: string): void {
    const request = this.#request;
    if (request === null) return;
    const host = hostOf(origin);
    const answeredFrom = request.answeredBy.get(host);
    if (answeredFrom !== undefined) this.#satisfied(answeredFrom);
    else if (request.sessionsFrom.size < MAX_REQUEST_HOSTS) request.sessionsFrom.add(host);
  }

  #satisfied(answeredFrom: string): void {
    this.#cancelRequest();
    this.requestAnswered = true;
    this.#ports.logger.info(`Resync: ${answeredFrom} is advertising its sessions to us`);
    this.#ports.settled?.({ kind: "sessions", from: answeredFrom });
  }

  #cancelRequest(): void {
    if (this.#request !== null) this.#ports.clearTimer(this.#request.timer);
    this.#request = null;
  }

  /**
   * Handles a control message from `origin`. Returns why a REQUEST was
   * refused (its host's back-off, or the overall budget), else null.
   */
  receive(message: ControlMessage, origin: string): string | null {
    if (!sameInstance(message.instance, this.#instance)) return null;
    if (message.type === ControlType.ANSWER) {
      this.#settle(message.nonce);
      const request = this.#request;
      // Answers to an earlier attempt's nonce count too: sessions may be slower than a retry.
      if (request !== null && request.nonces.includes(message.nonce)) {
        const host = hostOf(origin);
        if (request.sessionsFrom.has(host)) {
          this.#satisfied(origin);
        } else if (request.answeredBy.size < MAX_REQUEST_HOSTS && !request.answeredBy.has(host)) {
          request.answeredBy.set(host, origin);
          this.#ports.logger.debug(`Resync: ${origin} answered; waiting for its sessions`);
        }
      }
      return null;
    }
    if (this.#isSettled(message.nonce)) return null;
    const now = this.#now();
    const refusal = this.#admitRequester(hostOf(origin), now, this.#pending === null);
    if (refusal !== null) return refusal;
    if (this.#pending !== null) {
      // The pending answer's advertisement reaches this requester too.
      if (this.#pending.requests.size < MAX_GATHERED_REQUESTS) {
        this.#pending.requests.set(message.nonce, origin);
      }
      return null;
    }
    const notBefore = Math.max(0, this.#lastAnswerMs + this.#timing.minAnswerIntervalMs - now);
    const delay = notBefore + this.#ports.random() * this.#timing.answerSpreadMs;
    const requests = new Map([[message.nonce, origin]]);
    const timer = this.#ports.setTimer(() => this.#answer(requests), delay);
    this.#pending = { timer, requests };
    return null;
  }

  /**
   * Whether `host` may have its request answered now (see the module
   * documentation); `newAnswer`: it would start an answer, not join one.
   */
  #admitRequester(host: string, now: number, newAnswer: boolean): string | null {
    const known = this.#requesters.get(host);
    if (known !== undefined && now - known.episodeStartMs < REQUEST_EPISODE_MS) {
      if (known.accepted > REQUEST_RETRIES_ANSWERED) {
        return `${known.accepted} requests from ${host} answered in the last ` +
          `${REQUEST_EPISODE_MS / 1000} s`;
      }
      known.accepted++;
      return null;
    }
    if (known !== undefined && now < known.episodeStartMs + known.backoffMs) {
      const waitS = Math.ceil((known.episodeStartMs + known.backoffMs - now) / 1000);
      return `${host} asked again within its back-off (answered again in ${waitS} s at the earliest)`;
    }
    if (newAnswer && !this.#answerBudget.allow("", now)) {
      return "over the budget of answers for all requesters";
    }
    // Asked again soon after its back-off: the back-off doubles.
    const backoffMs = known !== undefined && now < known.episodeStartMs + 2 * known.backoffMs
      ? Math.min(2 * known.backoffMs, MAX_REQUESTER_BACKOFF_MS)
      : REQUESTER_BACKOFF_MS;
    this.#requesters.delete(host);
    this.#requesters.set(host, { episodeStartMs: now, accepted: 1, backoffMs });
    if (this.#requesters.size > MAX_REQUESTERS) {
      this.#requesters.delete(this.#requesters.keys().next().value!);
    }
    return null;
  }

  /** Answers every gathered request, with one advertisement. */
  #answer(requests: Map<bigint, string>): void {
    this.#pending = null;
    const open = [...requests].filter(([nonce]) => !this.#isSettled(nonce));
    if (open.length === 0) return; // a peer answered them all first
    for (const [nonce] of open) {
      this.#settle(nonce);
      this.#ports.send({ type: ControlType.ANSWER, nonce, instance: this.#instance });
    }
    this.#lastAnswerMs = this.#now();
    this.answered++;
    const origins = open.map(([, origin]) => origin).join(", ");
    this.#ports.advertise(`resync requested by ${origins}`).catch(() => {});
  }

  #isSettled(nonce: bigint): boolean {
    const at = this.#settled.get(nonce);
    return at !== undefined && this.#now() - at < this.#timing.nonceMemoryMs;
  }

  #settle(nonce: bigint): void {
    const now = this.#now();
    this.#settled.delete(nonce);
    this.#settled.set(nonce, now);
    // Oldest first: forget the expired ones, and the oldest beyond the bound.
    for (const [old, at] of this.#settled) {
      if (now - at < this.#timing.nonceMemoryMs && this.#settled.size <= MAX_REMEMBERED_NONCES) {
        break;
      }
      this.#settled.delete(old);
    }
  }

  /** Cancels every timer (on shutdown). */
  close(): void {
    this.#cancelRequest();
    if (this.#pending !== null) this.#ports.clearTimer(this.#pending.timer);
    this.#pending = null;
  }
}
