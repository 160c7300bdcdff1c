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
 * Pure logic: sending, advertising, timers and randomness are passed in.
 *
 * @module
 */

import { sameInstance } from "../jool/header.ts";
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
}

/** Timing of the exchange. */
export interface ResyncTiming {
  /** Longest random wait before answering. */
  answerSpreadMs: number;
  /** How long the requester waits for an ANSWER before repeating. */
  requestTimeoutMs: number;
  /** REQUESTs sent before giving up. */
  attempts: number;
}

/** Defaults: answer within 200 ms, repeat after 1 s, 3 attempts. */
export const DEFAULT_RESYNC_TIMING: ResyncTiming = {
  answerSpreadMs: 200,
  requestTimeoutMs: 1000,
  attempts: 3,
};

/** Nonces remembered, so a repeated REQUEST is answered once. */
const REMEMBERED_NONCES = 64;

/** Runs both sides of the resync exchange for one instance. */
export class ResyncCoordinator {
  readonly #instance: string;
  readonly #ports: ResyncPorts;
  readonly #timing: ResyncTiming;
  /** Answers we are waiting to send, by nonce. */
  readonly #pendingAnswers = new Map<bigint, TimerHandle>();
  /** Nonces already answered (by us or a peer). */
  readonly #settled = new Set<bigint>();
  #request: { nonce: bigint; attempt: number; timer: TimerHandle } | null = null;
  /** How many times peers asked and we advertised in answer. */
  answered = 0;
  /** Whether our own last request was answered. */
  requestAnswered = false;

  constructor(instance: string, ports: ResyncPorts, timing = DEFAULT_RESYNC_TIMING) {
    this.#instance = instance;
    this.#ports = ports;
    this.#timing = timing;
  }

  /** Asks the peers for their sessions (at start). */
  requestFromPeers(): void {
    this.#cancelRequest();
    this.requestAnswered = false;
    this.#sendRequest(this.#ports.nonce(), 1);
  }

  #sendRequest(nonce: bigint, attempt: number): void {
    this.#ports.send({ type: ControlType.REQUEST, nonce, instance: this.#instance });
    const timer = this.#ports.setTimer(() => {
      if (this.#request?.nonce !== nonce) return;
      if (attempt < this.#timing.attempts) {
        this.#sendRequest(nonce, attempt + 1);
      } else {
        this.#request = null;
        this.#ports.logger.warning(
          `No peer answered the resync request after ${attempt} attempts ` +
            "(peers are absent, or reference joolds without resync)",
        );
      }
    }, this.#timing.requestTimeoutMs);
    this.#request = { nonce, attempt, timer };
  }

  #cancelRequest(): void {
    if (this.#request !== null) this.#ports.clearTimer(this.#request.timer);
    this.#request = null;
  }

  /** Handles a control message from `origin`. */
  receive(message: ControlMessage, origin: string): void {
    if (!sameInstance(message.instance, this.#instance)) return;
    if (message.type === ControlType.ANSWER) {
      this.#settle(message.nonce);
      if (this.#request?.nonce === message.nonce) {
        this.#cancelRequest();
        this.requestAnswered = true;
        this.#ports.logger.info(`Resync: ${origin} is advertising its sessions to us`);
      }
      return;
    }
    if (this.#settled.has(message.nonce) || this.#pendingAnswers.has(message.nonce)) return;
    const delay = this.#ports.random() * this.#timing.answerSpreadMs;
    const timer = this.#ports.setTimer(() => {
      this.#pendingAnswers.delete(message.nonce);
      this.#settle(message.nonce);
      this.#ports.send({
        type: ControlType.ANSWER,
        nonce: message.nonce,
        instance: this.#instance,
      });
      this.answered++;
      this.#ports.advertise(`resync requested by ${origin}`).catch(() => {});
    }, delay);
    this.#pendingAnswers.set(message.nonce, timer);
  }

  #settle(nonce: bigint): void {
    const timer = this.#pendingAnswers.get(nonce);
    if (timer !== undefined) {
      this.#ports.clearTimer(timer);
      this.#pendingAnswers.delete(nonce);
    }
    this.#settled.add(nonce);
    if (this.#settled.size > REMEMBERED_NONCES) {
      const oldest = this.#settled.values().next().value;
      if (oldest !== undefined) this.#settled.delete(oldest);
    }
  }

  /** Cancels every timer (on shutdown). */
  close(): void {
    this.#cancelRequest();
    for (const timer of this.#pendingAnswers.values()) this.#ports.clearTimer(timer);
    this.#pendingAnswers.clear();
  }
}
