import assert from "node:assert/strict";
import { AnswerBudget, type AnswerBudgetLimits } from "./answer_budget.ts";

const LIMITS: AnswerBudgetLimits = {
  perSourcePerSecond: 2,
  perSourceBurst: 3,
  globalPerSecond: 10,
  globalBurst: 5,
  maxSources: 4,
};

/** How many of `count` requests from `source` at `nowMs` are allowed. */
function allowed(budget: AnswerBudget, source: string, count: number, nowMs: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (budget.allow(source, nowMs)) n++;
  return n;
}

Deno.test("AnswerBudget: one source gets its burst, then its rate", () => {
  const budget = new AnswerBudget(LIMITS, 0);
  assert.equal(allowed(budget, "a", 100, 0), 3, "the burst");
  assert.equal(allowed(budget, "a", 100, 499), 0, "not a whole token yet");
  assert.equal(allowed(budget, "a", 100, 500), 1, "2 per second: one after 500 ms");
  assert.equal(allowed(budget, "a", 100, 10_500), 3, "refilled to the burst, no more");
});

Deno.test("AnswerBudget: all sources together get the global burst, then its rate", () => {
  const budget = new AnswerBudget(LIMITS, 0);
  const sources = ["a", "b", "c"];
  assert.equal(sources.map((s) => allowed(budget, s, 3, 0)).reduce((x, y) => x + y), 5);
  assert.equal(allowed(budget, "d", 1, 0), 0, "a new source still waits for the global bucket");
  assert.equal(allowed(budget, "d", 3, 200), 2, "10 per second: two after 200 ms");
});

Deno.test("AnswerBudget: sources beyond the limit push out the least recently seen", () => {
  const budget = new AnswerBudget({ ...LIMITS, globalBurst: 1000, globalPerSecond: 1000 }, 0);
  assert.equal(allowed(budget, "a", 3, 0), 3);
  for (const s of ["b", "c", "d"]) allowed(budget, s, 1, 0);
  assert.equal(allowed(budget, "a", 1, 0), 0, "a is remembered: its bucket is empty");
  allowed(budget, "e", 1, 0); // forgets b, the least recently seen
  assert.equal(allowed(budget, "b", 3, 0), 3, "b forgotten: a full bucket again");
  assert.equal(allowed(budget, "a", 1, 0), 0, "a, used since, was kept");
});
