/** The drop reports on a manual clock: what is logged, what is counted, and when it is told. */

import assert from "node:assert/strict";
import { LevelLogger } from "../log.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { DROP_LOG_INTERVAL_MS, DropReporter } from "./drop_report.ts";

function reporter() {
  const clock = new ManualClock();
  const logs: string[] = [];
  const logger = new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`));
  return { clock, logs, drops: new DropReporter(logger, clock) };
}

Deno.test("drops: one line per peer per interval, the rest reported when it is over and at exit", () => {
  const { clock, logs, drops } = reporter();
  drops.start();
  /** At each time (ms from the start), the peers whose datagram is dropped. */
  const dropsAt: [number, string[]][] = [
    [0, ["A"]],
    [1000, ["A", "B"]],
    [2000, ["A"]],
    [12_000, ["A"]],
    [25_000, ["A", "A"]],
  ];
  for (const [at, peers] of dropsAt) {
    clock.advance(at - clock.monotonicMs);
    for (const peer of peers) drops.dropped(peer, "empty datagram", clock.now());
  }
  clock.advance(1000);
  drops.stop();
  assert.deepEqual(logs, [
    "warning: Dropped a datagram from A: empty datagram",
    "warning: Dropped a datagram from B: empty datagram",
    // The report at 10 s, then at 20 s:
    "warning: Dropped 2 more datagrams from A in the last 10 s (per-peer counts: the JSON stats)",
    "warning: Dropped 1 more datagram from A in the last 10 s (per-peer counts: the JSON stats)",
    // At exit:
    "warning: Dropped 2 more datagrams from A since the last report (per-peer counts: the JSON stats)",
  ]);
  assert.equal(clock.timers.size, 0, "no report after stop()");
});

Deno.test("drops: a line after a quiet interval tells what was kept out before it", () => {
  const { clock, logs, drops } = reporter(); // not started: no periodic reports
  drops.dropped("A", "too large (70000 bytes)", clock.now());
  drops.dropped("A", "too large (70000 bytes)", clock.now());
  clock.advance(DROP_LOG_INTERVAL_MS);
  drops.dropped("A", "empty datagram", clock.now());
  assert.deepEqual(logs, [
    "warning: Dropped a datagram from A: too large (70000 bytes)",
    "warning: Dropped a datagram from A: empty datagram (and 1 more since the last report)",
  ]);
});

Deno.test("drops: a host sending from many ports is one sender: one line per interval, one report", () => {
  const { clock, logs, drops } = reporter();
  drops.start();
  for (let port = 40000; port < 45000; port++) {
    drops.dropped(`[2001:db8:ff08::9]:${port}`, "empty datagram", clock.now());
    drops.dropped(`198.51.100.9:${port}`, "empty datagram", clock.now());
  }
  clock.advance(DROP_LOG_INTERVAL_MS);
  drops.stop();
  assert.deepEqual(logs, [
    "warning: Dropped a datagram from [2001:db8:ff08::9]:40000: empty datagram",
    "warning: Dropped a datagram from 198.51.100.9:40000: empty datagram",
    "warning: Dropped 4999 more datagrams from [2001:db8:ff08::9] in the last 10 s " +
    "(per-peer counts: the JSON stats)",
    "warning: Dropped 4999 more datagrams from 198.51.100.9 in the last 10 s " +
    "(per-peer counts: the JSON stats)",
  ]);
});
