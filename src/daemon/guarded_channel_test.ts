/**
 * The guarded channel on an in-memory group: sealed sends, opened receives,
 * and every drop (not authentic, replay, unknown sender) counted in total
 * and per peer and logged with the sender's name.
 */

import assert from "node:assert/strict";
import {
  type AuthKey,
  DatagramOpener,
  DatagramSealer,
  type KeyRing,
} from "../auth/sealed_datagram.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { OTHER_PEERS } from "../stats/peers.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { MemoryPeerChannel, peerAddress } from "../../tests/support/memory_peer_channel.ts";
import { DropReporter } from "./drop_report.ts";
import {
  addressKey,
  type ChannelGuards,
  GuardedChannel,
  OPEN_ATTEMPT_COST_BYTES,
  OPEN_BUDGET_BYTES,
} from "./guarded_channel.ts";
import { OpenGate, UNPROVEN_OPEN_LIMITS } from "../auth/open_gate.ts";
import { SyncMeasures } from "./measures.ts";
import { loadChaCha20Poly1305 } from "../auth/chacha20_poly1305.ts";

const AEAD = await loadChaCha20Poly1305();
const KEY: AuthKey = { id: 1, secret: new Uint8Array(32).fill(7) };
const WRONG: AuthKey = { id: 1, secret: new Uint8Array(32).fill(8) };
const RING: KeyRing = { current: KEY, accepted: new Map([[1, KEY]]) };
const PAYLOAD = Uint8Array.of(1, 2, 3, 4);

function setUp(
  guards: Partial<ChannelGuards>,
  label: "sync" | "control" = "sync",
  clock = new ManualClock(),
) {
  const inner = new MemoryPeerChannel();
  const counters = new SyncCounters();
  const measures = new SyncMeasures(clock.now());
  const lines: string[] = [];
  const logger = new LevelLogger("debug", (_level, line) => lines.push(line));
  const drops = new DropReporter(logger, clock);
  const channel = new GuardedChannel(
    inner,
    { sealer: null, opener: null, allowedSenders: null, ...guards },
    { counters, measures, drops, clock, label },
  );
  return { inner, channel, counters, measures, lines };
}

Deno.test("sends are sealed; authentic datagrams come out opened", () => {
  const sealer = new DatagramSealer(AEAD, KEY, 0xabcdef01);
  const { inner, channel } = setUp({ sealer, opener: new DatagramOpener(AEAD, RING) });
  assert.equal(channel.send(PAYLOAD), true);
  assert.equal(inner.sent[0].byteLength, PAYLOAD.byteLength + 32);
  inner.deliver(inner.sent[0], peerAddress(2));
  const got = channel.receive()!;
  assert.deepEqual(got.data, PAYLOAD);
  assert.equal(got.fullLength, PAYLOAD.byteLength);
  assert.deepEqual(got.from, peerAddress(2));
});

Deno.test("a stranger's plain batch, a wrong key and a replay are dropped, counted, logged", () => {
  const { inner, channel, counters, measures, lines } = setUp({
    opener: new DatagramOpener(AEAD, RING),
  });
  const genuine = new DatagramSealer(AEAD, KEY, 1).seal(PAYLOAD);
  inner.deliver(PAYLOAD, peerAddress(9)); // a stranger, in clear
  inner.deliver(new DatagramSealer(AEAD, WRONG, 2).seal(PAYLOAD), peerAddress(8)); // the wrong key
  inner.deliver(genuine, peerAddress(1));
  inner.deliver(genuine, peerAddress(7)); // captured and replayed
  const got = channel.receive();
  assert.deepEqual(got?.data, PAYLOAD, "the genuine one passes");
  assert.equal(channel.receive(), null, "the replay does not");
  assert.deepEqual([counters.authDropped, counters.replayDropped, counters.unknownSenderDropped], [
    2,
    1,
    0,
  ]);
  assert.deepEqual(measures.peers.snapshot()[OTHER_PEERS].dropped, 3);
  // As the relay counts what it drops: received, dropped, per peer.
  assert.deepEqual([counters.netReceivedPackets, counters.netDropped], [3, 3]);
  assert.equal(counters.netReceivedBytes, 4 + 36 + 36);
  assert.deepEqual(lines, [
    "Dropped a datagram from [2001:db8::9]:6464: sync datagram not authentic: " +
    "not sealed (4 bytes)",
    "Dropped a datagram from [2001:db8::8]:6464: sync datagram not authentic: " +
    "bad authentication tag (key id 1)",
    "Dropped a datagram from [2001:db8::7]:6464: sync datagram a replay: " +
    `sender 00000001: counter ${new DataView(genuine.buffer).getBigUint64(8)} seen`,
  ]);
});

Deno.test("unicast: datagrams from addresses that are no configured peer are dropped", () => {
  const allowed = new Set([addressKey(peerAddress(1).address)]);
  const { inner, channel, counters, lines } = setUp({ allowedSenders: allowed });
  inner.deliver(PAYLOAD, peerAddress(5));
  inner.deliver(PAYLOAD, null);
  inner.deliver(PAYLOAD, peerAddress(1, 7777));
  assert.deepEqual(channel.receive()?.data, PAYLOAD);
  assert.equal(counters.unknownSenderDropped, 2);
  assert.match(
    lines[0],
    /^Dropped a datagram from \[2001:db8::5\]:6464: sync datagram from an unknown sender/,
  );
});

Deno.test("a cut datagram passes unopened, for the relay to report as too large", () => {
  const { inner, channel, counters } = setUp({ opener: new DatagramOpener(AEAD, RING) });
  inner.deliver(PAYLOAD, peerAddress(1), 70_000);
  assert.equal(channel.receive()?.fullLength, 70_000);
  assert.equal(counters.authDropped, 0);
});

Deno.test("control drops count as controlDropped, not as sync traffic", () => {
  const { inner, channel, counters, measures, lines } = setUp(
    { opener: new DatagramOpener(AEAD, RING) },
    "control",
  );
  inner.deliver(PAYLOAD, peerAddress(9, 6465));
  assert.equal(channel.receive(), null);
  assert.deepEqual(
    [counters.authDropped, counters.controlDropped, counters.netReceivedPackets],
    [1, 1, 0],
  );
  assert.deepEqual(measures.peers.snapshot(), {});
  assert.match(lines[0], /from \[2001:db8::9\]:6465: control datagram not authentic/);
});

/** Sealed garbage: the current key id, a fresh counter, a made-up sender, a bad tag. */
function garbage(bytes: number, senderId: number, clock: ManualClock): Uint8Array {
  const datagram = new DatagramSealer(AEAD, WRONG, senderId, () => clock.now() * 1000).seal(
    new Uint8Array(bytes - 32),
  );
  return datagram;
}

Deno.test("a wake-up's opening work is bounded by its cost, not by a count of datagrams", () => {
  const clock = new ManualClock();
  const opener = new DatagramOpener(AEAD, RING, () => clock.now() * 1000);
  const { inner, channel, counters } = setUp({ opener }, "sync", clock);
  for (let i = 0; i < 100; i++) inner.deliver(garbage(60_000, 1000 + i, clock), peerAddress(9));
  assert.equal(channel.receive(), null, "the wake-up ends");
  assert.ok(inner.queued > 0, "the rest waits for the next wake-up");
  const work = opener.attemptedBytes + opener.attempts * OPEN_ATTEMPT_COST_BYTES;
  assert.ok(work <= OPEN_BUDGET_BYTES + 60_000 + OPEN_ATTEMPT_COST_BYTES, `${work} bytes of work`);
  while (inner.queued > 0) channel.receive();
  assert.equal(counters.authDropped, 100, "each one dropped and counted in the end");
});

Deno.test("a flood of sealed garbage costs a bounded number of AEAD attempts and starves no peer", () => {
  const clock = new ManualClock();
  const opener = new DatagramOpener(AEAD, RING, () => clock.now() * 1000);
  const gate = new OpenGate(clock.monotonic());
  const { inner, channel, counters } = setUp({ opener, gate }, "sync", clock);
  const peer = new DatagramSealer(AEAD, KEY, 0x5e5e5e5e, () => clock.now() * 1000);
  inner.deliver(peer.seal(PAYLOAD), peerAddress(1));
  assert.deepEqual(channel.receive()?.data, PAYLOAD, "the peer is heard before the flood");
  let delivered = 0;
  let garbageSent = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 100; i++) {
      // Made-up ids from one host and from many; the live peer's id from elsewhere.
      const from = peerAddress(i % 2 === 0 ? 9 : 10 + (i % 200));
      inner.deliver(garbage(1452, i === 50 ? 0x5e5e5e5e : 0x10000 + garbageSent, clock), from);
      garbageSent++;
    }
    inner.deliver(peer.seal(PAYLOAD), peerAddress(1));
    for (let wake = 0; inner.queued > 0 && wake < 100; wake++) {
      clock.advance(1);
      for (let got = channel.receive(); got !== null; got = channel.receive()) delivered++;
    }
  }
  assert.equal(delivered, 50, "every datagram of the live peer");
  // The live peer's id with a counter it used already is refused as a replay, also unopened.
  assert.equal(counters.authDropped + counters.replayDropped, garbageSent);
  const seconds = Math.ceil(clock.monotonic() / 1000);
  const allowed = 1 + 50 + UNPROVEN_OPEN_LIMITS.globalBurst +
    UNPROVEN_OPEN_LIMITS.globalPerSecond * seconds;
  assert.ok(
    opener.attempts <= allowed,
    `${opener.attempts} AEAD attempts for ${garbageSent} datagrams`,
  );
});
