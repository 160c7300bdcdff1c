import assert from "node:assert/strict";
import { CAP_NET_ADMIN, parseEffectiveCapabilities, parseProcessIds } from "./system.ts";

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

Deno.test("parseProcessIds: the effective uid and gid, then the supplementary groups", () => {
  const status = "Name:\tjoold\nUid:\t0\t990\t990\t990\nGid:\t0\t991\t991\t991\n" +
    "FDSize:\t64\nGroups:\t991 27 4 \n";
  assert.deepEqual(parseProcessIds(status), { uid: 990, gids: [991, 27, 4] });
  assert.deepEqual(
    parseProcessIds("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n"),
    { uid: 0, gids: [0] },
    "no supplementary groups",
  );
  assert.equal(parseProcessIds("Name:\tx\n"), null);
});
