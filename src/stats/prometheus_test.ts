import assert from "node:assert/strict";
import { SyncCounters } from "./counters.ts";
import { LatencyHistogram } from "./latency.ts";
import { PeerTable } from "./peers.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
import type { StatsSources } from "./report.ts";

function sources(): StatsSources {
  const counters = new SyncCounters();
  counters.kernelSentPackets = 4;
  counters.netDropped = 2;
  const peers = new PeerTable();
  const peer = peers.get("[2001:db8::2]:6464");
  peer.datagrams = 3;
  peer.lastSeenMs = 1_500_000;
  peer.converted["nested-4.1.0"] = 2;
  const ackLatency = new LatencyHistogram();
  ackLatency.recordMs(0.003); // 3 µs: bucket [2, 4)
  ackLatency.recordMs(0.1); // 100 µs: bucket [64, 128)
  return {
    counters,
    peers,
    ackLatency,
    relayLatency: new LatencyHistogram(),
    startedMs: 1_000_000,
    lastSyncMs: () => 1_200_000,
    instance: 'odd"name',
    version: "0.1.0",
  };
}

/** A sample line: name, optional labels, value (the exposition format's grammar, simplified). */
const SAMPLE =
  /^(joold_[a-z0-9_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? (\S+)$/;

Deno.test("formatPrometheus(): every counter once, typed and helped, with valid samples", () => {
  const text = formatPrometheus(sources());
  assert.ok(text.endsWith("\n"));
  const lines = text.trimEnd().split("\n");
  const types = new Map<string, string>();
  for (const line of lines) {
    const typed = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (typed !== null) {
      assert.ok(!types.has(typed[1]), `${typed[1]} typed twice`);
      types.set(typed[1], typed[2]);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const sample = SAMPLE.exec(line);
    assert.ok(sample !== null, `not a sample line: ${line}`);
    assert.ok(Number.isFinite(Number(sample[3])), line);
    const family = sample[1].replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(sample[1]) || types.get(family) === "histogram", `untyped: ${line}`);
  }
  for (const [name, type] of types) {
    if (type === "counter") assert.match(name, /_total$/, `${name}: counters end in _total`);
  }
  // One counter per SyncCounters field.
  const counterNames = [...types].filter(([, type]) => type === "counter").length;
  assert.equal(counterNames, Object.keys(new SyncCounters()).length + 4); // + 4 per-peer counters
  assert.ok(lines.includes("joold_kernel_batches_total 4"));
  assert.ok(
    lines.includes(
      'joold_peer_converted_datagrams_total{peer="[2001:db8::2]:6464",encoding="nested-4.1.0"} 2',
    ),
  );
  assert.ok(lines.includes("joold_network_dropped_datagrams_total 2"));
  assert.ok(lines.includes('joold_build_info{version="0.1.0",instance="odd\\"name"} 1'));
  assert.ok(lines.includes("joold_start_time_seconds 1000"));
  assert.ok(lines.includes("joold_last_sync_timestamp_seconds 1200"));
  assert.ok(lines.includes('joold_peer_datagrams_total{peer="[2001:db8::2]:6464"} 3'));
  assert.ok(
    lines.includes('joold_peer_last_seen_timestamp_seconds{peer="[2001:db8::2]:6464"} 1500'),
  );
});

Deno.test("formatPrometheus(): latency histograms are cumulative, in seconds", () => {
  const lines = formatPrometheus(sources()).split("\n");
  const bucket = (le: string) =>
    lines.find((line) => line.startsWith(`joold_ack_latency_seconds_bucket{le="${le}"} `));
  assert.equal(bucket("0.000002"), 'joold_ack_latency_seconds_bucket{le="0.000002"} 0');
  assert.equal(bucket("0.000004"), 'joold_ack_latency_seconds_bucket{le="0.000004"} 1');
  assert.equal(bucket("0.000064"), 'joold_ack_latency_seconds_bucket{le="0.000064"} 1');
  assert.equal(bucket("0.000128"), 'joold_ack_latency_seconds_bucket{le="0.000128"} 2');
  assert.equal(bucket("16.777216"), 'joold_ack_latency_seconds_bucket{le="16.777216"} 2');
  assert.equal(bucket("+Inf"), 'joold_ack_latency_seconds_bucket{le="+Inf"} 2');
  assert.ok(lines.includes("joold_ack_latency_seconds_count 2"));
  const sum = lines.find((line) => line.startsWith("joold_ack_latency_seconds_sum "));
  assert.ok(Math.abs(Number(sum!.split(" ")[1]) - 0.000103) < 1e-9, sum);
  assert.ok(lines.includes('joold_relay_latency_seconds_bucket{le="+Inf"} 0'));
  assert.match(PROMETHEUS_CONTENT_TYPE, /^text\/plain; version=0\.0\.4/);
});
