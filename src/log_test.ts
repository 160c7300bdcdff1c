import assert from "node:assert/strict";
import { LevelLogger, OTHER_SOURCES, parseLogLevel, RateLimiter, stderrSink } from "./log.ts";

Deno.test("parseLogLevel(): the four levels and nothing else", () => {
  const cases: [string, string | null][] = [
    ["error", null],
    ["warning", null],
    ["info", null],
    ["debug", null],
    ["", "must be error, warning, info or debug, got 'x'"],
    ["warn", "must be error, warning, info or debug, got 'x'"],
    ["INFO", "must be error, warning, info or debug, got 'x'"],
    [" info", "must be error, warning, info or debug, got 'x'"],
  ];
  for (const [text, problem] of cases) {
    assert.deepEqual(parseLogLevel(text, "'x'"), problem === null ? text : { problem }, text);
  }
});

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

Deno.test("the rate limiter lets at most 20 events of all keys through per interval", () => {
  // The finding: 20,000 drops from 2,000 ports of one host gave 20,000 lines.
  const limiter = new RateLimiter(10_000);
  let lines = 0;
  for (let i = 0; i < 20_000; i++) {
    if (limiter.allow(`[2001:db8::9]:${10_000 + (i % 2_000)}`, i / 10) !== null) lines++;
  }
  assert.equal(lines, 20, "2 s of drops: one interval");
  const reports = limiter.takeSuppressed(12_000);
  assert.equal(reports.length, 20, "reports are bounded too");
  assert.equal(reports.at(-1)![0], OTHER_SOURCES);
  assert.equal(reports.reduce((sum, [, n]) => sum + n, 0), 20_000 - 20, "every event is told");
});

Deno.test("the rate limiter keeps its keys when full: newer keys share one entry", () => {
  const limiter = new RateLimiter(1000);
  for (let i = 0; i < 1024; i++) limiter.allow(`k${i}`, i);
  assert.equal(limiter.allow("k0", 1500), null, "k0 was not forgotten: still in its interval");
  assert.equal(limiter.allow("k2000", 1500), null, "beyond the table: suppressed with the rest");
  assert.equal(limiter.allow("k2001", 2600), 1, "the shared entry lets one through per interval");
});

Deno.test("a failing sink never throws into the daemon: the failure is counted", () => {
  const logger = new LevelLogger("info", () => {
    throw new Error("Broken pipe (os error 32)");
  });
  logger.error("one");
  logger.info("two");
  logger.debug("below the threshold: not written");
  assert.equal(logger.sinkFailures, 2);
});

Deno.test("a huge message is cut to a bounded line that says how much was left out", () => {
  const lines: string[] = [];
  const logger = new LevelLogger("debug", (_level, line) => lines.push(line));
  logger.warning("x".repeat(1 << 20));
  assert.equal(lines.length, 1);
  assert.ok(lines[0].length <= 2100, `${lines[0].length} characters`);
  assert.ok(lines[0].endsWith(`... (${(1 << 20) - 2048} more characters)`));
});

Deno.test("stderr lines: <N> for journald, the time elsewhere, or bare", () => {
  const lines: string[] = [];
  const write = (bytes: Uint8Array) => lines.push(new TextDecoder().decode(bytes));
  const now = () => Date.parse("2026-12-07T14:50:01.234Z");
  stderrSink(write, "journal", now)("warning", "a\nb");
  stderrSink(write, "timestamp", now)("error", "c");
  stderrSink(write, "plain", now)("info", "d");
  assert.deepEqual(lines, [
    "<4>warning: a b\n",
    "2026-12-07T14:50:01.234Z error: c\n",
    "info: d\n",
  ]);
});
