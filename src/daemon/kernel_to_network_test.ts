/**
 * The kernel-to-network relay on a fake Jool and an in-memory group: the
 * ACK before the relay, splitting, the encoding learnt from the first
 * batch, and what a failed send costs.
 */

import assert from "node:assert/strict";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import { joolVersion } from "../jool/header.ts";
import { JoolOperation } from "../jool/protocol.ts";
import { ALL_SESSION_ENCODINGS, encodeSessions, sessionEncodingFor } from "../jool/session.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { settle, syncHarness } from "../../tests/support/sync_harness.ts";
import { concat } from "../../tests/support/fake_jool.ts";
import { SEALED_COALESCE_MS, sealedDatagramBytes } from "./kernel_to_network.ts";

const VERSIONS = [joolVersion(4, 1, 9), joolVersion(4, 1, 12), joolVersion(4, 1, 13)];

/** `count` sessions in the encoding of Jool `version`. */
function sessions(count: number, version: number): Uint8Array {
  const all = Array.from({ length: count }, (_, i) => sampleUdpSession(i));
  return encodeSessions(all, sessionEncodingFor(version));
}

Deno.test("a batch is ACKed before its first datagram leaves, on every Jool encoding", async () => {
  assert.deepEqual(new Set(VERSIONS.map(sessionEncodingFor)), new Set(ALL_SESSION_ENCODINGS));
  for (const version of VERSIONS) {
    const { jool, channel, counters, measures, clock } = await syncHarness({ version });
    const commandsAtSend: number[][] = [];
    channel.onSend = () => commandsAtSend.push(jool.commands());
    const payload = sessions(10, version);
    clock.advance(1500);
    jool.multicast(payload);
    assert.deepEqual(commandsAtSend, [[JoolOperation.JOOLD_ACK]], `${version}`);
    assert.deepEqual(channel.sent, [payload], "an ordinary batch goes as it came");
    assert.deepEqual(
      [counters.kernelAcks, counters.kernelSentPackets, counters.netSentPackets],
      [1, 1, 1],
    );
    assert.equal(counters.netSentBytes, payload.byteLength);
    assert.equal(measures.relayLatency.count, 1);
    assert.equal(measures.lastSyncMs, clock.now());
  }
});

Deno.test("a large batch goes as datagrams of whole sessions, together the batch", async () => {
  const cases: { name: string; version: number; sessions: number; datagrams: number[] }[] = [
    // 140-byte entries: ten fill 1452 bytes.
    {
      name: "4.1.9, 14 sessions (1960 bytes): one",
      version: joolVersion(4, 1, 9),
      sessions: 14,
      datagrams: [1960],
    },
    {
      name: "4.1.9, a raised ss-max-payload's 25 sessions: 10 + 10 + 5",
      version: joolVersion(4, 1, 9),
      sessions: 25,
      datagrams: [1400, 1400, 700],
    },
    // 40-byte entries: 36 fill 1440 bytes.
    {
      name: "4.1.13, 36 sessions: one",
      version: joolVersion(4, 1, 13),
      sessions: 36,
      datagrams: [1440],
    },
    {
      name: "4.1.13, 60 sessions: 36 + 24",
      version: joolVersion(4, 1, 13),
      sessions: 60,
      datagrams: [1440, 960],
    },
  ];
  for (const c of cases) {
    const { jool, channel, counters } = await syncHarness({ version: c.version });
    const payload = sessions(c.sessions, c.version);
    jool.multicast(payload);
    assert.deepEqual(channel.sent.map((datagram) => datagram.byteLength), c.datagrams, c.name);
    assert.deepEqual(new Uint8Array(channel.sent.flatMap((datagram) => [...datagram])), payload);
    assert.equal(counters.netSentPackets, c.datagrams.length, c.name);
  }
});

Deno.test("with the module's version unknown, the first batch sets the peers' encoding", async () => {
  const version = joolVersion(4, 1, 13);
  const { jool, local, logs } = await syncHarness({ version, moduleVersion: null });
  assert.equal(local.filter.encoding, null);
  jool.multicast(sessions(1, version));
  jool.multicast(sessions(2, version));
  assert.equal(local.version, version);
  assert.equal(local.filter.encoding, "raw36-4.1.13");
  assert.deepEqual(logs, ["info: Peers' sessions must be in the raw36-4.1.13 encoding"]);
});

Deno.test("a send that fails is counted and logged; the relay goes on", async () => {
  const cases: {
    name: string;
    outcome: "buffer full" | Error;
    log: string;
  }[] = [
    {
      name: "send buffer full",
      outcome: "buffer full",
      log: "error: Dropped 1400 bytes of sessions: the multicast socket's send buffer is full",
    },
    {
      name: "no route",
      outcome: new SyscallError("sendto(multicast)", Errno.ENETUNREACH, "network unreachable"),
      log: "error: Cannot send 1400 bytes of sessions to the group: " +
        "sendto(multicast) failed: ENETUNREACH (network unreachable)",
    },
  ];
  for (const c of cases) {
    const version = joolVersion(4, 1, 9);
    const { jool, channel, counters, measures, logs } = await syncHarness({ version });
    channel.sendOutcome = c.outcome;
    jool.multicast(sessions(10, version));
    assert.deepEqual(logs, [c.log], c.name);
    assert.deepEqual([counters.netSendFailures, counters.netSentPackets], [1, 0], c.name);
    assert.deepEqual([measures.relayLatency.count, measures.lastSyncMs], [0, 0], c.name);
    channel.sendOutcome = "sent";
    jool.multicast(sessions(10, version));
    assert.equal(counters.netSentPackets, 1, c.name);
  }
});

Deno.test("a lasting send failure: one log line per interval, and the table advertised once sends work again", async () => {
  const version = joolVersion(4, 1, 13);
  const { jool, channel, counters, logs, clock } = await syncHarness({ version });
  channel.sendOutcome = new SyscallError("sendto(multicast)", Errno.ENETUNREACH, "unreachable");
  for (let i = 0; i < 50; i++) jool.multicast(sessions(10, version));
  assert.equal(counters.netSendFailures, 50);
  assert.equal(logs.filter((line) => line.startsWith("error: Cannot send")).length, 1);
  clock.advance(10_000);
  jool.multicast(sessions(10, version));
  assert.match(logs.at(-1)!, /\(and 49 more failures since the last report\)$/);
  const commandsBefore = jool.commands().length;
  channel.sendOutcome = "sent";
  jool.multicast(sessions(10, version));
  await settle();
  assert.ok(logs.includes("info: Sending to the group works again, after 51 failed datagrams"));
  assert.ok(
    jool.commands().slice(commandsBefore).includes(JoolOperation.JOOLD_ADVERTISE),
    "the table is advertised: the lost sessions were ACKed already",
  );
});

Deno.test("sealed: a batch larger than a packet goes as datagrams of whole sessions that fit one", async () => {
  // 1500 bytes = IPv6 and UDP headers, the seal, a RESEND's header, and the sessions.
  assert.equal(48 + 32 + 32 + sealedDatagramBytes(32), 1500);
  const cases: { version: number; sessions: number; full: number[]; last: number }[] = [
    // 140-byte entries: 9 fit 1388 bytes; 240 sessions are 26 datagrams of 9 and 6 left.
    { version: joolVersion(4, 1, 9), sessions: 240, full: Array(26).fill(1260), last: 840 },
    // 40-byte entries: 34 fit; Jool 4.1.13's full batch of 36 (1440 bytes) is 34 and 2.
    { version: joolVersion(4, 1, 13), sessions: 36, full: [1360], last: 80 },
  ];
  for (const c of cases) {
    const { jool, channel, clock } = await syncHarness({
      version: c.version,
      datagramOverhead: 32,
    });
    const batch = sessions(c.sessions, c.version);
    jool.multicast(batch);
    assert.deepEqual(channel.sent.map((d) => d.byteLength), c.full, "the full ones at once");
    clock.advance(SEALED_COALESCE_MS);
    assert.deepEqual(channel.sent.map((d) => d.byteLength), [...c.full, c.last]);
    assert.ok(concat(channel.sent).every((byte, i) => byte === batch[i]), "together the batch");
  }
});

Deno.test("sealed: the batches of 5 ms go as one sealed datagram, each ACKed at once", async () => {
  const version = joolVersion(4, 1, 9);
  const { jool, channel, counters, measures, clock } = await syncHarness({
    version,
    datagramOverhead: 32,
  });
  const batches = [sessions(3, version), sessions(4, version), sessions(5, version)];
  jool.multicast(batches[0]);
  clock.advance(2);
  jool.multicast(batches[1]);
  assert.equal(counters.kernelAcks, 2, "ACKed as they come");
  assert.deepEqual(channel.sent, [], "gathered, not sent yet");
  clock.advance(SEALED_COALESCE_MS - 2);
  assert.deepEqual(
    channel.sent,
    [concat([batches[0], batches[1]])],
    "sent when the first is 5 ms old",
  );
  assert.equal(measures.relayLatency.count, 2, "one relay latency per batch");
  jool.multicast(batches[2]);
  clock.advance(SEALED_COALESCE_MS);
  assert.deepEqual(channel.sent.at(-1), batches[2]);
  assert.equal(counters.netSentPackets, 2);
});

Deno.test("sealed: a batch that finds the gathered ones 5 ms old sends them, timers late or not", async () => {
  const version = joolVersion(4, 1, 9);
  const { jool, channel, clock } = await syncHarness({ version, datagramOverhead: 32 });
  const first = sessions(3, version);
  const second = sessions(4, version);
  jool.multicast(first);
  clock.monotonicMs += SEALED_COALESCE_MS; // the event loop's timers did not run
  jool.multicast(second);
  assert.deepEqual(channel.sent, [concat([first, second])]);
});

Deno.test("sealed: gathering stops at a packet's size; the order is kept", async () => {
  const version = joolVersion(4, 1, 9);
  const { jool, channel, clock } = await syncHarness({ version, datagramOverhead: 32 });
  const [a, b, c] = [sessions(5, version), sessions(5, version), sessions(3, version)]; // 700, 700, 420
  jool.multicast(a);
  jool.multicast(b);
  assert.deepEqual(channel.sent, [a], "the second would not fit: the first went");
  jool.multicast(c);
  clock.advance(SEALED_COALESCE_MS);
  assert.deepEqual(channel.sent, [a, concat([b, c])]);
});

Deno.test("sealed: flush() (the daemon stopping) sends what was gathered", async () => {
  const version = joolVersion(4, 1, 9);
  const { jool, channel, sync } = await syncHarness({ version, datagramOverhead: 32 });
  const batch = sessions(3, version);
  jool.multicast(batch);
  sync.toNetwork.flush();
  assert.deepEqual(channel.sent, [batch]);
});
