import assert from "node:assert/strict";
import { SyncCounters } from "./counters.ts";
import { LatencyHistogram } from "./latency.ts";
import { MAX_PEERS, OTHER_PEERS, PeerTable } from "./peers.ts";
import { jsonStats, statsAnswer, type StatsSources } from "./report.ts";
import { formatPrometheus } from "./prometheus.ts";
import { hasKnownGaps } from "./delivery_states.ts";

function sources(): StatsSources {
  const counters = new SyncCounters();
  counters.kernelSentPackets = 4;
  counters.kernelSentBytes = 208;
  counters.netSentPackets = 4;
  counters.netSentBytes = 208;
  return {
    counters,
    peers: new PeerTable(),
    ackLatency: new LatencyHistogram(),
    relayLatency: new LatencyHistogram(),
    startedMs: 1_000_000,
    lastSyncMs: () => 0,
    instance: "default",
    version: "0.1.0",
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("any request but json gets the reference six lines, byte for byte", () => {
  const expected = "KERNEL_SENT_PKTS,4\nKERNEL_SENT_BYTES,208\nNET_RCVD_PKTS,0\n" +
    "NET_RCVD_BYTES,0\nNET_SENT_PKTS,4\nNET_SENT_BYTES,208\n";
  for (const request of ["\n", "", "stats", "jsonx", "x".repeat(1000)]) {
    assert.equal(text(statsAnswer(new TextEncoder().encode(request), sources(), 0)), expected);
  }
});

Deno.test("json (any case, surrounding white space) gets every counter as JSON", () => {
  const s = sources();
  s.peers.get("[2001:db8::2]:6464").datagrams = 3;
  s.ackLatency.recordMs(0.01);
  const answer = JSON.parse(text(statsAnswer(new TextEncoder().encode(" JSON\n"), s, 1_010_000)));
  assert.equal(answer.uptimeSeconds, 10);
  assert.equal(answer.lastSyncTime, null);
  assert.equal(answer.counters.kernelSentPackets, 4);
  assert.equal(answer.counters.netDropped, 0);
  assert.equal(answer.peers["[2001:db8::2]:6464"].datagrams, 3);
  assert.equal(answer.ackLatency.count, 1);
  assert.deepEqual(Object.keys(jsonStats(s, 0)), [
    "version",
    "instance",
    "uptimeSeconds",
    "lastSyncTime",
    "counters",
    "ackLatency",
    "relayLatency",
    "peers",
    "delivery",
  ]);
});

Deno.test("json: each peer's delivery state, with when it was last confirmed", () => {
  const s = sources();
  const confirmed = Date.UTC(2026, 0, 2);
  s.delivery = () =>
    new Map([
      ["2001:db8::2", {
        epoch: 7,
        inSync: true,
        lastConfirmedMs: confirmed,
        missing: 0,
        knownGap: false,
      }],
      ["192.0.2.3", { epoch: 9, inSync: false, lastConfirmedMs: 0, missing: 4, knownGap: true }],
    ]);
  assert.deepEqual(jsonStats(s, 0).delivery, {
    "2001:db8::2": {
      epoch: 7,
      inSync: true,
      lastConfirmedTime: "2026-01-02T00:00:00.000Z",
      missing: 0,
      knownGap: false,
    },
    "192.0.2.3": { epoch: 9, inSync: false, lastConfirmedTime: null, missing: 4, knownGap: true },
  });
  const prometheus = formatPrometheus(s);
  assert.match(prometheus, /^joold_peer_in_sync\{host="2001:db8::2"\} 1$/m);
  assert.match(
    prometheus,
    /^joold_peer_last_confirmed_timestamp_seconds\{host="2001:db8::2"\} 1767312000$/m,
  );
  assert.match(prometheus, /^joold_peer_known_gap\{host="192.0.2.3"\} 1$/m);
  assert.match(prometheus, /^joold_sync_gaps_total 0$/m);
  assert.equal(hasKnownGaps(s.delivery()), true);
});

Deno.test("latency percentiles come from power-of-two buckets; max is exact", () => {
  const histogram = new LatencyHistogram();
  for (let i = 0; i < 98; i++) histogram.recordMs(0.005); // 5 µs
  histogram.recordMs(1); // 1000 µs
  histogram.recordMs(3.5); // 3500 µs
  assert.deepEqual(histogram.summary(), {
    count: 100,
    p50Us: 8,
    p90Us: 8,
    p99Us: 1024,
    maxUs: 3500,
  });
  assert.deepEqual(new LatencyHistogram().summary(), {
    count: 0,
    p50Us: 0,
    p90Us: 0,
    p99Us: 0,
    maxUs: 0,
  });
});

Deno.test("the peer table is bounded; the overflow is summed as 'other'", () => {
  const peers = new PeerTable();
  for (let i = 0; i < MAX_PEERS + 10; i++) peers.get(`peer${i}`).datagrams++;
  const snapshot = peers.snapshot();
  assert.equal(Object.keys(snapshot).length, MAX_PEERS + 1);
  assert.equal(snapshot[OTHER_PEERS].datagrams, 10);
});

Deno.test("the peer table keeps the peers seen recently: a new one replaces the least recent", () => {
  const peers = new PeerTable();
  for (let i = 0; i < MAX_PEERS; i++) peers.get(`peer${i}`).lastSeenMs = 1000 + i;
  peers.get("peer0").lastSeenMs = 5000; // a real peer, seen again
  const counters = peers.get("newcomer");
  counters.lastSeenMs = 6000;
  const snapshot = peers.snapshot();
  assert.equal(snapshot.peer1, undefined, "peer1 was seen least recently");
  assert.ok(snapshot.peer0 !== undefined && snapshot.newcomer !== undefined);
  assert.equal(snapshot[OTHER_PEERS].lastSeenMs, 1001);
});

Deno.test("the peer table: senders without an entry are counted under 'other', taking no place", () => {
  const peers = new PeerTable();
  for (let i = 0; i < 5000; i++) peers.find(`[2001:db8::9]:${i}`).dropped++;
  peers.get("[2001:db8::1]:6464").datagrams++;
  peers.find("[2001:db8::1]:6464").datagrams++;
  const snapshot = peers.snapshot();
  assert.deepEqual(Object.keys(snapshot), ["[2001:db8::1]:6464", OTHER_PEERS]);
  assert.equal(snapshot[OTHER_PEERS].dropped, 5000);
  assert.equal(snapshot["[2001:db8::1]:6464"].datagrams, 2, "find() counts on an existing entry");
});
