/**
 * The kernel's own drops, on each Jool version's fake: the drop counter
 * read every second (4.1.12+), full batches (4.1.10 and earlier), the
 * table offered once the drops stop, failed reads counted and logged
 * within a budget, nothing with reliable delivery off.
 */

import assert from "node:assert/strict";
import { joolVersion } from "../jool/header.ts";
import { GlobalAttribute, JoolOperation } from "../jool/protocol.ts";
import { encodeSessions, type Session } from "../jool/session.ts";
import { jooldStatId } from "../jool/stats.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { settle, type SyncHarness, syncHarness } from "../../tests/support/sync_harness.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { OWN_ADVERTISE_INTERVAL_MS, START_OFFER_DELAY_MS } from "./advertiser.ts";
import {
  DROP_MAX_WAIT_MS,
  DROP_POLL_INTERVAL_MS,
  DROP_QUIET_MS,
  KernelDropWatch,
  READ_FAILURE_LOG_INTERVAL_MS,
  startOwnOffers,
} from "./kernel_drop_watch.ts";

const { STATS_FOREACH, GLOBAL_FOREACH, JOOLD_ADVERTISE } = JoolOperation;

interface Watched {
  harness: SyncHarness;
  watch: KernelDropWatch;
  /** The reasons the watch offered the table for. */
  offers: string[];
  /** Moves one poll interval on, letting its request be answered. */
  second(): Promise<void>;
  /** Sets the drop counter of the fake's version. */
  setDropped(value: bigint): void;
}

/** A watch on a fake Jool of `version`, offering into a list. */
async function watched(version: number, globals?: Map<number, number>): Promise<Watched> {
  const harness = await syncHarness({ version, globals });
  const offers: string[] = [];
  const { link: kernel, local: jool, counters, logger, clock } = harness;
  const watch = new KernelDropWatch({
    kernel,
    jool,
    counters,
    logger,
    clock,
    offer: (reason) => offers.push(reason),
  });
  harness.sync.onKernelBatch = (bytes) => watch.batchArrived(bytes);
  watch.start();
  const second = async () => {
    clock.advance(DROP_POLL_INTERVAL_MS);
    for (let i = 0; i < 5; i++) await settle();
  };
  const setDropped = (value: bigint) => {
    harness.jool.stats.set(jooldStatId(version, "JOOLD_SSS_ENOSPC")!, value);
  };
  return { harness, watch, offers, second, setDropped };
}

Deno.test("4.1.12+: a rise of the drop counter offers the table once the drops stop", async () => {
  const cases = [
    { version: joolVersion(4, 1, 12), id: 79, neighbour: 78 },
    { version: joolVersion(4, 1, 13), id: 78, neighbour: 79 },
    { version: joolVersion(4, 1, 15), id: 78, neighbour: 79 },
  ];
  for (const { version, id, neighbour } of cases) {
    const { harness, offers, second, setDropped } = await watched(version);
    const { counters, logs, jool } = harness;
    assert.equal(jooldStatId(version, "JOOLD_SSS_ENOSPC"), id);
    await second(); // the first reading: where counting starts
    // Its neighbour (4.1.12's SSS_RCVD, 4.1.13's PKT_SENT) rising is no drop.
    jool.stats.set(neighbour, 1000n);
    setDropped(5n);
    await second();
    setDropped(12n);
    await second();
    assert.equal(counters.kernelDrops, 12, `${id}`);
    await second(); // quiet for 1 s: the burst may go on
    assert.deepEqual(offers, []);
    await second(); // quiet for DROP_QUIET_MS
    assert.equal(DROP_QUIET_MS, 2 * DROP_POLL_INTERVAL_MS);
    assert.deepEqual(offers, ["the kernel dropped 12 sessions"]);
    assert.equal(counters.kernelDropOffers, 1);
    assert.deepEqual(logs, [
      "warning: The kernel's joold queue was full and dropped 12 sessions: " +
      "offering the session table to the peers",
    ]);
    for (let i = 0; i < 5; i++) await second();
    assert.equal(offers.length, 1, "one offer per burst");
  }
});

Deno.test("no rise, no offer; one small request per interval, never two at once", async () => {
  const { harness, offers, second } = await watched(joolVersion(4, 1, 15));
  const sent = jooldStatId(harness.jool.version, "JOOLD_SSS_SENT")!;
  for (let i = 1; i <= 20; i++) {
    harness.jool.stats.set(sent, BigInt(i * 36)); // sessions flow, none dropped
    await second();
  }
  assert.deepEqual(offers, []);
  assert.deepEqual(harness.jool.commands(), Array(20).fill(STATS_FOREACH));
  assert.equal(harness.counters.kernelDrops, 0);

  // A kernel that does not answer: the ticks do not pile requests up.
  const clock = new ManualClock();
  let reads = 0;
  const silent = new KernelDropWatch({
    kernel: {
      readStats: () => {
        reads++;
        return new Promise(() => {});
      },
      readGlobalNumber: () => Promise.resolve(null),
    },
    jool: { version: joolVersion(4, 1, 15) },
    counters: new SyncCounters(),
    logger: new LevelLogger("debug", () => {}),
    clock,
    offer: () => assert.fail("no offer"),
  });
  silent.start();
  for (let i = 0; i < 10; i++) {
    clock.advance(DROP_POLL_INTERVAL_MS);
    await settle();
  }
  assert.equal(reads, 1);
});

Deno.test("drops that go on: the table is offered at most DROP_MAX_WAIT_MS after the first", async () => {
  const { harness, offers, second, setDropped } = await watched(joolVersion(4, 1, 15));
  await second();
  // 100 sessions dropped each second from 2 s to 23 s.
  for (let i = 1; i <= 22; i++) {
    setDropped(BigInt(100 * i));
    await second();
  }
  assert.equal(DROP_MAX_WAIT_MS, 10 * DROP_POLL_INTERVAL_MS);
  // At 12 s (the drops of 2 s to 12 s), at 23 s (13 s to 23 s).
  assert.deepEqual(offers, [
    "the kernel dropped 1100 sessions",
    "the kernel dropped 1100 sessions",
  ]);
  assert.equal(harness.counters.kernelDrops, 2200);
  // The second line waits for the log's interval, and then tells both.
  assert.equal(harness.logs.length, 1);
});

Deno.test("a failing read is counted, logged once per interval, never fatal; counting resumes", async () => {
  const { harness, offers, second, setDropped } = await watched(joolVersion(4, 1, 15));
  const { counters, logs, jool } = harness;
  await second();
  jool.kernel.sendFailure = new Error(
    "sendto(netlink) failed: ENOBUFS (No buffer space available)",
  );
  const seconds = READ_FAILURE_LOG_INTERVAL_MS / DROP_POLL_INTERVAL_MS + 1;
  setDropped(7n); // while it cannot be read
  for (let i = 0; i < seconds; i++) await second();
  assert.equal(counters.kernelStatsFailures, seconds);
  assert.deepEqual(logs, [
    "warning: Cannot read the kernel's counters for its drops: " +
    "sendto(netlink) failed: ENOBUFS (No buffer space available)",
    "warning: Cannot read the kernel's counters for its drops: " +
    "sendto(netlink) failed: ENOBUFS (No buffer space available) " +
    `(and ${seconds - 2} more failures since the last line)`,
  ]);
  jool.kernel.sendFailure = null;
  for (let i = 0; i < 3; i++) await second();
  assert.equal(counters.kernelDrops, 7);
  assert.deepEqual(offers, ["the kernel dropped 7 sessions"]);
});

/** A kernel batch of `count` sessions in 4.1.9's encoding (140 bytes each). */
function nestedBatch(count: number, first = 0): Uint8Array {
  const sessions: Session[] = Array.from({ length: count }, (_, i) => sampleUdpSession(first + i));
  return encodeSessions(sessions, "nested-4.1.0");
}

Deno.test("4.1.9: full batches offer the table after the burst; batches with room do not", async () => {
  const { harness, offers, second } = await watched(joolVersion(4, 1, 9));
  const { counters, jool, logs } = harness;
  await second(); // reads ss-max-payload: 1452, at least 1420 bytes of sessions
  assert.deepEqual(jool.commands(), [GLOBAL_FOREACH]);
  for (const count of [1, 5, 9]) jool.multicast(nestedBatch(count));
  await settle();
  for (let i = 0; i < 3; i++) await second();
  assert.deepEqual(offers, [], "batches with room for one more session");
  // 11 sessions (1540 bytes) fill the 2 KiB buffer: the 12th was set aside.
  jool.multicast(nestedBatch(11));
  jool.multicast(nestedBatch(10)); // smaller than one seen full: had room
  jool.multicast(nestedBatch(11, 11));
  await settle();
  assert.equal(counters.kernelFullBatches, 2);
  await second();
  assert.deepEqual(offers, []);
  await second();
  assert.deepEqual(offers, ["the kernel set sessions aside in 2 full batches"]);
  assert.equal(counters.kernelDropOffers, 1);
  assert.deepEqual(logs.filter((line) => line.startsWith("warning")), [
    "warning: The kernel sent 2 full batches, whose sessions that did not fit were set aside " +
    "and never sent: offering the session table to the peers",
  ]);
  assert.deepEqual(jool.commands().filter((c) => c !== JoolOperation.JOOLD_ACK), [GLOBAL_FOREACH]);
});

Deno.test("4.1.9 with a raised ss-max-payload: a large batch with room is not full", async () => {
  const globals = new Map([[GlobalAttribute.JOOLD_MAX_PAYLOAD, 32768]]);
  const { harness, offers, second } = await watched(joolVersion(4, 1, 9), globals);
  await second();
  harness.jool.multicast(nestedBatch(200)); // 28,000 bytes: under 32,736
  await settle();
  for (let i = 0; i < 3; i++) await second();
  assert.equal(harness.counters.kernelFullBatches, 0);
  assert.deepEqual(offers, []);
  harness.jool.multicast(nestedBatch(234)); // 32,760 bytes: the 235th may not have fit
  await settle();
  for (let i = 0; i < 3; i++) await second();
  assert.equal(harness.counters.kernelFullBatches, 1);
  assert.equal(offers.length, 1);
});

Deno.test("4.1.11 counts no drops: nothing is read, and the log says so once", async () => {
  const { harness, offers, second } = await watched(joolVersion(4, 1, 11));
  for (let i = 0; i < 5; i++) await second();
  harness.jool.multicast(encodeSessions([sampleUdpSession(0)], "nested-4.1.0"));
  await settle();
  assert.deepEqual(harness.jool.commands().filter((c) => c !== JoolOperation.JOOLD_ACK), []);
  assert.deepEqual(offers, []);
  assert.deepEqual(harness.logs, [
    "info: Jool 4.1.11.0 does not count the sessions its full joold queue drops, nor do its " +
    "batches show them: this daemon cannot offer the table for them",
  ]);
});

Deno.test("a module of unknown version is read once its first batch tells the version", async () => {
  const harness = await syncHarness({ version: joolVersion(4, 1, 15), moduleVersion: null });
  const watch = new KernelDropWatch({
    kernel: harness.link,
    jool: harness.local,
    counters: harness.counters,
    logger: harness.logger,
    clock: harness.clock,
    offer: () => {},
  });
  watch.start();
  harness.clock.advance(3 * DROP_POLL_INTERVAL_MS);
  await settle();
  assert.deepEqual(harness.jool.commands(), []);
  harness.jool.multicast(encodeSessions([sampleUdpSession(0)], "raw36-4.1.13"));
  await settle();
  harness.clock.advance(DROP_POLL_INTERVAL_MS);
  await settle();
  assert.deepEqual(harness.jool.commands(), [JoolOperation.JOOLD_ACK, STATS_FOREACH]);
  watch.stop();
});

/** 40 UDP sessions: the table the peers should get. */
const TABLE: Session[] = Array.from({ length: 40 }, (_, i) => sampleUdpSession(i));

/** The offers wired as the daemon does, on 4.1.15; ENOSPC rises 5 s after the start. */
async function ownOffers(reliableDelivery: boolean) {
  const version = joolVersion(4, 1, 15);
  const harness = await syncHarness({ version, sessions: TABLE });
  const { link: kernel, local: jool, counters, logger, clock } = harness;
  const watch = startOwnOffers(
    harness.sync,
    { kernel, jool, counters, logger, clock },
    reliableDelivery,
  );
  const id = jooldStatId(version, "JOOLD_SSS_ENOSPC")!;
  for (let s = 1; s <= 40; s++) {
    if (s === 5) harness.jool.stats.set(id, 64n);
    clock.advance(DROP_POLL_INTERVAL_MS);
    for (let i = 0; i < 5; i++) await settle();
  }
  watch?.stop();
  return { harness, watch };
}

Deno.test("wired: the peers get the table after the start's offer and again after the drops", async () => {
  const { harness, watch } = await ownOffers(true);
  assert.notEqual(watch, null);
  const advertised = harness.jool.commands().filter((c) => c === JOOLD_ADVERTISE).length;
  // The start's offer at 3 s; the drops' (asked for at 7 s) waits for the rate's 30 s.
  assert.ok(START_OFFER_DELAY_MS + OWN_ADVERTISE_INTERVAL_MS < 40_000);
  assert.equal(advertised, 2);
  assert.equal(harness.counters.kernelDrops, 64);
  assert.equal(harness.counters.kernelDropOffers, 1);
  assert.equal(harness.channel.sent.length, 4, "the 40 sessions, twice, 36 a batch");
});

Deno.test("with reliable delivery off, the kernel's drops are neither read nor offered for", async () => {
  const { harness, watch } = await ownOffers(false);
  assert.equal(watch, null);
  assert.deepEqual(harness.jool.commands(), []);
  assert.equal(harness.counters.kernelDropOffers, 0);
  assert.deepEqual(harness.channel.sent, []);
});
