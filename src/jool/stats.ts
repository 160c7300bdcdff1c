/**
 * The instance's stat counters (`jool stats display`): which id each joold
 * counter has on which Jool version, and the answer to STATS_FOREACH (the
 * request: `encodeStatsForeach` in messages.ts). Pure code: no sockets.
 *
 * Read off Jool's source (enum jool_stat_id in src/common/stats.h, the
 * kernel's handle_stats_foreach() in src/mod/common/nl/stats.c, the client's
 * joolnl_stats_foreach() in src/usr/nl/stats.c) at v4.1.9 to v4.1.15:
 *
 * - The answer copies the request's Jool header (so its version is ours,
 *   not the kernel's) and holds one attribute per counter, from id 1 (or
 *   the one after the request's OFFSET_U8) to JSTAT_UNKNOWN: the type is
 *   the counter's id, the payload its u64 value in host order. Where the
 *   kernel aligns 64-bit values, an empty JSTAT_PADDING attribute may come
 *   before one. If the counters do not fit the message, the header has the
 *   M flag and the client asks again after the last id it got.
 * - Ids 1 to 68 (JSTAT_RECEIVED6 to JSTAT_ICMPEXT_BIG) are the same in all
 *   those versions. The joold counters (JSTAT_JOOLD_*) follow from 69, first
 *   in 4.1.12; 4.1.13 removed JSTAT_JOOLD_FLUSH_ASAP, which moves every later
 *   one down by one. Up to 4.1.11 the kernel counts nothing of joold (its
 *   queue's drops only go to the kernel log, once).
 *
 * @module
 */

import { AttributeDecoder } from "../netlink/attribute_decoder.ts";
import type { GenericMessage } from "../netlink/genetlink.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";
import { joolVersion } from "./header.ts";
import { decodeJoolMessage } from "./kernel_messages.ts";
import { JoolHeaderFlag } from "./protocol.ts";

/** The id of JSTAT_JOOLD_EMPTY, the first joold counter, where there is one. */
const FIRST_JOOLD_STAT = 69;

/** The joold counters of 4.1.12, in enum order from {@link FIRST_JOOLD_STAT}. */
const JOOLD_STATS_4_1_12 = [
  "JOOLD_EMPTY",
  "JOOLD_TIMEOUT",
  "JOOLD_MISSING_ACK",
  "JOOLD_AD_ONGOING",
  "JOOLD_FLUSH_ASAP",
  "JOOLD_PKT_FULL",
  "JOOLD_QUEUING",
  "JOOLD_SSS_QUEUED",
  "JOOLD_SSS_SENT",
  "JOOLD_SSS_RCVD",
  /** Sessions dropped because the queue held `ss-capacity` already. */
  "JOOLD_SSS_ENOSPC",
  "JOOLD_PKT_SENT",
  "JOOLD_PKT_RCVD",
  "JOOLD_ADS",
  "JOOLD_ACKS",
] as const;

/** A joold counter's name, as in `jool stats display` without its `JSTAT_`. */
export type JooldStat = typeof JOOLD_STATS_4_1_12[number];

/** The joold counters of 4.1.13 and later: 4.1.12's but JOOLD_FLUSH_ASAP. */
const JOOLD_STATS_4_1_13: readonly JooldStat[] = JOOLD_STATS_4_1_12.filter((name) =>
  name !== "JOOLD_FLUSH_ASAP"
);

const JOOL_4_1_12 = joolVersion(4, 1, 12);
const JOOL_4_1_13 = joolVersion(4, 1, 13);

/**
 * The id of the joold counter `name` on a module of `version`, or null if
 * that version does not count it (4.1.11 and earlier count none).
 */
export function jooldStatId(version: number, name: JooldStat): number | null {
  if (version < JOOL_4_1_12) return null;
  const names: readonly JooldStat[] = version < JOOL_4_1_13
    ? JOOLD_STATS_4_1_12
    : JOOLD_STATS_4_1_13;
  const index = names.indexOf(name);
  return index < 0 ? null : FIRST_JOOLD_STAT + index;
}

/** One answer to STATS_FOREACH. */
export interface StatsPage {
  /** Each counter's value, by its id (see {@link jooldStatId}). */
  values: Map<number, bigint>;
  /** The last counter's id (0 if none): where the next page starts. */
  last: number;
  /** True if the kernel has more counters for another request. */
  more: boolean;
}

/** A counter's payload: a u64. */
const COUNTER_BYTES = 8;

/**
 * Reads an answer to STATS_FOREACH (check `decodeJoolError` first). Empty
 * attributes (the kernel's alignment padding) are skipped.
 *
 * @throws {JoolDecodeError} If the header does not decode.
 * @throws {AttributeDecodeError} If the attributes do not decode, or one
 * is neither empty nor a u64.
 */
export function decodeStatsPage(message: GenericMessage): StatsPage {
  const { header, attributes } = decodeJoolMessage(message);
  const values = new Map<number, bigint>();
  let last = 0;
  const ad = new AttributeDecoder(attributes);
  while (ad.next()) {
    const payload = ad.bytes();
    if (payload.byteLength === 0) continue;
    if (payload.byteLength !== COUNTER_BYTES) {
      ad.fail(`stat ${ad.type} should be a u64 (8 bytes), has ${payload.byteLength}`);
      break;
    }
    values.set(ad.type, viewOf(payload).getBigUint64(0, NATIVE_LITTLE_ENDIAN));
    last = ad.type;
  }
  if (ad.error !== null) throw ad.error;
  return { values, last, more: (header.flags & JoolHeaderFlag.M) !== 0 };
}
