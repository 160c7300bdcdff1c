/**
 * Checks peers' datagrams before they reach the kernel: each must be a
 * well-formed session batch in the local kernel's encoding (or, to be
 * converted to it, in another Jool 4.1 encoding). The kernel's
 * own checks are looser (4.1.14 reads past short entries), and anyone who
 * can reach the group can send.
 *
 * @module
 */

import { ALL_SESSION_ENCODINGS, type SessionEncoding, SessionValidator } from "../jool/session.ts";
import type { Problem } from "../problem.ts";

function notABatch(firstProblem: string | null): string {
  return `not a session batch in any Jool 4.1 encoding (${firstProblem})`;
}

/** Decides whether a peer's datagram may go to the kernel. */
export class DatagramFilter {
  #encoding: SessionEncoding | null;
  // Kept: it checks every datagram from the peers.
  readonly #validator = new SessionValidator();

  /** `encoding` null: not known yet; accept any until it is. */
  constructor(encoding: SessionEncoding | null) {
    this.#encoding = encoding;
  }

  /** The encoding datagrams are checked against, once known. */
  get encoding(): SessionEncoding | null {
    return this.#encoding;
  }

  /** Fixes the encoding (e.g. learnt from the first kernel batch). */
  learn(encoding: SessionEncoding): void {
    this.#encoding ??= encoding;
  }

  /**
   * For a datagram {@link check} refused once the local encoding is known:
   * the other Jool 4.1 encoding it is a valid batch in (a peer on another
   * 4.1 version), or null if none (garbage). Nested and raw entries differ
   * in size, so at most one encoding fits a non-empty payload.
   */
  foreignEncoding(payload: Uint8Array): SessionEncoding | null {
    if (payload.byteLength === 0) return null;
    for (const encoding of ALL_SESSION_ENCODINGS) {
      if (encoding === this.#encoding) continue;
      if (this.#validator.check(payload, encoding) === null) return encoding;
    }
    return null;
  }

  /** Null if `payload` may go to the kernel, else what is wrong with it. */
  check(payload: Uint8Array): string | null {
    if (payload.byteLength === 0) return "empty datagram";
    if (this.#encoding !== null) return this.#validator.check(payload, this.#encoding);
    let firstProblem: string | null = null;
    for (const encoding of ALL_SESSION_ENCODINGS) {
      const problem = this.#validator.check(payload, encoding);
      if (problem === null) return null;
      firstProblem ??= problem;
    }
    return notABatch(firstProblem);
  }

  /**
   * The 4.1 encoding `payload` is a valid batch in, the local one tried
   * first: what a reader of every peer's datagrams (`joold follow`) wants.
   */
  classify(payload: Uint8Array): { encoding: SessionEncoding } | Problem {
    if (payload.byteLength === 0) return { problem: "empty datagram" };
    const local = this.#encoding;
    const order = local === null
      ? ALL_SESSION_ENCODINGS
      : [local, ...ALL_SESSION_ENCODINGS.filter((encoding) => encoding !== local)];
    let firstProblem: string | null = null;
    for (const encoding of order) {
      const problem = this.#validator.check(payload, encoding);
      if (problem === null) return { encoding };
      firstProblem ??= problem;
    }
    return { problem: notABatch(firstProblem) };
  }
}
