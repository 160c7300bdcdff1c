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

/** What a dump acts through. */
export interface TableDumpPorts {
  /** SESSION_FOREACH: the page of `protocol`'s sessions after the entry `after`. */
  page(protocol: number, after: Uint8Array | null): Promise<SessionsPage>;
  /** Sends one datagram of sessions to the group; false if it could not. */
  send(datagram: Uint8Array): boolean;
  /**
   * Called between pages: lets the event loop run (the daemon keeps
   * relaying and ACKing meanwhile) and spreads the datagrams out, so that
   * peers' receive buffers are not flooded by a large table.
   */
  pause(): Promise<void>;
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
  /** Whole sessions not sent yet: fewer than fill a datagram. */
  let unsent = new Uint8Array(0);
  try {
    for (const protocol of PROTOCOLS) {
      let after: Uint8Array | null = null;
      for (let pages = 0; pages < MAX_PAGES; pages++) {
        const page: SessionsPage = await ports.page(protocol, after);
        if (page.count > 0) {
          const problem = validateSessions(page.entries, encoding);
          if (problem !== null) {
            throw new Error(
              `The kernel's session table is not in the ${encoding} encoding: ${problem}`,
            );
          }
          const datagrams = splitBatch(concat(unsent, page.entries), 0, datagramBytes);
          // The last one is sent with the next page's sessions, or at the end.
          for (let i = 0; i < datagrams.length - 1; i++) send(datagrams[i]);
          unsent = datagrams[datagrams.length - 1].slice();
          result.sessions += page.count;
        }
        if (!page.more || page.last === null) break;
        after = page.last;
        await ports.pause();
      }
    }
  } finally {
    // Also when a later page fails: these sessions were read and are valid.
    if (unsent.byteLength > 0) send(unsent);
  }
  return result;
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.byteLength === 0) return second;
  const both = new Uint8Array(first.byteLength + second.byteLength);
  both.set(first);
  both.set(second, first.byteLength);
  return both;
}
