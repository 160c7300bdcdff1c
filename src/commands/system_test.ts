import assert from "node:assert/strict";
import { CAP_NET_ADMIN, parseEffectiveCapabilities } from "./system.ts";

Deno.test("parseEffectiveCapabilities reads CapEff from /proc/self/status", () => {
  const status = [
    "Name:\tjoold",
    "CapInh:\t0000000000000000",
    "CapPrm:\t0000000000001000",
    "CapEff:\t0000000000001000",
    "CapBnd:\t000001ffffffffff",
  ].join("\n");
  const effective = parseEffectiveCapabilities(status);
  assert.equal(effective, 1n << BigInt(CAP_NET_ADMIN));
  assert.equal(parseEffectiveCapabilities("CapEff:\t000001ffffffffff\n"), 0x1ffffffffffn);
  assert.equal(parseEffectiveCapabilities("CapPrm:\t0000000000001000\n"), null);
});
