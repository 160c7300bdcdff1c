/**
 * Splits a large kernel batch into ordinary datagrams at session
 * boundaries. A kernel with a raised `ss-max-payload` (see the modsocket key
 * "ss max payload") hands over batches of many kilobytes; peers, the C joold
 * included, must still get datagrams they can read and that cross the link
 * without IP fragmentation.
 *
 * @module
 */

import { AttributeCursor } from "../netlink/attribute_decoder.ts";

/**
 * Batches up to this size are sent as they are, as the C joold sends them:
 * it reads datagrams into a buffer of this size. Jool's default
 * `ss-max-payload` (1452) gives batches of up to 1540 bytes.
 */
export const SPLIT_ABOVE_BYTES = 2048;

/**
 * The most bytes of sessions per datagram of a split batch: Jool's default
 * `ss-max-payload`, which fits UDP over IPv6 (or IPv4) in a 1500-byte MTU.
 */
export const SPLIT_DATAGRAM_BYTES = 1452;

/**
 * The datagrams to send for one batch payload (a sequence of session
 * entries, each a netlink attribute): views into `payload`, in order,
 * together exactly `payload`. A payload of at most `above` bytes is one
 * datagram; a larger one becomes runs of whole entries of at most `limit`
 * bytes each (an entry longer than `limit` goes alone). From an entry
 * whose length does not fit on, the rest of the payload goes as one last
 * datagram, for the peers' checks to judge, rather than being cut blindly.
 */
export function splitBatch(
  payload: Uint8Array,
  above = SPLIT_ABOVE_BYTES,
  limit = SPLIT_DATAGRAM_BYTES,
): Uint8Array[] {
  if (payload.byteLength <= above) return [payload];
  const parts: Uint8Array[] = [];
  const entries = new AttributeCursor(payload);
  let start = 0;
  while (entries.next()) {
    if (entries.nextOffset - start > limit && entries.offset > start) {
      parts.push(payload.subarray(start, entries.offset));
      start = entries.offset;
    }
  }
  if (entries.offset > start) parts.push(payload.subarray(start, entries.offset));
  if (entries.malformed) parts.push(payload.subarray(entries.offset));
  return parts;
}
