/**
 * Advertising a session table without the kernel's help. Jool 4.1.10 and
 * earlier accept JOOLD_ADVERTISE but send nothing (their advertisement
 * only flags the sessions already queued; upstream fixed it in 4.1.11), so
 * a resync answered that way delivers no session. Instead the daemon reads
 * the table page by page (SESSION_FOREACH, whose entries are in the same
 * encoding as a session batch on those versions) and sends it to the group
 * as ordinary batches: peers, C joolds included, cannot tell the
 * difference.
 *
 * Pure logic: the kernel, the socket and the pause are passed in.
 *
 * @module
 */

import type { SessionsPage } from "../jool/kernel_messages.ts";
import { L4Protocol } from "../jool/protocol.ts";
import { type SessionEncoding, validateSessions } from "../jool/session.ts";
import { SPLIT_DATAGRAM_BYTES, splitBatch } from "./batch_split.ts";

/** What reading the table acts through. */
export interface TablePagePorts {
  /** SESSION_FOREACH: the page of `protocol`'s sessions after the entry `after`. */
  page(protocol: number, after: Uint8Array | null): Promise<SessionsPage>;
  /**
   * Called between pages: lets the event loop run (the daemon keeps
   * relaying and ACKing meanwhile) and spreads the datagrams out, so that
   * peers' receive buffers are not flooded by a large table.
   */
  pause(): Promise<void>;
}

/** What a dump acts through. */
export interface TableDumpPorts extends TablePagePorts {
  /** Sends one datagram of sessions to the group; false if it could not. */
  send(datagram: Uint8Array): boolean;
}

/** What a dump sent. */
export interface TableDumpResult {
  sessions: number;
  datagrams: number;
  /** Datagrams that could not be sent. */
  failed: number;
}

/** The protocols in the order the kernel's own advertisement walks them. */
const PROTOCOLS = [L4Protocol.TCP, L4Protocol.UDP, L4Protocol.ICMP] as const;

/** Pages read per protocol at most: a table of 10 million sessions, 57 per page. */
const MAX_PAGES = 200_000;

/**
 * Reads every page of the instance's table, protocol by protocol, and
 * hands each page that holds sessions to `visit` (which may throw: the read
 * stops).
 *
 * @throws {Error} From `page` or `visit`.
 */
export async function forEachSessionPage(
  ports: TablePagePorts,
  visit: (page: SessionsPage) => void,
): Promise<void> {
  for (const protocol of PROTOCOLS) {
    let after: Uint8Array | null = null;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page: SessionsPage = await ports.page(protocol, after);
      if (page.count > 0) visit(page);
      if (!page.more || page.last === null) break;
      after = page.last;
      await ports.pause();
    }
  }
}

/**
 * Packs session payloads given one after the other into datagrams of whole
 * sessions of at most `datagramBytes` bytes: a partly filled datagram waits
 * for the next payload's sessions, or for {@link flush}.
 */
export class SessionPacker {
  readonly #send: (datagram: Uint8Array) => void;
  readonly #datagramBytes: number;
  /** Whole sessions not sent yet: fewer than fill a datagram. */
  #unsent = new Uint8Array(0);

  constructor(send: (datagram: Uint8Array) => void, datagramBytes = SPLIT_DATAGRAM_BYTES) {
    this.#send = send;
    this.#datagramBytes = datagramBytes;
  }

  /** Adds a payload of whole, valid sessions; sends the datagrams it fills. */
  add(payload: Uint8Array): void {
    if (payload.byteLength === 0) return;
    const datagrams = splitBatch(concat(this.#unsent, payload), 0, this.#datagramBytes);
    // The last one is sent with the next payload's sessions, or by flush().
    for (let i = 0; i < datagrams.length - 1; i++) this.#send(datagrams[i]);
    this.#unsent = datagrams[datagrams.length - 1].slice();
  }

  /** Sends the sessions that wait, if any. */
  flush(): void {
    if (this.#unsent.byteLength > 0) this.#send(this.#unsent);
    this.#unsent = new Uint8Array(0);
  }
}

/**
 * Reads every session of the instance and sends them in datagrams of whole
 * sessions of at most `datagramBytes` bytes, packed across pages (a page's
 * last, partly filled datagram waits for the next page's sessions). Entries
 * that are not valid in `encoding` stop the dump with an error: the kernel
 * is not speaking the version we think, and peers must not get what they
 * cannot read.
 *
 * @throws {Error} If a page does not hold valid sessions, or from `page`.
 */
export async function dumpSessionTable(
  ports: TableDumpPorts,
  encoding: SessionEncoding,
  datagramBytes = SPLIT_DATAGRAM_BYTES,
): Promise<TableDumpResult> {
  const result: TableDumpResult = { sessions: 0, datagrams: 0, failed: 0 };
  const send = (datagram: Uint8Array) => {
    if (ports.send(datagram)) result.datagrams++;
    else result.failed++;
  };
  const packer = new SessionPacker(send, datagramBytes);
  try {
    await forEachSessionPage(ports, (page) => {
      checkTablePage(page, encoding);
      packer.add(page.entries);
      result.sessions += page.count;
    });
  } finally {
    // Also when a later page fails: these sessions were read and are valid.
    packer.flush();
  }
  return result;
}

/**
 * Checks that a page of the table holds valid sessions in `encoding`.
 *
 * @throws {Error} If it does not: the kernel is not speaking the version we think.
 */
export function checkTablePage(page: SessionsPage, encoding: SessionEncoding): void {
  const problem = validateSessions(page.entries, encoding);
  if (problem !== null) {
    throw new Error(`The kernel's session table is not in the ${encoding} encoding: ${problem}`);
  }
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.byteLength === 0) return second;
  const both = new Uint8Array(first.byteLength + second.byteLength);
  both.set(first);
  both.set(second, first.byteLength);
  return both;
}
