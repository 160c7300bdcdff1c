import assert from "node:assert/strict";
import { formatIPv6 } from "../net/ip.ts";
import { JoolDecodeError } from "./header.ts";
import { decodePool6 } from "./kernel_messages.ts";

Deno.test("decodePool6() reads the POOL6 global's prefix, and an empty pool6 as null", () => {
  // deno-fmt-ignore
  const prefix = Uint8Array.of(
    0x14, 0x00, 0x01, 0x00, // nla_len 20, JNLAP_ADDR
    0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 64:ff9b::
    0x05, 0x00, 0x02, 0x00, // nla_len 5, JNLAP_LEN
    0x60, 0x00, 0x00, 0x00, // u8 96, padding
  );
  const pool6 = decodePool6(prefix);
  assert.ok(pool6 !== null);
  assert.equal(formatIPv6(pool6.address), "64:ff9b::");
  assert.equal(pool6.length, 96);
  // What a 4.1.x kernel sends for an empty pool6: the length 0 alone.
  assert.equal(decodePool6(Uint8Array.of(0x05, 0x00, 0x02, 0x00, 0x00, 0, 0, 0)), null);
  assert.throws(() => decodePool6(new Uint8Array(0)), JoolDecodeError);
  assert.throws(() => decodePool6(prefix.subarray(0, 20)), JoolDecodeError);
  assert.throws(
    () => decodePool6(Uint8Array.of(0x05, 0x00, 0x02, 0x00, 0x60, 0, 0, 0)),
    /no address/,
  );
});
