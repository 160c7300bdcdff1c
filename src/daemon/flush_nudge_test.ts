import assert from "node:assert/strict";
import { defaultModsocketConfig, type ModsocketConfig } from "../config/modsocket.ts";
import { joolVersion } from "../jool/header.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import { flushNudgeDelayMs } from "../sync/instance_tuning.ts";
import { FakeJooldQueue } from "../../tests/support/fake_joold_queue.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { syncHarness } from "../../tests/support/sync_harness.ts";
import { FlushNudge } from "./flush_nudge.ts";
import { InstanceSetup } from "./instance_setup.ts";

/** Moves `clock` on a millisecond at a time; the fake kernel's deliveries are microtasks. */
async function passMs(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    for (let turn = 0; turn < 8; turn++) await Promise.resolve();
  }
}

function nudgeOn(clock: ManualClock, delayMs = 50) {
  const nudges: number[] = [];
  const nudge = new FlushNudge({ clock, delayMs, nudge: () => nudges.push(clock.monotonic()) });
  return { nudge, nudges };
}

Deno.test("FlushNudge: one nudge a delay after a lone batch, none without batches", () => {
  const clock = new ManualClock();
  const { nudge, nudges } = nudgeOn(clock);
  clock.advance(1000);
  assert.deepEqual(nudges, [], "no batch, no nudge");
  nudge.batchArrived();
  clock.advance(49);
  assert.deepEqual(nudges, []);
  clock.advance(1);
  assert.deepEqual(nudges, [1050]);
  clock.advance(10_000);
  assert.deepEqual(nudges, [1050], "one per quiet spell");
  assert.equal(clock.timers.size, 0);
});

Deno.test("FlushNudge: batches that keep coming (a burst) put the nudge off until the last", () => {
  const clock = new ManualClock();
  const { nudge, nudges } = nudgeOn(clock);
  for (let i = 0; i < 100; i++) {
    nudge.batchArrived();
    clock.advance(10);
  }
  assert.deepEqual(nudges, [], "never during the burst");
  assert.ok(clock.timers.size <= 1, "one timer at a time");
  clock.advance(40);
  assert.deepEqual(nudges, [1040], "the delay after the last batch (at 990)");
});

Deno.test("FlushNudge: the batch a nudge brings sets the next one; stop() ends them", () => {
  const clock = new ManualClock();
  const { nudge, nudges } = nudgeOn(clock, 30);
  nudge.batchArrived();
  clock.advance(30);
  nudge.batchArrived(); // what the nudge made the kernel send
  clock.advance(30);
  assert.deepEqual(nudges, [30, 60]);
  nudge.batchArrived();
  nudge.stop();
  nudge.stop();
  clock.advance(1000);
  assert.deepEqual(nudges, [30, 60]);
  assert.equal(clock.timers.size, 0, "no timer left behind");
  nudge.batchArrived();
  assert.equal(clock.timers.size, 0, "none after stop()");
});

Deno.test("a session queued just after a batch waits in a fake Jool of each version: tens of ms with the daemon's tuning, seconds without", async () => {
  const MODSOCKET = { ...defaultModsocketConfig().config, file: "m.json" };
  const OPTED_OUT = { ...MODSOCKET, ssFlushAsap: false, ssFlushDeadline: null };
  const cases: {
    name: string;
    version: number;
    modsocket: ModsocketConfig;
    asapOff?: boolean;
    /** The second session's wait in the kernel, in ms: at most, or at least. */
    atMost?: number;
    atLeast?: number;
  }[] = [
    { name: "4.1.9", version: joolVersion(4, 1, 9), modsocket: MODSOCKET, atMost: 5 },
    {
      name: "4.1.9, ss-flush-asap off: turned on",
      version: joolVersion(4, 1, 9),
      modsocket: MODSOCKET,
      asapOff: true,
      atMost: 5,
    },
    {
      name: "4.1.9, ss-flush-asap off, opted out",
      version: joolVersion(4, 1, 9),
      modsocket: OPTED_OUT,
      asapOff: true,
      atLeast: 2000,
    },
    { name: "4.1.13", version: joolVersion(4, 1, 13), modsocket: MODSOCKET, atMost: 60 },
    { name: "4.1.15", version: joolVersion(4, 1, 15), modsocket: MODSOCKET, atMost: 60 },
    {
      name: "4.1.15, opted out",
      version: joolVersion(4, 1, 15),
      modsocket: OPTED_OUT,
      atLeast: 2000,
    },
  ];
  for (const c of cases) {
    const delayMs = flushNudgeDelayMs(c.modsocket, c.version);
    const { jool, link, logger, clock, channel, counters } = await syncHarness({
      version: c.version,
      flushNudgeDelayMs: delayMs,
    });
    if (c.asapOff) jool.globals.set(GlobalAttribute.JOOLD_FLUSH_ASAP, 0);
    const setup = new InstanceSetup(link, c.modsocket, logger);
    await setup.tune(c.version);
    const queue = new FakeJooldQueue(jool, clock);
    await passMs(clock, 5000);
    queue.add(sampleUdpSession(1)); // a quiet spell's first session leaves at once
    await passMs(clock, 5);
    queue.add(sampleUdpSession(2));
    const queuedAt = clock.monotonic();
    await passMs(clock, 4500);
    assert.equal(queue.sent.length, 2, c.name);
    assert.equal(channel.sent.length, 2, `${c.name}: both relayed`);
    const waited = queue.sent[1].at - queuedAt;
    if (c.atMost !== undefined) assert.ok(waited <= c.atMost, `${c.name}: waited ${waited} ms`);
    if (c.atLeast !== undefined) assert.ok(waited >= c.atLeast, `${c.name}: waited ${waited} ms`);
    assert.equal(counters.kernelNudges > 0, delayMs !== null, `${c.name}: nudged`);
    setup.restore();
  }
});
