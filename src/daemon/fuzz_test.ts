/**
 * A short, seeded, time-bounded fuzz run of every entry point reachable
 * without a VM: peers' datagrams in each Jool 4.1 encoding (in clear, to the
 * fake kernel), sealed datagrams (the daemon's own guards, to the fake
 * kernel), control-port messages (resync, HELLOs, lossless delivery's), stats and metrics
 * requests, and the configuration and key files. Inputs are valid ones
 * mutated (bits flipped, cut, extended, spliced) or random bytes. Each
 * entry point gets at most {@link ROUNDS} inputs or {@link BUDGET_MS}.
 * Asserts that no exception escapes (only ConfigError from the file
 * parsers) and that the fake kernel gets only what it should.
 */

import assert from "node:assert/strict";
import type { Sockets } from "../../ffi/sockets.ts";
import { parseKeyFile } from "../auth/key_file.ts";
import { type AuthKey, DatagramSealer, type KeyRing } from "../auth/sealed_datagram.ts";
import { loadChaCha20Poly1305 } from "../auth/chacha20_poly1305.ts";
import { ConfigError } from "../config/errors.ts";
import { parseModsocketConfig } from "../config/modsocket.ts";
import { type NetsocketConfig, parseNetsocketConfig } from "../config/netsocket.ts";
import { DropReporter } from "./drop_report.ts";
import { SyncMeasures } from "./measures.ts";
import { PeerSockets } from "./peer_sockets.ts";
import { ResyncChannel } from "./resync_channel.ts";
import { joolVersion } from "../jool/header.ts";
import { encodeSessions } from "../jool/session.ts";
import { SessionValidator } from "../jool/session_decode.ts";
import { sessionEncodingFor } from "../jool/session_layout.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { answerRequest } from "../stats/metrics_server.ts";
import { statsAnswer } from "../stats/report.ts";
import { ControlType, encodeControlMessage } from "../sync/control_message.ts";
import {
  datagramHash,
  encodeLedger,
  encodeNack,
  encodeResend,
  NackKind,
} from "../sync/delivery_message.ts";
import { wireReliableDelivery } from "./reliable_delivery.ts";
import { fakeEnvironment } from "../../tests/support/fake_environment.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { MemoryPeerChannel, peerAddress } from "../../tests/support/memory_peer_channel.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { syncHarness } from "../../tests/support/sync_harness.ts";

const SEED = 0x23f00d;
const ROUNDS = 3000;
const BUDGET_MS = 400;

/** mulberry32: a small seeded generator, so a failure can be run again. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const below = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => below(256));
  /** A mutation of `input`, or random bytes. */
  const mutate = (input: Uint8Array): Uint8Array => {
    const out = input.slice();
    switch (below(6)) {
      case 0: // flip bits
        for (let i = 0, n = 1 + below(4); i < n && out.length > 0; i++) {
          out[below(out.length)] ^= 1 << below(8);
        }
        return out;
      case 1: // cut
        return out.subarray(0, below(out.length + 1));
      case 2: // extend
        return Uint8Array.of(...out, ...bytes(1 + below(64)));
      case 3: // a random byte run
        if (out.length > 0) {
          const run = bytes(Math.min(out.length, 1 + below(16)));
          out.set(run, below(out.length - run.length + 1));
        }
        return out;
      case 4: // splice with itself
        return Uint8Array.of(
          ...out.subarray(below(out.length + 1)),
          ...out.subarray(0, below(out.length + 1)),
        );
      default:
        return bytes(below(200));
    }
  };
  return { next, below, bytes, mutate };
}

/** Runs `body` for each round until ROUNDS or BUDGET_MS. Returns the rounds run. */
function rounds(body: (round: number) => void): number {
  const started = performance.now();
  let round = 0;
  for (; round < ROUNDS && performance.now() - started < BUDGET_MS; round++) body(round);
  return round;
}

async function asyncRounds(body: (round: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let round = 0;
  for (; round < ROUNDS && performance.now() - started < BUDGET_MS; round++) await body(round);
  return round;
}

const quiet = () => new LevelLogger("error", () => {});
const validator = new SessionValidator();

for (const [major, minor, patch] of [[4, 1, 9], [4, 1, 12], [4, 1, 13]]) {
  const version = joolVersion(major, minor, patch);
  const encoding = sessionEncodingFor(version);
  Deno.test(`fuzz: peers' datagrams in clear, to a Jool ${major}.${minor}.${patch} kernel (${encoding})`, async () => {
    const random = generator(SEED + patch);
    const { jool, channel, sync } = await syncHarness({ version });
    const valid = [
      encodeSessions([sampleUdpSession(1)], "nested-4.1.0"),
      encodeSessions([sampleUdpSession(2), sampleUdpSession(3)], "raw48-4.1.12"),
      encodeSessions([sampleUdpSession(4)], "raw36-4.1.13"),
    ];
    const ran = rounds(() => {
      const input = random.mutate(valid[random.below(valid.length)]);
      channel.deliver(
        input,
        peerAddress(1 + random.below(3)),
        input.byteLength + (random.below(20) === 0 ? 9000 : 0),
      );
      sync.toKernel.drain();
    });
    assert.ok(ran > 0);
    assert.ok(jool.added.length > 0, "some inputs are valid batches");
    for (const added of jool.added) {
      assert.equal(
        validator.check(added, encoding),
        null,
        "the kernel gets only batches in its encoding",
      );
    }
  });
}

const KEY: AuthKey = { id: 1, secret: new Uint8Array(32).fill(0x5a) };
const RING: KeyRing = { current: KEY, accepted: new Map([[1, KEY]]) };
const SEALING = { keys: RING, aead: await loadChaCha20Poly1305() };

function sealedNode(ownId: number, clock: ManualClock, counters = new SyncCounters()) {
  const config = { port: 6464, unicastPeers: null } as unknown as NetsocketConfig;
  const deps = {
    sockets: null as unknown as Sockets,
    counters,
    measures: new SyncMeasures(clock.now()),
    drops: new DropReporter(quiet(), clock),
    clock,
  };
  const peerSockets = new PeerSockets(config, SEALING, deps, ownId);
  const controlWire = new MemoryPeerChannel();
  return { peerSockets, controlWire, control: peerSockets.guard(controlWire, "control") };
}

Deno.test("fuzz: sealed datagrams and HELLOs, mutated and replayed, to the daemon's guards", async () => {
  const random = generator(SEED + 100);
  let receiver: ReturnType<typeof sealedNode> | null = null;
  const harness = await syncHarness({
    version: joolVersion(4, 1, 13),
    wrapChannel: (group, clock, counters) => {
      receiver = sealedNode(0x0000aaaa, clock, counters);
      return receiver.peerSockets.guard(group, "sync");
    },
  });
  const { control, controlWire } = receiver!;
  const sender = sealedNode(0x0000bbbb, harness.clock);
  const senderWire = new MemoryPeerChannel();
  const senderSync = sender.peerSockets.guard(senderWire, "sync");
  // The handshake, so that genuine datagrams pass.
  for (let i = 0; i < 3; i++) {
    for (const hello of controlWire.sent.splice(0)) {
      sender.controlWire.deliver(hello, peerAddress(2));
    }
    while (sender.control.receive() !== null);
    for (const hello of sender.controlWire.sent.splice(0)) {
      controlWire.deliver(hello, peerAddress(1));
    }
    while (control.receive() !== null);
    harness.clock.advance(200);
  }
  const genuine = new Set<string>();
  const ran = rounds((round) => {
    const batch = encodeSessions([sampleUdpSession(round % 50)], "raw36-4.1.13");
    senderSync.send(batch);
    const sealed = senderWire.sent.splice(0)[0];
    const choice = random.below(4);
    if (choice === 0) {
      genuine.add(batch.join(","));
      harness.channel.deliver(sealed, peerAddress(1));
    } else if (choice === 1) {
      harness.channel.deliver(random.mutate(sealed), peerAddress(1 + random.below(3)));
    } else if (choice === 2) {
      const hello = new DatagramSealer(
        SEALING.aead,
        KEY,
        random.below(2 ** 32),
        () => harness.clock.now() * 1000,
      )
        .seal(
          random.mutate(Uint8Array.of(0x4a, 0x44, 0x48, 0x4c, 1, 1, 0, 0, 0, 0, 0xaa, 0xaa)),
          "control",
        );
      controlWire.deliver(random.below(2) === 0 ? hello : random.mutate(hello), peerAddress(4));
      while (control.receive() !== null);
    } else {
      harness.channel.deliver(random.bytes(random.below(300)), peerAddress(5));
    }
    harness.sync.toKernel.drain();
    harness.clock.advance(1);
  });
  assert.ok(ran > 0);
  for (const added of harness.jool.added) {
    assert.ok(genuine.has(added.join(",")), "only what the live peer sealed reaches the kernel");
  }
  assert.ok(harness.jool.added.length > 0, "genuine datagrams pass");
});

Deno.test("fuzz: control-port messages in clear (resync requests and answers, garbage)", () => {
  const random = generator(SEED + 200);
  const clock = new ManualClock();
  const control = new MemoryPeerChannel();
  const advertised: string[] = [];
  const resync = new ResyncChannel({
    control,
    instance: "default",
    advertise: (reason) => Promise.resolve(void advertised.push(reason)),
    counters: new SyncCounters(),
    logger: quiet(),
    clock,
  });
  const valid = [
    encodeControlMessage({ type: ControlType.REQUEST, nonce: 7n, instance: "default" }),
    encodeControlMessage({ type: ControlType.ANSWER, nonce: 7n, instance: "default" }),
  ];
  const ran = rounds(() => {
    control.deliver(
      random.mutate(valid[random.below(2)]),
      peerAddress(1 + random.below(200), 6465),
    );
    resync.drain();
    clock.advance(10);
  });
  resync.close();
  const minutes = Math.ceil(clock.monotonic() / 60_000);
  assert.ok(
    advertised.length <= 6 + minutes * 2,
    `${advertised.length} advertisements in ${ran} messages`,
  );
});

Deno.test("fuzz: lossless delivery's messages in clear (LEDGERs, NACKs, RESENDs, garbage)", async () => {
  const random = generator(SEED + 250);
  const harness = await syncHarness({ version: joolVersion(4, 1, 13) });
  const control = new MemoryPeerChannel();
  let advertised = 0;
  const delivery = wireReliableDelivery(harness.sync, {
    control,
    instance: "default",
    advertise: () => Promise.resolve(void advertised++),
    counters: harness.counters,
    logger: quiet(),
    clock: harness.clock,
    epoch: 0x5151,
  });
  const batch = encodeSessions([sampleUdpSession(1)], "raw36-4.1.13");
  const hashes = new Uint32Array([datagramHash(batch)]);
  const valid = [
    encodeLedger("default", 0x77, 0, 1, 0, hashes, 0),
    encodeNack("default", 0x5151, [{ first: 0, count: 3, kind: NackKind.DATA }]),
    encodeNack("default", 0x5151, [{ first: 0, count: 0, kind: NackKind.ADVERTISE }]),
    encodeResend("default", 0x77, 0, batch),
  ];
  harness.jool.multicast(batch); // something of ours to resend
  const ran = rounds(() => {
    const data = random.mutate(valid[random.below(valid.length)]);
    const from = peerAddress(1 + random.below(200), 6465);
    delivery.receive({ data, fullLength: data.byteLength, from });
    harness.clock.advance(10);
  });
  delivery.close();
  assert.ok(ran > 0);
  const minutes = Math.ceil(harness.clock.monotonic() / 60_000);
  assert.ok(advertised <= 1 + minutes * 2, `${advertised} advertisements in ${ran} messages`);
  for (const added of harness.jool.added) {
    assert.ok(
      added.byteLength % 40 === 0,
      "only whole sessions reach the kernel (the relay's checks)",
    );
  }
});

Deno.test("fuzz: stats and metrics requests", () => {
  const random = generator(SEED + 300);
  const sources = {
    counters: new SyncCounters(),
    peers: new SyncMeasures(0).peers,
    ackLatency: new SyncMeasures(0).ackLatency,
    relayLatency: new SyncMeasures(0).relayLatency,
    startedMs: 0,
    lastSyncMs: () => 0,
    instance: "default",
    version: "test",
  };
  const valid = [
    new TextEncoder().encode("json"),
    new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
  ];
  const ran = rounds(() => {
    const request = random.mutate(valid[random.below(2)]);
    assert.ok(statsAnswer(request, sources, 0).byteLength > 0);
    const response = answerRequest(request, () => "joold_up 1\n");
    if (response !== null) assert.ok(response.status >= 200 && response.status < 600);
  });
  assert.ok(ran > 0);
});

Deno.test("fuzz: configuration and key files: a ConfigError or a configuration, nothing else", async () => {
  const random = generator(SEED + 400);
  const texts = await Promise.all(
    ["ipv4-netsocket.json", "ipv6-netsocket.json", "modsocket.json"].map((name) =>
      Deno.readTextFile(new URL(`../../packaging/examples/${name}`, import.meta.url))
    ),
  );
  const keyFile = `key 1 ${"ab".repeat(32)} current\nkey 2 ${"cd".repeat(32)} next\n`;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const env = fakeEnvironment();
  const ran = await asyncRounds(async (round) => {
    const which = round % 4;
    const source = which === 3 ? keyFile : texts[which];
    const text = decoder.decode(random.mutate(encoder.encode(source)));
    try {
      if (which === 3) parseKeyFile(text, "k");
      else if (which === 2) parseModsocketConfig(text, "mod.json");
      else parseNetsocketConfig(text, "net.json", env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
    }
    await Promise.resolve();
  });
  assert.ok(ran > 0);
});
