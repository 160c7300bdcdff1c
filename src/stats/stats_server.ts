/**
 * The stats server: a UDP socket on the stats port that answers datagrams
 * with the counters. By default bound to `::` with IPV6_V6ONLY off, so one
 * socket serves IPv4 and IPv6 (on a host without IPv6, to 0.0.0.0); or to
 * one address.
 *
 * The port faces whoever can reach the router, and a UDP source address is
 * easily forged, so the server never answers what looks like a stats answer
 * (two servers, each told the other asked, would answer each other forever),
 * answers each source host and all of them together within a budget
 * (src/stats/answer_budget.ts), and reads a bounded number of requests per
 * wake-up so that a flood leaves the sync path its turn.
 *
 * @module
 */

import { AF_INET, AF_INET6, SOCK_DGRAM } from "../../ffi/constants.ts";
import { SyscallError } from "../../ffi/errors.ts";
import { SOCKADDR_STORAGE_SIZE, sockaddrIn, sockaddrIn6 } from "../../ffi/sockaddr.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { sockaddrHost } from "../net/sockaddr_host.ts";
import { openDualStack } from "../net/dual_stack.ts";
import { MAX_DATAGRAMS_PER_WAKE } from "../net/drain.ts";
import { AnswerBudget, type AnswerBudgetLimits, STATS_ANSWER_LIMITS } from "./answer_budget.ts";

/** Builds the answer to one request datagram. */
export type StatsResponder = (request: Uint8Array) => Uint8Array;

/** Why a request got no answer. */
export type StatsRefusal =
  | "looks like a stats answer"
  | "over the answer budget"
  | "over the budget of large answers";

/**
 * Answers larger than this (the JSON one, not the reference's six lines)
 * also need a token of {@link LARGE_ANSWER_LIMITS}: a 4-byte `json` request
 * can get tens of KB back, and a forged source makes that an amplifier.
 */
export const LARGE_ANSWER_BYTES = 1024;

/**
 * Large answers: one a second per host (two at once) and ten a second in
 * all, so a flood with forged sources sends at most some 350 KB/s of JSON.
 */
export const LARGE_ANSWER_LIMITS: AnswerBudgetLimits = {
  perSourcePerSecond: 1,
  perSourceBurst: 2,
  globalPerSecond: 10,
  globalBurst: 20,
  maxSources: 1024,
};

/** What the server counts (SyncCounters has these). */
export interface StatsServerCounters {
  /** Requests answered. */
  statsAnswers: number;
  /** Requests not answered (see {@link StatsRefusal}). */
  statsRefused: number;
}

/** Optional settings of {@link StatsServer.open}. */
export interface StatsServerOptions {
  /**
   * The one local address to serve, as 4 or 16 bytes; null (the default)
   * for every address, IPv4 and IPv6.
   */
  address?: Uint8Array | null;
  /** Where answers and refusals are counted. */
  counters?: StatsServerCounters;
  /** Told of each refusal with the source host, to log within a budget. */
  onRefused?: (reason: StatsRefusal, source: string) => void;
  /** Milliseconds, for the answer budget (default Date.now). */
  now?: () => number;
}

/** Largest request read; anything longer is cut (and still answered). */
const REQUEST_BUFFER = 1024;

/** How our answers (and the C joold's) start: the CSV's first line, or JSON. */
const ANSWER_CSV_START = "KERNEL_SENT_PKTS,";
const CHAR_OPEN_BRACE = 0x7b;

/**
 * Whether a request is itself a stats answer (the reference's six lines,
 * or our JSON), which no client sends: answering it would start or feed a
 * loop between two servers.
 */
export function isStatsAnswer(request: Uint8Array): boolean {
  if (request.byteLength > 0 && request[0] === CHAR_OPEN_BRACE) return true;
  if (request.byteLength < ANSWER_CSV_START.length) return false;
  for (let i = 0; i < ANSWER_CSV_START.length; i++) {
    if (request[i] !== ANSWER_CSV_START.charCodeAt(i)) return false;
  }
  return true;
}

/** A UDP stats endpoint. */
export class StatsServer {
  readonly fd: number;
  readonly #sockets: Sockets;
  readonly #respond: StatsResponder;
  readonly #counters: StatsServerCounters;
  readonly #onRefused: (reason: StatsRefusal, source: string) => void;
  readonly #now: () => number;
  readonly #budget: AnswerBudget;
  readonly #largeBudget: AnswerBudget;
  readonly #request = new Uint8Array(REQUEST_BUFFER);
  readonly #peer = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  #closed = false;

  private constructor(
    sockets: Sockets,
    fd: number,
    respond: StatsResponder,
    options: StatsServerOptions,
  ) {
    this.#sockets = sockets;
    this.fd = fd;
    this.#respond = respond;
    this.#counters = options.counters ?? { statsAnswers: 0, statsRefused: 0 };
    this.#onRefused = options.onRefused ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#budget = new AnswerBudget(STATS_ANSWER_LIMITS, this.#now());
    this.#largeBudget = new AnswerBudget(LARGE_ANSWER_LIMITS, this.#now());
  }

  /** Opens the socket on `port` of every local address, or of `options.address`. */
  static open(
    sockets: Sockets,
    port: number,
    respond: StatsResponder,
    options: StatsServerOptions = {},
  ): StatsServer {
    const local = options.address ?? null;
    let fd: number;
    let address: Uint8Array;
    if (local === null) {
      ({ fd, address } = openDualStack(sockets, SOCK_DGRAM, port, "stats"));
    } else {
      const v4 = local.byteLength === 4;
      fd = sockets.open(v4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0, "stats");
      address = v4 ? sockaddrIn(local, port) : sockaddrIn6(local, port);
    }
    const server = new StatsServer(sockets, fd, respond, options);
    try {
      sockets.bind(fd, address, `stats port ${port}`);
    } catch (error) {
      server.close();
      throw error;
    }
    return server;
  }

  /**
   * Answers the queued requests, at most {@link MAX_DATAGRAMS_PER_WAKE}
   * (the reactor calls again while more wait). Returns how many were
   * answered. A reply that cannot be sent is dropped: the client asks again.
   */
  serve(): number {
    let answered = 0;
    const nowMs = this.#now();
    for (let i = 0; i < MAX_DATAGRAMS_PER_WAKE; i++) {
      const got = this.#sockets.receive(this.fd, this.#request, this.#peer, 0, "stats");
      if (got === null) break;
      const request = this.#request.subarray(0, Math.min(got.length, REQUEST_BUFFER));
      const source = sockaddrHost(this.#peer, got.addressLength);
      let refusal: StatsRefusal | null = null;
      if (isStatsAnswer(request)) refusal = "looks like a stats answer";
      else if (!this.#budget.allow(source, nowMs)) refusal = "over the answer budget";
      if (refusal !== null) {
        this.#counters.statsRefused++;
        this.#onRefused(refusal, source);
        continue;
      }
      const reply = this.#respond(request);
      if (reply.byteLength > LARGE_ANSWER_BYTES && !this.#largeBudget.allow(source, nowMs)) {
        this.#counters.statsRefused++;
        this.#onRefused("over the budget of large answers", source);
        continue;
      }
      try {
        this.#sockets.send(this.fd, reply, this.#peer.subarray(0, got.addressLength), "stats");
        this.#counters.statsAnswers++;
        answered++;
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
      }
    }
    return answered;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sockets.close(this.fd, "stats");
  }
}
