/**
 * Lossless delivery between two daemons' sync paths (fake kernels, an
 * in-memory link that loses what the test says): every session reaches
 * the peer's kernel, where without it some do not; NACKs beyond the
 * buffer advertise within a rate; the sync port carries nothing new.
 */

import assert from "node:assert/strict";
import { joolVersion } from "../jool/header.ts";
import { encodeSessions } from "../jool/session.ts";
import { MemoryPeerChannel, peerAddress } from "../../tests/support/memory_peer_channel.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { settle, type SyncHarness, syncHarness } from "../../tests/support/sync_harness.ts";
import { encodeNack, NackKind } from "../sync/delivery_message.ts";
import {
  GAP_ADVERTISE_INTERVAL_MS,
  type ReliableDelivery,
  wireReliableDelivery,
} from "./reliable_delivery.ts";

const VERSION = joolVersion(4, 1, 13);

/** Batch `i`: three sessions of its own. */
function batch(i: number): Uint8Array {
  return encodeSessions([0, 1, 2].map((n) => sampleUdpSession(3 * i + n)), "raw36-4.1.13");
}

interface Node {
  harness: SyncHarness;
  control: MemoryPeerChannel;
  delivery: ReliableDelivery | null;
  advertised: string[];
  /** Datagrams carried from it so far, per port. */
  carried: { sync: number; control: number };
}

async function node(n: number, reliable: boolean, epoch: number): Promise<Node> {
  const harness = await syncHarness({ version: VERSION });
  const control = new MemoryPeerChannel();
  const advertised: string[] = [];
  const delivery = reliable
    ? wireReliableDelivery(harness.sync, {
      control,
      instance: "default",
      advertise: (reason) => {
        advertised.push(reason);
        return Promise.resolve();
      },
      counters: harness.counters,
      logger: harness.logger,
      clock: harness.clock,
      epoch,
      knownHosts: [`2001:db8::${3 - n}`],
    })
    : null;
  return { harness, control, delivery, advertised, carried: { sync: 0, control: 0 } };
}

/** A link's losses: whether the datagram of this index (on its port, from the start) is lost. */
type Loss = (index: number) => boolean;

const NO_LOSS: Loss = () => false;
/** Every 10th datagram. */
const TEN_PERCENT: Loss = (index) => index % 10 === 3;

/**
 * Moves what `from` sent to `to` (the sync port's datagrams, and the
 * control port's), losing those the losses say.
 */
function carry(from: Node, to: Node, fromAddress: number, syncLoss: Loss, controlLoss: Loss) {
  const counts = from.carried;
  for (const datagram of from.harness.channel.sent.splice(0)) {
    if (!syncLoss(counts.sync++)) {
      to.harness.channel.deliver(datagram, peerAddress(fromAddress, 6464));
    }
  }
  to.harness.sync.toKernel.drain();
  for (const datagram of from.control.sent.splice(0)) {
    if (controlLoss(counts.control++)) continue;
    const sender = peerAddress(fromAddress, 6465);
    to.delivery?.receive({ data: datagram, fullLength: datagram.byteLength, from: sender });
  }
}

/**
 * Node `one`'s kernel multicasts batches `from` to `to` - 1; they go to `two` over a link that
 * loses every 10th datagram, and time passes; what `two`'s kernel lacks of them.
 */
async function relayBatches(
  one: Node,
  two: Node,
  from: number,
  to: number,
  controlLoss: Loss,
): Promise<number[]> {
  const step = (ms: number) => {
    one.harness.clock.advance(ms);
    two.harness.clock.advance(ms);
    carry(one, two, 1, TEN_PERCENT, controlLoss);
    carry(two, one, 2, TEN_PERCENT, controlLoss);
  };
  for (let i = from; i < to; i++) {
    one.harness.jool.multicast(batch(i));
    if (i % 7 === 0) step(1);
  }
  for (let ms = 0; ms < 3000; ms += 10) step(10);
  await settle();
  const arrived = new Set(two.harness.jool.added.map((payload) => payload.join(",")));
  return Array.from({ length: to - from }, (_, i) => from + i)
    .filter((i) => !arrived.has(batch(i).join(",")));
}

/** Node 1 relays `batches` kernel batches to node 2 over a link that loses every 10th datagram. */
async function burst(reliable: boolean, batches: number, controlLoss: Loss) {
  const one = await node(1, reliable, 0x1111);
  const two = await node(2, reliable, 0x2222);
  const missing = await relayBatches(one, two, 0, batches, controlLoss);
  return { one, two, missing };
}

Deno.test("every session of a burst reaches the peer over a link losing 10%; without the machinery some do not", async () => {
  const off = await burst(false, 300, NO_LOSS);
  assert.ok(off.missing.length >= 25, `machinery off: ${off.missing.length} batches lost`);

  const on = await burst(true, 300, NO_LOSS);
  assert.deepEqual(on.missing, []);
  const counters = on.two.harness.counters;
  assert.ok(counters.syncGaps >= 25, `gaps ${counters.syncGaps}`);
  assert.equal(counters.syncRepaired, counters.syncGaps);
  assert.ok(counters.syncNacksSent > 0);
  assert.equal(on.one.harness.counters.syncNacksReceived, counters.syncNacksSent);
  assert.equal(on.one.harness.counters.syncResends, counters.syncGaps);
  assert.equal(counters.syncGapsUnrepaired, 0);
  const state = on.two.delivery!.states().get("2001:db8::1")!;
  assert.deepEqual([state.epoch, state.inSync, state.missing, state.knownGap], [
    0x1111,
    true,
    0,
    false,
  ]);
  assert.ok(state.lastConfirmedMs > 0);
});

Deno.test("the same when the control port loses 10% too (LEDGERs, NACKs, RESENDs)", async () => {
  const on = await burst(true, 300, TEN_PERCENT);
  assert.deepEqual(on.missing, []);
});

Deno.test("the sync port carries exactly the kernel's batches: nothing new reaches a C joold", async () => {
  const one = await node(1, true, 0x1111);
  const payloads = Array.from({ length: 100 }, (_, i) => batch(i));
  for (const payload of payloads) one.harness.jool.multicast(payload);
  one.harness.clock.advance(5000);
  assert.deepEqual(one.harness.channel.sent, payloads);
  assert.ok(one.control.sent.length >= 2, "the LEDGERs go to the control port");
});

Deno.test("NACKs for what the buffer no longer holds advertise the table, once per interval", async () => {
  const one = await node(1, true, 0x1111);
  const two = peerAddress(2, 6465);
  const nack = encodeNack("default", 0x1111, [{ first: 0, count: 0, kind: NackKind.ADVERTISE }]);
  const receive = () =>
    one.delivery!.receive({ data: nack, fullLength: nack.byteLength, from: two });
  receive();
  receive();
  assert.equal(one.advertised.length, 1);
  assert.match(one.advertised[0], /2001:db8::2 missed datagrams older than the resend buffer/);
  one.harness.clock.advance(GAP_ADVERTISE_INTERVAL_MS);
  receive();
  assert.equal(one.advertised.length, 2);
  assert.equal(one.harness.counters.gapAdvertisements, 2);
  assert.equal(one.harness.counters.syncNacksReceived, 3);
  const other = encodeNack("default", 0x9999, [{ first: 0, count: 0, kind: NackKind.ADVERTISE }]);
  one.delivery!.receive({ data: other, fullLength: other.byteLength, from: two });
  assert.equal(one.harness.counters.syncNacksReceived, 3, "another peer's NACK");
});

Deno.test("malformed delivery messages are dropped and counted; other control datagrams are not taken", async () => {
  const one = await node(1, true, 0x1111);
  const from = peerAddress(2, 6465);
  const bad = encodeNack("default", 1, []).subarray(0, 30);
  assert.equal(one.delivery!.receive({ data: bad, fullLength: 30, from }), true);
  assert.equal(one.harness.counters.controlDropped, 1);
  const junk = new Uint8Array(40);
  assert.equal(one.delivery!.receive({ data: junk, fullLength: 40, from }), false);
});

Deno.test("a restarted sender (a new epoch) is checked from its first datagram; the old epoch's gaps are forgotten", async () => {
  const two = await node(2, true, 0x2222);
  const before = await node(1, true, 0x1111);
  assert.deepEqual(await relayBatches(before, two, 0, 100, NO_LOSS), []);
  before.delivery!.close();
  const after = await node(1, true, 0x3333); // the same host, started again
  after.harness.clock.advance(two.harness.clock.monotonic()); // the clocks agree
  assert.deepEqual(await relayBatches(after, two, 100, 300, NO_LOSS), []);
  const state = two.delivery!.states().get("2001:db8::1")!;
  assert.deepEqual([state.epoch, state.inSync, state.missing], [0x3333, true, 0]);
  assert.ok(two.harness.counters.syncRepaired > 0, "its losses came again");
});
