import assert from "node:assert/strict";
import { RateLimiter } from "./log.ts";

Deno.test("the rate limiter lets one event per key and interval through", () => {
  const limiter = new RateLimiter(1000);
  assert.equal(limiter.allow("a", 0), 0);
  assert.equal(limiter.allow("a", 10), null);
  assert.equal(limiter.allow("a", 20), null);
  assert.equal(limiter.allow("b", 20), 0);
  assert.equal(limiter.allow("a", 1000), 2);
});

Deno.test("the rate limiter reports what it suppressed once each interval is over", () => {
  const limiter = new RateLimiter(1000);
  limiter.allow("a", 0);
  limiter.allow("a", 10);
  limiter.allow("a", 20);
  limiter.allow("b", 500);
  assert.deepEqual(limiter.takeSuppressed(999), [], "nothing is due yet");
  assert.deepEqual(limiter.takeSuppressed(1000), [["a", 2]], "b suppressed nothing");
  assert.equal(limiter.allow("a", 1500), null, "a report starts a new interval");
  assert.deepEqual(limiter.takeSuppressed(2000), [["a", 1]]);
  assert.deepEqual(limiter.takeSuppressed(3000), [], "keys with nothing to say are forgotten");
  assert.equal(limiter.allow("a", 3000), 0);
  assert.equal(limiter.allow("b", 3000), 0);
  limiter.allow("b", 3001);
  assert.deepEqual(limiter.takeSuppressed(3002), []);
  assert.deepEqual(limiter.takeSuppressed(3002, true), [["b", 1]], "at exit: everything");
});
