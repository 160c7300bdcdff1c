/**
 * Sealed datagrams captured on the link and replayed to a receiver that
 * restarted since (guarded as the daemon guards its channels, over a fake
 * kernel): its kernel gains nothing from them, before or after the sender
 * proves itself live; what the sender seals after that passes.
 */

import assert from "node:assert/strict";
import type { Sockets } from "../../ffi/sockets.ts";
import type { AuthKey, KeyRing } from "../auth/sealed_datagram.ts";
import type { NetsocketConfig } from "../config/netsocket.ts";
import { joolVersion } from "../jool/header.ts";
import { encodeSessions } from "../jool/session.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { MemoryPeerChannel, peerAddress } from "../../tests/support/memory_peer_channel.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { syncHarness } from "../../tests/support/sync_harness.ts";
import type { Clock } from "./clock.ts";
import { DropReporter } from "./drop_report.ts";
import { SyncMeasures } from "./measures.ts";
import { PeerSockets } from "./peer_sockets.ts";
import { loadChaCha20Poly1305 } from "../auth/chacha20_poly1305.ts";

const KEY: AuthKey = { id: 1, secret: new Uint8Array(32).fill(7) };
const RING: KeyRing = { current: KEY, accepted: new Map([[1, KEY]]) };
const SEALING = { keys: RING, aead: await loadChaCha20Poly1305() };
const CONFIG = { port: 6464, unicastPeers: null } as unknown as NetsocketConfig;
const SENDER = peerAddress(1);
const RECEIVER = peerAddress(2);

/** A node's peer sockets on memory channels (the sockets are never opened). */
function node(ownId: number, clock: Clock, counters = new SyncCounters()) {
  const drops = new DropReporter(new LevelLogger("error", () => {}), clock);
  const deps = {
    sockets: null as unknown as Sockets,
    counters,
    measures: new SyncMeasures(clock.now()),
    drops,
    clock,
  };
  const peerSockets = new PeerSockets(CONFIG, SEALING, deps, ownId);
  const controlWire = new MemoryPeerChannel();
  const control = peerSockets.guard(controlWire, "control");
  return { peerSockets, controlWire, control };
}

/** A sealed receiver over a fake kernel, its sync and control channels guarded as the daemon does. */
async function sealedReceiver() {
  let receiver: ReturnType<typeof node> | null = null;
  const restarted = await syncHarness({
    version: joolVersion(4, 1, 13),
    wrapChannel: (group, clock, counters) => {
      receiver = node(0x22222222, clock, counters);
      return receiver.peerSockets.guard(group, "sync");
    },
  });
  return { restarted, control: receiver!.control, controlWire: receiver!.controlWire };
}

function batch(index: number): Uint8Array {
  return encodeSessions([sampleUdpSession(index)], "raw36-4.1.13");
}

Deno.test("captured sealed batches replayed to a restarted receiver add nothing to its kernel", async () => {
  const senderClock = new ManualClock();
  const sender = node(0x5e5e5e5e, senderClock);
  const senderWire = new MemoryPeerChannel();
  const senderSync = sender.peerSockets.guard(senderWire, "sync");
  for (let i = 0; i < 50; i++) senderSync.send(batch(i));
  const captured = senderWire.sent.splice(0);

  const { restarted, control, controlWire } = await sealedReceiver();
  // Each said HELLO when it started; say those were lost.
  assert.equal(controlWire.sent.splice(0).length, 1);
  assert.equal(sender.controlWire.sent.splice(0).length, 1);
  restarted.clock.advance(5_000);
  senderClock.advance(5_000);
  for (const datagram of captured) restarted.channel.deliver(datagram, SENDER);
  restarted.sync.toKernel.drain();
  assert.equal(restarted.jool.added.length, 0, "no replayed batch reaches the kernel");
  // Opened within the budget of attempts and refused as unproven, or refused unopened past it.
  assert.equal(restarted.counters.replayDropped + restarted.counters.authDropped, 50);

  // The receiver asked for a HELLO; the sender, live, answers; the replays still add nothing.
  assert.equal(controlWire.sent.length, 1, "one HELLO asked for, however many refused");
  for (const hello of controlWire.sent.splice(0)) sender.controlWire.deliver(hello, RECEIVER);
  assert.equal(sender.control.receive(), null, "a HELLO is consumed");
  assert.equal(sender.controlWire.sent.length, 1, "the sender answers with its HELLO");
  for (const hello of sender.controlWire.sent.splice(0)) controlWire.deliver(hello, SENDER);
  assert.equal(control.receive(), null);
  for (const datagram of captured) restarted.channel.deliver(datagram, SENDER);
  restarted.sync.toKernel.drain();
  assert.equal(restarted.jool.added.length, 0, "still nothing from the captured ones");

  senderSync.send(batch(99));
  restarted.channel.deliver(senderWire.sent[0], SENDER);
  restarted.sync.toKernel.drain();
  assert.deepEqual(restarted.jool.added, [batch(99)], "what the live sender seals now passes");
});

Deno.test("a busy peer's sync datagrams before its proof do not starve its HELLO on the control port", async () => {
  const { restarted, control, controlWire } = await sealedReceiver();
  const sender = node(0x5e5e5e5e, restarted.clock);
  const senderWire = new MemoryPeerChannel();
  const senderSync = sender.peerSockets.guard(senderWire, "sync");
  controlWire.sent.length = 0;
  // The receiver restarted; the busy peer goes on sending before it has proven itself.
  for (let i = 0; i < 500; i++) senderSync.send(batch(i));
  for (const datagram of senderWire.sent.splice(0)) restarted.channel.deliver(datagram, SENDER);
  restarted.sync.toKernel.drain(); // a wake-up opens some 64 of them (its budget of work)
  // The HELLOs (the peer's at start, the receiver's asking it, its answer) still get through.
  for (let step = 0; step < 3; step++) {
    restarted.clock.advance(100);
    for (const hello of sender.controlWire.sent.splice(0)) controlWire.deliver(hello, SENDER);
    while (control.receive() !== null);
    restarted.clock.advance(100);
    for (const hello of controlWire.sent.splice(0)) sender.controlWire.deliver(hello, RECEIVER);
    while (sender.control.receive() !== null);
  }
  senderSync.send(batch(999));
  restarted.channel.deliver(senderWire.sent[0], SENDER);
  while (restarted.channel.queued > 0) restarted.sync.toKernel.drain();
  assert.deepEqual(restarted.jool.added, [batch(999)], "proven by its HELLO: only what came after");
});
