/**
 * The network-to-kernel relay on an in-memory group and a fake Jool: what
 * reaches the kernel, what the filter drops, the per-peer counts, and the
 * kernel's and the socket's errors.
 */

import { OTHER_PEERS } from "../stats/peers.ts";
import assert from "node:assert/strict";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import { joolVersion } from "../jool/header.ts";
import { ALL_SESSION_ENCODINGS, encodeSessions, type SessionEncoding } from "../jool/session.ts";
import { parseIPv6 } from "../net/ip.ts";
import { MAX_DATAGRAMS_PER_WAKE } from "../net/drain.ts";
import { SS_DISABLED_TEXT } from "../../tests/support/fake_jool.ts";
import { peerAddress } from "../../tests/support/memory_peer_channel.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { settle, syncHarness } from "../../tests/support/sync_harness.ts";

const JOOL_4_1_9 = joolVersion(4, 1, 9);
const JOOL_4_1_12 = joolVersion(4, 1, 12);
const JOOL_4_1_13 = joolVersion(4, 1, 13);
const PEER = peerAddress(1);
const PEER_NAME = "[2001:db8::1]:6464";

function sessions(count: number, encoding: SessionEncoding = "raw36-4.1.13"): Uint8Array {
  return encodeSessions(Array.from({ length: count }, (_, i) => sampleUdpSession(i)), encoding);
}

Deno.test("a peer's datagram goes to the kernel as is, counted in total and per peer", async () => {
  const { jool, channel, counters, measures, clock, sync, logs } = await syncHarness({
    version: JOOL_4_1_13,
  });
  const datagram = sessions(3);
  clock.advance(2000);
  channel.deliver(datagram, PEER);
  channel.deliver(datagram, PEER);
  sync.toKernel.drain();
  assert.deepEqual(jool.added, [datagram, datagram]);
  assert.deepEqual(
    [counters.netReceivedPackets, counters.netReceivedBytes, counters.kernelAdds],
    [2, 2 * datagram.byteLength, 2],
  );
  assert.deepEqual(measures.peers.snapshot(), {
    [PEER_NAME]: {
      datagrams: 2,
      bytes: 2 * datagram.byteLength,
      dropped: 0,
      lastSeenMs: clock.now(),
      converted: {},
    },
  });
  assert.equal(measures.lastSyncMs, clock.now());
  assert.deepEqual(logs, []);
});

Deno.test("a large datagram (sealed batches gathered) reaches the kernel in requests of at most 1452 bytes", async () => {
  const { jool, channel, counters, sync } = await syncHarness({ version: JOOL_4_1_13 });
  const datagram = sessions(100); // 40-byte entries: 36 + 36 + 28
  channel.deliver(datagram, PEER);
  sync.toKernel.drain();
  assert.deepEqual(jool.added.map((add) => add.byteLength), [1440, 1440, 1120]);
  assert.deepEqual(new Uint8Array(jool.added.flatMap((add) => [...add])), datagram);
  assert.equal(counters.kernelAdds, 1, "one datagram handed to the kernel");
});

Deno.test("the filter drops what the kernel must not get, and says why", async () => {
  const cases: {
    name: string;
    /** The module's version as the daemon knows it (null: not yet). */
    moduleVersion: number | null;
    data: Uint8Array;
    fullLength?: number;
    problem: RegExp;
  }[] = [
    {
      name: "empty",
      moduleVersion: JOOL_4_1_13,
      data: new Uint8Array(0),
      problem: /: empty datagram$/,
    },
    {
      name: "cut by the socket",
      moduleVersion: JOOL_4_1_13,
      data: sessions(1),
      fullLength: 70_000,
      problem: /: too large \(70000 bytes\)$/,
    },
    {
      name: "a raw36 batch for a nested kernel whose pool6 is unknown",
      moduleVersion: JOOL_4_1_9,
      data: sessions(1, "raw36-4.1.13"),
      problem:
        /: a raw36-4\.1\.13 batch for a nested-4\.1\.0 kernel: Cannot convert session entries: nested-4\.1\.0 needs dst6, which raw36-4\.1\.13 does not carry, and the local pool6 prefix is unknown$/,
    },
    {
      name: "garbage, with the encoding known",
      moduleVersion: JOOL_4_1_13,
      data: sessions(1, "nested-4.1.0").subarray(0, 100),
      problem: /: session 0: /,
    },
    {
      name: "garbage, with the encoding not known yet",
      moduleVersion: null,
      data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7),
      problem: /: not a session batch in any Jool 4\.1 encoding \(/,
    },
  ];
  for (const c of cases) {
    const { jool, channel, counters, measures, sync, logs } = await syncHarness({
      version: JOOL_4_1_13,
      moduleVersion: c.moduleVersion,
    });
    channel.deliver(c.data, PEER, c.fullLength);
    sync.toKernel.drain();
    assert.deepEqual(jool.added, [], c.name);
    assert.deepEqual([counters.netDropped, counters.kernelAdds], [1, 0], c.name);
    // A sender with nothing valid yet gets no entry of its own.
    assert.deepEqual(Object.keys(measures.peers.snapshot()), [OTHER_PEERS], c.name);
    assert.equal(measures.peers.find(PEER_NAME).dropped, 1, c.name);
    assert.equal(logs.length, 1, c.name);
    assert.match(logs[0], new RegExp(`^warning: Dropped a datagram from \\[2001:db8::1\\]:6464`));
    assert.match(logs[0], c.problem, c.name);
  }
});

Deno.test("before the module's version is known, any 4.1 encoding goes to the kernel", async () => {
  const { jool, channel, sync } = await syncHarness({ version: JOOL_4_1_13, moduleVersion: null });
  for (const encoding of ALL_SESSION_ENCODINGS) channel.deliver(sessions(2, encoding), PEER);
  sync.toKernel.drain();
  assert.equal(jool.added.length, ALL_SESSION_ENCODINGS.length);
});

Deno.test("each peer is counted on its own once it sent a valid datagram; the rest as 'other'", async () => {
  const { channel, measures, sync } = await syncHarness({ version: JOOL_4_1_13 });
  const good = sessions(2);
  channel.deliver(good, PEER);
  channel.deliver(new Uint8Array(0), peerAddress(2));
  channel.deliver(good, peerAddress(2));
  channel.deliver(good, null);
  sync.toKernel.drain();
  const peers = measures.peers.snapshot();
  const counts = Object.fromEntries(
    Object.entries(peers).map(([name, peer]) => [name, [peer.datagrams, peer.bytes, peer.dropped]]),
  );
  assert.deepEqual(counts, {
    [PEER_NAME]: [1, good.byteLength, 0],
    "[2001:db8::2]:6464": [1, good.byteLength, 0],
    "an unknown peer": [1, good.byteLength, 0],
    [OTHER_PEERS]: [1, 0, 1],
  });
});

Deno.test("the kernel's refusal and a failed JOOLD_ADD are logged with the peer", async () => {
  const refusing = await syncHarness({ version: JOOL_4_1_13 });
  refusing.jool.ssEnabled = false;
  refusing.channel.deliver(sessions(1), PEER);
  refusing.sync.toKernel.drain();
  await settle();
  assert.equal(refusing.counters.kernelErrors, 1);
  assert.deepEqual(refusing.logs, [
    `error: The kernel refused sessions from ${PEER_NAME}: ${SS_DISABLED_TEXT} (error 22)`,
  ]);

  const saturated = await syncHarness({ version: JOOL_4_1_13 });
  saturated.jool.kernel.sendFailure = new SyscallError(
    "sendto(netlink)",
    Errno.EAGAIN,
    "Resource temporarily unavailable",
  );
  saturated.channel.deliver(sessions(1), PEER);
  saturated.channel.deliver(sessions(1), PEER);
  saturated.sync.toKernel.drain();
  assert.deepEqual([saturated.counters.kernelErrors, saturated.measures.lastSyncMs], [2, 0]);
  const failed = `error: Cannot hand sessions from ${PEER_NAME} to the kernel: ` +
    "sendto(netlink) failed: EAGAIN (Resource temporarily unavailable)";
  assert.deepEqual(saturated.logs, [failed, failed]);
});

Deno.test("a wake-up reads a bounded number of datagrams; a receive error ends it", async () => {
  const { jool, channel, sync, logs } = await syncHarness({ version: JOOL_4_1_13 });
  const datagram = sessions(1);
  for (let i = 0; i < MAX_DATAGRAMS_PER_WAKE + 10; i++) channel.deliver(datagram, PEER);
  sync.toKernel.drain();
  assert.deepEqual([jool.added.length, channel.queued], [MAX_DATAGRAMS_PER_WAKE, 10]);
  sync.toKernel.drain();
  assert.equal(channel.queued, 0);

  channel.failReceive(new SyscallError("recvfrom(multicast)", Errno.ENOMEM, "out of memory"));
  channel.deliver(datagram, PEER);
  sync.toKernel.drain();
  assert.deepEqual(logs, [
    "error: Error receiving from the network: recvfrom(multicast) failed: ENOMEM (out of memory)",
  ]);
  assert.equal(channel.queued, 1, "the next wake-up reads on");
});

Deno.test("a batch in another 4.1 encoding is converted to the kernel's, counted per peer and encoding", async () => {
  const versions: [number, SessionEncoding][] = [
    [JOOL_4_1_9, "nested-4.1.0"],
    [JOOL_4_1_12, "raw48-4.1.12"],
    [JOOL_4_1_13, "raw36-4.1.13"],
  ];
  for (const [version, local] of versions) {
    const { jool, channel, counters, measures, local: localJool, sync, logs } = await syncHarness({
      version,
    });
    localJool.pool6 = { address: parseIPv6("64:ff9b::")!, length: 96 };
    const foreign = versions.map(([, encoding]) => encoding).filter((e) => e !== local);
    for (const encoding of foreign) channel.deliver(sessions(2, encoding), PEER);
    sync.toKernel.drain();
    // sampleUdpSession's dst6 is pool6 + dst4, so nothing is lost either way.
    assert.deepEqual(jool.added, [sessions(2, local), sessions(2, local)], local);
    assert.deepEqual([counters.netConverted, counters.netDropped], [2, 0], local);
    assert.deepEqual(
      measures.peers.snapshot()[PEER_NAME].converted,
      Object.fromEntries(foreign.map((encoding) => [encoding, 1])),
      local,
    );
    assert.deepEqual(logs, [], local);
  }
});

Deno.test("valid datagrams name their sender to onSessions (the resync waits for them); dropped ones do not", async () => {
  const { channel, sync } = await syncHarness({ version: JOOL_4_1_13 });
  const origins: string[] = [];
  sync.toKernel.onSessions = (origin) => origins.push(origin);
  channel.deliver(new Uint8Array([1, 2, 3]), peerAddress(2));
  channel.deliver(sessions(1), PEER);
  sync.toKernel.drain();
  assert.deepEqual(origins, [PEER_NAME]);
});
