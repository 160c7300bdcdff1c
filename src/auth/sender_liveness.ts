/**
 * Which senders of sealed datagrams are proven live since this daemon
 * started, so that datagrams captured before it started are never accepted
 * (docs/configuration.md has the argument). Pure logic: no sockets, no time.
 *
 * A sender id is random per start, so it is an epoch. A receiver accepts a
 * sender's datagrams only after a HELLO from that sender that echoes the
 * receiver's own id of this start, and only those sealed after that HELLO
 * (counter above it): no datagram sealed before the receiver started can
 * echo an id drawn at its start. HELLOs travel sealed on the control port,
 * where every other payload is a fixed 32-byte resync message:
 *
 * ```
 * offset  size  field
 *      0     4  magic "JDHL"
 *      4     1  version, 1
 *      5     1  n: ids heard (the echo)
 *      6     1  m: ids heard and not yet proven (asking them for a HELLO)
 *      7     1  reserved, 0
 *      8    4n  the ids heard, big-endian
 *   8+4n    4m  the ids asked
 * ```
 *
 * @module
 */

import { hexId } from "./sealed_datagram.ts";

/** Ids a HELLO lists at most, per list. */
export const MAX_LISTED = 64;
/** Senders remembered (heard or proven); the one heard least recently makes room. */
export const MAX_REMEMBERED = 256;
/** An id not heard for this long leaves the echo (a peer that restarted). */
export const HEARD_MEMORY_MS = 60_000;
/** Least time between two HELLOs this daemon sends. */
export const HELLO_INTERVAL_MS = 100;

const MAGIC = [0x4a, 0x44, 0x48, 0x4c]; // "JDHL"
const VERSION = 1;
const HELLO_HEADER_BYTES = 8;
/** The largest HELLO: both lists full. */
export const MAX_HELLO_BYTES = HELLO_HEADER_BYTES + 8 * MAX_LISTED;

/** A decoded HELLO. */
export interface Hello {
  heard: number[];
  asked: number[];
}

/** Encodes a HELLO; each list is cut to {@link MAX_LISTED}. */
export function encodeHello(hello: Hello): Uint8Array {
  const heard = hello.heard.slice(0, MAX_LISTED);
  const asked = hello.asked.slice(0, MAX_LISTED);
  const bytes = new Uint8Array(HELLO_HEADER_BYTES + 4 * (heard.length + asked.length));
  bytes.set(MAGIC, 0);
  bytes[4] = VERSION;
  bytes[5] = heard.length;
  bytes[6] = asked.length;
  const view = new DataView(bytes.buffer);
  [...heard, ...asked].forEach((id, i) => view.setUint32(HELLO_HEADER_BYTES + 4 * i, id >>> 0));
  return bytes;
}

/** Whether a control-port payload is meant as a HELLO (its magic). */
export function isHello(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && MAGIC.every((byte, i) => bytes[i] === byte);
}

/** Decodes a HELLO; null for anything that is not exactly one. */
export function decodeHello(bytes: Uint8Array): Hello | null {
  if (bytes.byteLength < HELLO_HEADER_BYTES || !isHello(bytes) || bytes[4] !== VERSION) return null;
  const n = bytes[5];
  const m = bytes[6];
  if (n > MAX_LISTED || m > MAX_LISTED || bytes[7] !== 0) return null;
  if (bytes.byteLength !== HELLO_HEADER_BYTES + 4 * (n + m)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids = Array.from({ length: n + m }, (_, i) => view.getUint32(HELLO_HEADER_BYTES + 4 * i));
  return { heard: ids.slice(0, n), asked: ids.slice(n) };
}

/** What to do with an authentic datagram (see {@link SenderLiveness.admit}). */
export type Admission =
  | { kind: "deliver" }
  | { kind: "hello" }
  | { kind: "refuse"; as: "auth" | "replay"; problem: string };

/** See the module documentation. One per daemon, shared by its channels. */
export class SenderLiveness {
  readonly #ownId: number;
  /** Sender id → when last heard; Map order is hearing order. */
  readonly #heard = new Map<number, number>();
  /** Proven sender id → the counter of its proving HELLO: counters up to it are refused. */
  readonly #floors = new Map<number, number>();
  /** A daemon that starts says HELLO, so that peers need not wait for its first datagram. */
  #helloOwed = true;
  #lastHelloMs = -Infinity;

  constructor(ownId: number) {
    this.#ownId = ownId >>> 0;
  }

  /**
   * An authentic datagram (opened, not a replay by its window) from
   * `senderId` with `counter`: deliver it, it was a HELLO (consumed), or
   * refuse it. `control`: it came on the control port, where HELLOs travel.
   */
  admit(
    senderId: number,
    counter: number,
    payload: Uint8Array,
    control: boolean,
    nowMs: number,
  ): Admission {
    this.#hear(senderId, nowMs);
    if (control && isHello(payload)) {
      const hello = decodeHello(payload);
      if (hello === null) return { kind: "refuse", as: "auth", problem: "a malformed HELLO" };
      if (hello.heard.includes(this.#ownId) && !this.#floors.has(senderId)) {
        this.#floors.set(senderId, counter);
      }
      if (hello.asked.includes(this.#ownId) || !this.#floors.has(senderId)) this.#helloOwed = true;
      return { kind: "hello" };
    }
    const floor = this.#floors.get(senderId);
    if (floor === undefined) {
      this.#helloOwed = true;
      return {
        kind: "refuse",
        as: "replay",
        problem: `sender ${hexId(senderId)} not yet proven live since this daemon started ` +
          "(asked it for a HELLO)",
      };
    }
    if (counter <= floor) {
      return {
        kind: "refuse",
        as: "replay",
        problem: `sender ${hexId(senderId)}: sealed before it proved live`,
      };
    }
    return { kind: "deliver" };
  }

  /** Whether `senderId` has not proven itself live; if so, a HELLO is owed to ask it. */
  askIfUnproven(senderId: number): boolean {
    if (this.#floors.has(senderId)) return false;
    this.#helloOwed = true;
    return true;
  }

  /**
   * The HELLO to send now, or null when none is owed or the last one is
   * younger than {@link HELLO_INTERVAL_MS} (then {@link nextHelloInMs} says
   * when to ask again).
   */
  takeHello(nowMs: number): Uint8Array | null {
    if (!this.#helloOwed || nowMs - this.#lastHelloMs < HELLO_INTERVAL_MS) return null;
    this.#helloOwed = false;
    this.#lastHelloMs = nowMs;
    const heard = [...this.#heard].filter(([, at]) => nowMs - at <= HEARD_MEMORY_MS)
      .map(([id]) => id).reverse();
    return encodeHello({ heard, asked: heard.filter((id) => !this.#floors.has(id)) });
  }

  /** Milliseconds until an owed HELLO may go; null if none is owed. */
  nextHelloInMs(nowMs: number): number | null {
    if (!this.#helloOwed) return null;
    return Math.max(0, this.#lastHelloMs + HELLO_INTERVAL_MS - nowMs);
  }

  #hear(senderId: number, nowMs: number): void {
    this.#heard.delete(senderId);
    this.#heard.set(senderId, nowMs);
    if (this.#heard.size > MAX_REMEMBERED) {
      const oldest = this.#heard.keys().next().value!;
      this.#heard.delete(oldest);
      this.#floors.delete(oldest);
    }
  }
}
