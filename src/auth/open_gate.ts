/**
 * Which sealed datagrams are worth an AEAD attempt, decided from the clear
 * header and the source address alone (each attempt costs some 15-30 µs;
 * a flood of garbage must not cost that each). Shared by a daemon's channels.
 *
 * - A sender id that has sealed something authentic is bound to the host it
 *   came from: the same id from another host is refused unopened (an
 *   attacker copying a live peer's id from the link must also spoof its
 *   address).
 * - Ids not yet authentic (a peer that just started, or garbage with made-up
 *   ids) get AEAD attempts from a token budget per source host and for all
 *   hosts together ({@link UNPROVEN_OPEN_LIMITS}); past it they are refused
 *   unopened. Ids already authentic are not limited: their peers are never
 *   starved by others' garbage.
 *
 * @module
 */

import { AnswerBudget, type AnswerBudgetLimits } from "../stats/answer_budget.ts";
import { hexId } from "./sealed_datagram.ts";

/**
 * AEAD attempts for sender ids not yet authentic: a starting peer sends a
 * HELLO or two and its first datagrams; 8 a second per host and 64 in all
 * cost at most some 2 ms a second.
 */
export const UNPROVEN_OPEN_LIMITS: AnswerBudgetLimits = {
  perSourcePerSecond: 8,
  perSourceBurst: 16,
  globalPerSecond: 64,
  globalBurst: 64,
  maxSources: 1024,
};

/** Sender ids bound to their hosts; the one seen least recently makes room. */
export const MAX_BOUND_SENDERS = 256;

/** See the module documentation. */
export class OpenGate {
  /** Sender id → its host (as a key); Map order is use order. */
  readonly #hosts = new Map<number, string>();
  readonly #unproven: AnswerBudget;

  constructor(nowMs: number) {
    this.#unproven = new AnswerBudget(UNPROVEN_OPEN_LIMITS, nowMs);
  }

  /** Why a datagram claiming `senderId` from `host` is not opened, or null: open it. */
  refusal(senderId: number, host: string, nowMs: number): string | null {
    const bound = this.#hosts.get(senderId);
    if (bound !== undefined) {
      return bound === host ? null : `sender ${hexId(senderId)} is another host's; not opened`;
    }
    if (this.#unproven.allow(host, nowMs)) return null;
    return `sender ${hexId(senderId)} not authentic yet, and its host is over the budget ` +
      "of attempts; not opened";
  }

  /** A datagram of `senderId` from `host` was authentic: binds them. */
  authentic(senderId: number, host: string): void {
    this.#hosts.delete(senderId);
    this.#hosts.set(senderId, host);
    if (this.#hosts.size > MAX_BOUND_SENDERS) this.#hosts.delete(this.#hosts.keys().next().value!);
  }
}
