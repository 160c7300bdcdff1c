/**
 * The relay path's warm-up: it runs the whole path (kernel batch to ACK,
 * datagram, checks, JOOLD_ADD) on every Jool encoding, and leaves the
 * daemon's kernel link, group, counters and logs alone.
 */

import assert from "node:assert/strict";
import { joolVersion } from "../jool/header.ts";
import { encodeSessions, sessionEncodingFor } from "../jool/session.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { settle, syncHarness } from "../../tests/support/sync_harness.ts";
import { warmUpRelayPath } from "./warm_up.ts";

/** Each 4.1 encoding (nested, raw48, raw36) and the newest release. */
const VERSIONS = [
  joolVersion(4, 1, 9),
  joolVersion(4, 1, 12),
  joolVersion(4, 1, 13),
  joolVersion(4, 1, 15),
];

Deno.test("the warm-up runs a batch from the kernel's message to JOOLD_ADD, twice, without errors", async () => {
  for (const version of [...VERSIONS, null]) {
    const { clock } = await syncHarness({ version: joolVersion(4, 1, 9) });
    assert.deepEqual(
      warmUpRelayPath(version, "default", clock),
      // one ACK, one datagram and one add per round
      { acks: 2, datagrams: 2, adds: 2, errors: 0 },
      `version ${version}`,
    );
  }
});

Deno.test("with sealing, the warm-up takes the gathering way and still goes all the way", async () => {
  for (const version of VERSIONS) {
    const { clock } = await syncHarness({ version: joolVersion(4, 1, 9) });
    assert.deepEqual(
      warmUpRelayPath(version, "default", clock, 32),
      { acks: 2, datagrams: 2, adds: 2, errors: 0 },
      `version ${version}`,
    );
    assert.equal(clock.timers.size, 0, "no gathering timer left behind");
  }
});

Deno.test("the warm-up sends nothing to the kernel or the group and counts and logs nothing", async () => {
  for (const version of VERSIONS) {
    const { jool, channel, counters, measures, logs, clock } = await syncHarness({ version });
    const commandsBefore = jool.commands();
    const countersBefore = JSON.stringify(counters);
    const ackLatenciesBefore = measures.ackLatency.count;

    warmUpRelayPath(version, jool.instance, clock);
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
  const { jool, channel, counters, clock } = await syncHarness({ version });
  warmUpRelayPath(version, jool.instance, clock);
  const payload = encodeSessions([sampleUdpSession(0)], sessionEncodingFor(version));

  jool.multicast(payload);
  await settle();

  assert.deepEqual(channel.sent, [payload]);
  assert.equal(counters.kernelSentPackets, 1);
});
