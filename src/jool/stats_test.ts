/**
 * STATS_FOREACH both ways, and the joold counters' ids per Jool version
 * (enum jool_stat_id in Jool's src/common/stats.h at each tag).
 */

import assert from "node:assert/strict";
import { AttributeDecodeError } from "../netlink/attribute_decoder.ts";
import type { GenericMessage } from "../netlink/genetlink.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import { joolVersion } from "./header.ts";
import { encodeStatsForeach } from "./messages.ts";
import { genericMessage, OPTIONS, requestPrefix } from "../../tests/support/jool_bytes.ts";
import { decodeStatsPage, type JooldStat, jooldStatId } from "./stats.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("encodeStatsForeach() asks for every counter, or for those after one", () => {
  assert.deepEqual(encodeStatsForeach(OPTIONS), Uint8Array.from(requestPrefix(48, 0x07)));
  // deno-fmt-ignore
  const after = [
    ...requestPrefix(56, 0x07), // cmd 7 STATS_FOREACH
    0x05, 0x00, 0x09, 0x00, // nla_len 5, OFFSET_U8
    0x4e, 0x00, 0x00, 0x00, // u8 78 (JOOLD_SSS_ENOSPC on 4.1.13+), padding
  ];
  assert.deepEqual(encodeStatsForeach(OPTIONS, 78), Uint8Array.from(after));
  assert.throws(() => encodeStatsForeach(OPTIONS, 256), /STATS_FOREACH: offset 256 is not a u8/);
});

/** An answer from the kernel: the request's Jool header, with `flags`, then `attributes`. */
function answer(attributes: number[], flags = 0): GenericMessage {
  return genericMessage({ flags, attributes });
}

Deno.test("decodeStatsPage() reads u64 counters by id, skipping the kernel's padding", () => {
  // deno-fmt-ignore
  const attributes = [
    0x0c, 0x00, 0x01, 0x00, // nla_len 12, stat 1 (RECEIVED6)
    0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   u64 42
    0x04, 0x00, 0x54, 0x00, // nla_len 4, stat 84 (PADDING on 4.1.13+): no payload
    0x0c, 0x00, 0x4e, 0x00, // nla_len 12, stat 78 (JOOLD_SSS_ENOSPC on 4.1.13+)
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, //   u64 2^32
  ];
  const page = decodeStatsPage(answer(attributes));
  assert.deepEqual(page.values, new Map([[1, 42n], [78, 2n ** 32n]]));
  assert.equal(page.last, 78);
  assert.equal(page.more, false);
  const partial = decodeStatsPage(answer(attributes.slice(0, 12), 0x08));
  assert.deepEqual([partial.last, partial.more], [1, true]); // flags M: ask again after 1
  assert.deepEqual(decodeStatsPage(answer([])), { values: new Map(), last: 0, more: false });
});

Deno.test("decodeStatsPage() refuses what is not a list of counters", () => {
  const cases: { name: string; attributes: number[]; error: RegExp }[] = [
    {
      name: "a u32 where a u64 goes",
      attributes: [0x08, 0x00, 0x4e, 0x00, 0x01, 0x00, 0x00, 0x00],
      error: /stat 78 should be a u64 \(8 bytes\), has 4/,
    },
    {
      name: "a length past the end",
      attributes: [0x0c, 0x00, 0x4e, 0x00, 0x01, 0x00, 0x00, 0x00],
      error: /length 12 at offset 0 does not fit the remaining 8 bytes/,
    },
  ];
  for (const { name, attributes, error } of cases) {
    assert.throws(() => decodeStatsPage(answer(attributes)), AttributeDecodeError, name);
    assert.throws(() => decodeStatsPage(answer(attributes)), error, name);
  }
});

Deno.test("jooldStatId() gives each version's ids, none before 4.1.12", () => {
  const cases: { version: number; name: JooldStat; id: number | null }[] = [
    // 4.1.9 to 4.1.11: the enum ends JSTAT_ICMPEXT_BIG 68, UNKNOWN 69, PADDING 70.
    { version: joolVersion(4, 1, 9), name: "JOOLD_SSS_ENOSPC", id: null },
    { version: joolVersion(4, 1, 11), name: "JOOLD_SSS_ENOSPC", id: null },
    // 4.1.12: JOOLD_EMPTY 69 ... FLUSH_ASAP 73, PKT_FULL 74 ... ENOSPC 79 ... ACKS 83.
    { version: joolVersion(4, 1, 12), name: "JOOLD_EMPTY", id: 69 },
    { version: joolVersion(4, 1, 12), name: "JOOLD_FLUSH_ASAP", id: 73 },
    { version: joolVersion(4, 1, 12), name: "JOOLD_SSS_ENOSPC", id: 79 },
    { version: joolVersion(4, 1, 12), name: "JOOLD_ACKS", id: 83 },
    // 4.1.13 to 4.1.15: FLUSH_ASAP gone, PKT_FULL 73 ... ENOSPC 78 ... ACKS 82.
    { version: joolVersion(4, 1, 13), name: "JOOLD_FLUSH_ASAP", id: null },
    { version: joolVersion(4, 1, 13), name: "JOOLD_PKT_FULL", id: 73 },
    { version: joolVersion(4, 1, 13), name: "JOOLD_SSS_ENOSPC", id: 78 },
    { version: joolVersion(4, 1, 14), name: "JOOLD_SSS_ENOSPC", id: 78 },
    { version: joolVersion(4, 1, 15), name: "JOOLD_SSS_ENOSPC", id: 78 },
    { version: joolVersion(4, 1, 15), name: "JOOLD_ACKS", id: 82 },
  ];
  for (const { version, name, id } of cases) {
    assert.equal(jooldStatId(version, name), id, `${name} on ${version.toString(16)}`);
  }
});
