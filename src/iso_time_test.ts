import assert from "node:assert/strict";
import { isoTime } from "./iso_time.ts";

Deno.test("isoTime writes what toISOString writes", () => {
  const edges = [
    0,
    951_782_400_000, // 2000-02-29, a leap day of a century divisible by 400
    4_107_542_399_999, // 2100-02-28T23:59:59.999Z, the century that is no leap year
    4_107_542_400_000,
    Date.parse("2026-12-07T14:50:01.234Z"),
    253_402_300_799_999, // 9999-12-31T23:59:59.999Z
  ];
  let seed = 1;
  const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
  const samples = [...edges, ...Array.from({ length: 10_000 }, () => Math.floor(random() * 4e12))];
  for (const ms of samples) assert.equal(isoTime(ms), new Date(ms).toISOString(), `${ms}`);
});
