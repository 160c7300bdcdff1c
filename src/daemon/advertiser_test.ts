/**
 * Advertising the table on each Jool version's behaviour: JOOLD_ADVERTISE
 * from 4.1.11 on, the daemon's own table dump before; after overruns, at
 * most once per interval.
 */

import assert from "node:assert/strict";
import { joolVersion } from "../jool/header.ts";
import { JoolOperation } from "../jool/protocol.ts";
import {
  decodeSessions,
  encodeSessions,
  type Session,
  sessionEncodingFor,
} from "../jool/session.ts";
import { SEALED_OVERHEAD } from "../auth/sealed_datagram.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import {
  letTimePass,
  settle,
  type SyncHarness,
  syncHarness,
  whileTimePasses,
} from "../../tests/support/sync_harness.ts";
import {
  OVERRUN_ADVERTISE_INTERVAL_MS,
  OWN_ADVERTISE_INTERVAL_MS,
  START_OFFER_DELAY_MS,
} from "./advertiser.ts";
import { sealedDatagramBytes } from "./kernel_to_network.ts";

const { JOOLD_ADVERTISE, SESSION_FOREACH, JOOLD_ACK } = JoolOperation;

/** 60 UDP sessions and 15 TCP ones. */
const TABLE: Session[] = [
  ...Array.from({ length: 60 }, (_, i) => sampleUdpSession(i)),
  ...Array.from(
    { length: 15 },
    (_, i) => ({ ...sampleUdpSession(100 + i), proto: "TCP" as const }),
  ),
];

/** The source ports of the sessions the peers got, sorted. */
function portsSent(harness: SyncHarness): number[] {
  const encoding = sessionEncodingFor(harness.jool.version);
  return harness.channel.sent
    .flatMap((datagram) => decodeSessions(datagram, encoding).sessions)
    .map((session) => session.src6.port)
    .sort((a, b) => a - b);
}

const TABLE_PORTS = TABLE.map((session) => session.src6.port).sort((a, b) => a - b);

Deno.test("a resync answer reaches the peers with the whole table, on every Jool version", async () => {
  const reason = "resync requested by [2001:db8::2]:6464";
  type Case = {
    name: string;
    version: number;
    moduleVersion?: number | null;
    /** The Jool commands it takes, repeats collapsed. */
    commands: number[];
    log: string;
    advertised: [sessions: number, datagrams: number];
  };
  /** Jool `revision` ignores JOOLD_ADVERTISE: the daemon reads the table and sends it. */
  const dumped = (revision: number): Case => ({
    name: `4.1.${revision}: read from the table`,
    version: joolVersion(4, 1, revision),
    commands: [SESSION_FOREACH],
    // 140-byte sessions, ten a datagram.
    log: `info: Advertised the session table (${reason}): 75 sessions in 8 datagrams, ` +
      `read from the table because Jool 4.1.${revision}.0 ignores JOOLD_ADVERTISE`,
    advertised: [75, 8],
  });
  /** JOOLD_ADVERTISE: the kernel multicasts the table, the relay sends it on. */
  const advertised = (revision: number, moduleVersion?: null): Case => ({
    name: `4.1.${revision}${moduleVersion === null ? ", version unknown" : ""}: JOOLD_ADVERTISE`,
    version: joolVersion(4, 1, revision),
    moduleVersion,
    commands: [JOOLD_ADVERTISE, JOOLD_ACK],
    log: `info: Advertised the session table (${reason})`,
    advertised: [0, 0],
  });
  const cases = [dumped(9), dumped(10), advertised(11), advertised(13), advertised(15, null)];
  for (const c of cases) {
    const harness = await syncHarness({
      version: c.version,
      moduleVersion: c.moduleVersion,
      sessions: TABLE,
    });
    const { jool, counters, clock, sync, logs } = harness;
    await whileTimePasses(clock, sync.advertiser.advertise(reason));
    const commands = jool.commands().filter((command, i, all) => command !== all[i - 1]);
    assert.deepEqual(commands, c.commands, c.name);
    assert.deepEqual(portsSent(harness), TABLE_PORTS, c.name);
    assert.deepEqual(logs.filter((line) => line.includes("Advertised")), [c.log], c.name);
    assert.deepEqual([counters.advertisements, counters.resyncAnswers], [1, 1], c.name);
    assert.deepEqual(
      [counters.advertisedSessions, counters.advertisedDatagrams],
      c.advertised,
      c.name,
    );
  }
});

Deno.test("one table dump serves the requests that come while it runs", async () => {
  const { jool, clock, sync, logs, channel } = await syncHarness({
    version: joolVersion(4, 1, 9),
    sessions: TABLE,
  });
  const first = sync.advertiser.advertise("resync requested by a");
  const second = sync.advertiser.advertise("resync requested by b");
  await whileTimePasses(clock, Promise.all([first, second]));
  assert.deepEqual(logs, [
    "info: Already sending the session table to the group; that serves resync requested by b too",
    "info: Advertised the session table (resync requested by a): 75 sessions in 8 datagrams, " +
    "read from the table because Jool 4.1.9.0 ignores JOOLD_ADVERTISE",
  ]);
  assert.equal(channel.sent.length, 8);
  // TCP (one page), UDP (two pages of 57 at most), ICMP (empty).
  assert.equal(jool.commands().length, 4);
});

Deno.test("a refused advertisement is logged, whichever way it was made", async () => {
  const cases: { name: string; version: number; refused: number; log: string }[] = [
    {
      name: "JOOLD_ADVERTISE",
      version: joolVersion(4, 1, 13),
      refused: JOOLD_ADVERTISE,
      log: "error: Cannot advertise the session table (resync requested by a): Advertising " +
        "the session table failed: the kernel said: Try again later. (error 11)",
    },
    {
      name: "SESSION_FOREACH",
      version: joolVersion(4, 1, 9),
      refused: SESSION_FOREACH,
      log: "error: Cannot advertise the session table (resync requested by a): Reading " +
        "the session table failed: the kernel said: Try again later. (error 11)",
    },
  ];
  for (const c of cases) {
    const { jool, clock, sync, logs } = await syncHarness({ version: c.version, sessions: TABLE });
    jool.refuse(c.refused, 11, "Try again later.");
    await whileTimePasses(clock, sync.advertiser.advertise("resync requested by a"));
    assert.deepEqual(logs, [c.log], c.name);
  }
});

Deno.test("once closed, the advertiser advertises nothing", async () => {
  const { jool, sync, counters } = await syncHarness({ version: joolVersion(4, 1, 13) });
  sync.advertiser.close();
  await sync.advertiser.advertise("resync requested by a");
  assert.deepEqual([jool.commands(), counters.advertisements], [[], 0]);
});

Deno.test("an overrun re-advertises the table, at most once per interval", async () => {
  for (const version of [joolVersion(4, 1, 9), joolVersion(4, 1, 13)]) {
    const harness = await syncHarness({ version, sessions: TABLE });
    const { jool, link, clock, counters, logs } = harness;
    const overrunLine =
      "error: The kernel dropped session batches: the netlink receive buffer overflowed (ENOBUFS)";
    link.overrun();
    await letTimePass(clock, 20);
    link.overrun(); // within the interval: counted and ACKed, not advertised again
    await letTimePass(clock, 20);
    clock.advance(OVERRUN_ADVERTISE_INTERVAL_MS - 60);
    assert.deepEqual([counters.kernelOverruns, counters.advertisements], [2, 1], `${version}`);
    assert.deepEqual(portsSent(harness), TABLE_PORTS);
    await letTimePass(clock, 20);
    link.overrun();
    await letTimePass(clock, 20);
    assert.deepEqual([counters.kernelOverruns, counters.advertisements], [3, 2], `${version}`);
    assert.equal(logs.filter((line) => line === overrunLine).length, 3);
    assert.equal(
      logs.filter((line) => line.includes("(netlink overrun lost batches)")).length,
      2,
    );
    // Each overrun ACKs the batch the kernel never got an ACK for.
    assert.ok(jool.commands().filter((command) => command === JOOLD_ACK).length >= 3);
  }
});

Deno.test("sends that fail and work again, again and again: the table is offered once per interval", async () => {
  const version = joolVersion(4, 1, 13);
  const { jool, channel, clock, sync } = await syncHarness({ version, sessions: TABLE });
  const advertisements = () => jool.commands().filter((command) => command === JOOLD_ADVERTISE);
  const batch = encodeSessions([sampleUdpSession(1)], sessionEncodingFor(version));
  for (let flap = 0; flap < 5; flap++) {
    channel.sendOutcome = "buffer full";
    jool.multicast(batch);
    channel.sendOutcome = "sent";
    jool.multicast(batch); // works again: the failed one's sessions need the table
    await letTimePass(clock, 100);
  }
  assert.equal(advertisements().length, 1, "one at once; the rest wait for the interval");
  clock.advance(OWN_ADVERTISE_INTERVAL_MS);
  await settle();
  assert.equal(advertisements().length, 2, "one more at its end serves them all");
  clock.advance(OWN_ADVERTISE_INTERVAL_MS);
  await settle();
  assert.equal(advertisements().length, 2);
  sync.advertiser.close();
});

Deno.test("after a start the table is offered once, after the resync exchange; not once closed", async () => {
  const version = joolVersion(4, 1, 13);
  const started = await syncHarness({ version, sessions: TABLE });
  const advertisements = (h: SyncHarness) =>
    h.jool.commands().filter((command) => command === JOOLD_ADVERTISE).length;
  let told = 0;
  started.sync.advertiser.onAdvertise = () => told++;
  started.sync.advertiser.offerAfterStart();
  started.clock.advance(START_OFFER_DELAY_MS - 1);
  await settle();
  assert.equal(advertisements(started), 0);
  started.clock.advance(1);
  await settle();
  assert.equal(advertisements(started), 1);
  assert.equal(told, 1);
  assert.ok(
    started.logs.includes(
      "info: Advertised the session table (this daemon started: sessions made while none " +
        "relayed them)",
    ),
  );
  const stopped = await syncHarness({ version, sessions: TABLE });
  stopped.sync.advertiser.offerAfterStart();
  stopped.sync.advertiser.close();
  stopped.clock.advance(START_OFFER_DELAY_MS);
  await settle();
  assert.equal(advertisements(stopped), 0);
});

Deno.test("a table dump counts each datagram as it goes out: the stats add up in the middle of one", async () => {
  const { counters, clock, sync, channel } = await syncHarness({
    version: joolVersion(4, 1, 9),
    sessions: TABLE,
  });
  const done = sync.advertiser.advertise("a peer started");
  let seenMidway = false;
  while (channel.sent.length < 8) {
    await letTimePass(clock, 1);
    assert.equal(counters.advertisedDatagrams, channel.sent.length, "counted as sent");
    if (channel.sent.length > 0 && channel.sent.length < 8) seenMidway = true;
  }
  await whileTimePasses(clock, done);
  assert.ok(seenMidway, "the dump was seen half done");
  assert.equal(counters.advertisedDatagrams, 8);
});

Deno.test("an offer for the kernel's drops is not held back by a start's offer just before", async () => {
  const version = joolVersion(4, 1, 13);
  const { jool, clock, sync } = await syncHarness({ version, sessions: TABLE });
  const advertisements = () => jool.commands().filter((command) => command === JOOLD_ADVERTISE);
  sync.advertiser.offerAfterStart();
  clock.advance(START_OFFER_DELAY_MS);
  await settle();
  assert.equal(advertisements().length, 1, "the start's offer");
  clock.advance(5_000);
  sync.advertiser.offerForKernelDrops("the kernel dropped 1,181 sessions");
  await settle();
  assert.equal(advertisements().length, 2, "the drops' offer goes at once");
  sync.advertiser.offerForKernelDrops("the kernel dropped 12 sessions");
  await settle();
  assert.equal(advertisements().length, 2, "its own pace: the next waits for the interval");
  clock.advance(OWN_ADVERTISE_INTERVAL_MS);
  await settle();
  assert.equal(advertisements().length, 3);
  sync.advertiser.close();
});

Deno.test("sealed, a table dump's datagrams fit one packet with their seal and a RESEND's header", async () => {
  const { sync, clock, channel } = await syncHarness({
    version: joolVersion(4, 1, 9),
    sessions: TABLE,
    datagramOverhead: SEALED_OVERHEAD,
  });
  await whileTimePasses(clock, sync.advertiser.advertise("resync requested by a"));
  const limit = sealedDatagramBytes(SEALED_OVERHEAD);
  assert.ok(channel.sent.length > 0);
  for (const datagram of channel.sent) {
    assert.ok(datagram.byteLength <= limit, `${datagram.byteLength} > ${limit}`);
  }
});
