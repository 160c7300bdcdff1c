import assert from "node:assert/strict";
import { describeVerdict, youngVerdict } from "./young_sessions.ts";

Deno.test("young sessions: windows past the limit and missing probes are told apart", () => {
  const verdict = youngVerdict({ windowsMs: [40, 60, 1000, 1001, 2500], missing: 1 });
  assert.deepEqual(verdict, {
    inTime: 3,
    lateMs: [1001, 2500],
    missing: 1,
    p50Ms: 1000,
    maxMs: 2500,
  });
  assert.equal(
    describeVerdict("reference", verdict),
    "C joold: 3 of 6 within 1000 ms (p50 1000 ms, max 2500 ms, 1 never seen)",
  );
  const none = youngVerdict({ windowsMs: [], missing: 20 });
  assert.equal(
    describeVerdict("ours", none),
    "ours: 0 of 20 within 1000 ms (p50 -, max -, 20 never seen)",
  );
});
