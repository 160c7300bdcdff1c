/**
 * The relay path's warm-up: it runs the whole path (kernel batch to ACK,
 * datagram, checks, JOOLD_ADD) on every Jool encoding, and leaves the
 * daemon's kernel link, group, counters, measures and logs, which it is
 * given, alone.
 */

import assert from "node:assert/strict";
import { joolVersion } from "../jool/header.ts";
import { ALL_SESSION_ENCODINGS, encodeSessions, sessionEncodingFor } from "../jool/session.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { settle, syncHarness } from "../../tests/support/sync_harness.ts";
import { warmUpRelayPath, warmUpShortfall } from "./warm_up.ts";

/** Each 4.1 encoding (nested, raw48, raw36) and the newest release. */
const VERSIONS = [
  joolVersion(4, 1, 9),
  joolVersion(4, 1, 12),
  joolVersion(4, 1, 13),
  joolVersion(4, 1, 15),
];

Deno.test("the versions tried cover every session encoding", () => {
  assert.deepEqual(new Set(VERSIONS.map(sessionEncodingFor)), new Set(ALL_SESSION_ENCODINGS));
});

Deno.test("the warm-up runs a batch from the kernel's message to JOOLD_ADD, twice, without errors", async () => {
  for (const version of [...VERSIONS, null]) {
    const daemon = await syncHarness({ version: joolVersion(4, 1, 9) });
    const result = warmUpRelayPath(version, "default", daemon);
    // one ACK, one datagram and one add per round
    assert.deepEqual(result, { acks: 2, datagrams: 2, adds: 2, errors: 0 }, `version ${version}`);
    assert.equal(warmUpShortfall(result), null);
  }
  assert.equal(
    warmUpShortfall({ acks: 2, datagrams: 2, adds: 1, errors: 1 }),
    "2 ACKs, 2 datagrams, 1 adds and 1 errors in 2 rounds",
  );
});

Deno.test("with sealing, the warm-up takes the gathering way and still goes all the way", async () => {
  for (const version of VERSIONS) {
    const daemon = await syncHarness({ version: joolVersion(4, 1, 9) });
    const { clock } = daemon;
    assert.deepEqual(
      warmUpRelayPath(version, "default", daemon, 32),
      { acks: 2, datagrams: 2, adds: 2, errors: 0 },
      `version ${version}`,
    );
    assert.equal(clock.timers.size, 0, "no gathering timer left behind");
  }
});

Deno.test("the warm-up sends nothing to the kernel or the group and counts and logs nothing", async () => {
  for (const version of VERSIONS) {
    const daemon = await syncHarness({ version });
    const { jool, channel, counters, measures, logs } = daemon;
    const commandsBefore = jool.commands();
    const countersBefore = JSON.stringify(counters);
    const ackLatenciesBefore = measures.ackLatency.count;

    warmUpRelayPath(version, jool.instance, daemon);
    await settle();

    assert.deepEqual(jool.commands(), commandsBefore, `version ${version}: kernel requests`);
    assert.deepEqual(jool.added, [], `version ${version}: sessions added`);
    assert.deepEqual(channel.sent, [], `version ${version}: datagrams sent`);
    assert.equal(JSON.stringify(counters), countersBefore, `version ${version}: counters`);
    assert.equal(measures.ackLatency.count, ackLatenciesBefore, `version ${version}: ACK times`);
    assert.deepEqual(logs, [], `version ${version}: log lines`);
  }
});

Deno.test("after the warm-up the daemon's own path relays a batch as before", async () => {
  const version = joolVersion(4, 1, 9);
  const daemon = await syncHarness({ version });
  const { jool, channel, counters } = daemon;
  warmUpRelayPath(version, jool.instance, daemon);
  const payload = encodeSessions([sampleUdpSession(0)], sessionEncodingFor(version));

  jool.multicast(payload);
  await settle();

  assert.deepEqual(channel.sent, [payload]);
  assert.equal(counters.kernelSentPackets, 1);
});
