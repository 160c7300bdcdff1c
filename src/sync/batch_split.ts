/**
 * Splits a large kernel batch into ordinary datagrams at session
 * boundaries. A kernel with a raised `ss-max-payload` (see the modsocket key
 * "ss max payload") hands over batches of many kilobytes; peers, the C joold
 * included, must still get datagrams they can read and that cross the link
 * without IP fragmentation.
 *
 * @module
 */

import { NLA_HDRLEN, nlaAlign } from "../netlink/attribute.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../netlink/native_endian.ts";

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
  const view = viewOf(payload);
  const parts: Uint8Array[] = [];
  let start = 0;
  let offset = 0;
  while (offset < payload.byteLength) {
    const remaining = payload.byteLength - offset;
    const length = remaining < NLA_HDRLEN ? 0 : view.getUint16(offset, NATIVE_LITTLE_ENDIAN);
    if (length < NLA_HDRLEN || length > remaining) {
      if (offset > start) parts.push(payload.subarray(start, offset));
      parts.push(payload.subarray(offset));
      return parts;
    }
    const end = Math.min(offset + nlaAlign(length), payload.byteLength);
    if (end - start > limit && offset > start) {
      parts.push(payload.subarray(start, offset));
      start = offset;
    }
    offset = end;
  }
  if (offset > start) parts.push(payload.subarray(start, offset));
  return parts;
}
