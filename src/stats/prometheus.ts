/**
 * The counters in the Prometheus text exposition format (version 0.0.4),
 * for the optional metrics port. Names follow Prometheus conventions: a
 * `joold_` prefix, base units (seconds, bytes), `_total` on counters.
 *
 * @module
 */

import type { SyncCounters } from "./counters.ts";
import type { LatencyHistogram } from "./latency.ts";
import type { StatsSources } from "./report.ts";
import type { PeerDeliveryState } from "./delivery_states.ts";

/** The Content-Type of {@link formatPrometheus}'s text. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Each counter's metric name and help text. */
const COUNTERS: readonly [keyof SyncCounters, string, string][] = [
  ["kernelSentPackets", "kernel_batches_total", "Session batches received from the kernel."],
  ["kernelSentBytes", "kernel_batch_bytes_total", "Bytes of sessions in those batches."],
  ["netReceivedPackets", "network_received_datagrams_total", "Datagrams received from peers."],
  ["netReceivedBytes", "network_received_bytes_total", "Bytes of datagrams received from peers."],
  ["netSentPackets", "network_sent_datagrams_total", "Datagrams sent to the multicast group."],
  ["netSentBytes", "network_sent_bytes_total", "Bytes of datagrams sent to the multicast group."],
  ["kernelForeignBatches", "kernel_foreign_batches_total", "Batches of other instances, ignored."],
  ["kernelMalformed", "kernel_malformed_messages_total", "Kernel messages that did not decode."],
  ["kernelErrors", "kernel_errors_total", "Requests the kernel refused."],
  ["kernelOverruns", "kernel_overruns_total", "Netlink receive buffer overflows (ENOBUFS)."],
  ["kernelAcks", "kernel_acks_total", "JOOLD_ACKs sent to the kernel."],
  [
    "kernelNudges",
    "kernel_nudges_total",
    "Extra JOOLD_ACKs that made the kernel check its queue once its flush deadline had passed.",
  ],
  ["kernelAdds", "kernel_adds_total", "Peer datagrams handed to the kernel (JOOLD_ADD)."],
  ["netSendFailures", "network_send_failures_total", "Datagrams that could not be sent."],
  ["netDropped", "network_dropped_datagrams_total", "Peer datagrams dropped as invalid."],
  [
    "netConverted",
    "network_converted_datagrams_total",
    "Peer datagrams converted from another Jool 4.1 session encoding.",
  ],
  ["resyncRequests", "resync_requests_total", "Resync requests this daemon sent."],
  ["resyncAnswers", "resync_answers_total", "Peers' resync requests this daemon answered."],
  ["advertisements", "advertisements_total", "Advertisements of the session table."],
  [
    "advertisedSessions",
    "advertised_sessions_total",
    "Sessions sent from table reads (dumps, convergence repairs).",
  ],
  ["advertisedDatagrams", "advertised_datagrams_total", "Datagrams of those sessions."],
  ["controlDropped", "control_dropped_datagrams_total", "Invalid control-port datagrams."],
  ["authDropped", "auth_dropped_datagrams_total", "Datagrams dropped as not authentic."],
  ["replayDropped", "replay_dropped_datagrams_total", "Authentic datagrams dropped as replays."],
  [
    "unknownSenderDropped",
    "unknown_sender_dropped_datagrams_total",
    "Datagrams dropped for coming from no configured unicast peer.",
  ],
  ["statsAnswers", "stats_answers_total", "Stats-port requests answered."],
  [
    "statsRefused",
    "stats_refused_requests_total",
    "Stats-port requests not answered: answers sent to us, or over the answer budget.",
  ],
  ["syncInterfaceLosses", "sync_interface_losses_total", "Times the sync interface went away."],
  [
    "syncInterfaceReturns",
    "sync_interface_returns_total",
    "Times the sync interface came back and the group was joined again.",
  ],
  [
    "serviceNotifyFailures",
    "service_notify_failures_total",
    "Notifications to the service manager (NOTIFY_SOCKET) that could not be sent.",
  ],
  ["statusFileFailures", "status_file_failures_total", "Writes of the status file that failed."],
  ["syncGaps", "sync_gaps_total", "Peers' sync datagrams found missing by their ledgers."],
  ["syncNacksSent", "sync_nacks_sent_total", "NACKs sent to peers."],
  ["syncNacksReceived", "sync_nacks_received_total", "NACKs received from peers."],
  ["syncResends", "sync_resent_datagrams_total", "Datagrams sent again in answer to NACKs."],
  ["syncRepaired", "sync_repaired_datagrams_total", "Missing datagrams that came by resend."],
  [
    "syncGapsUnrepaired",
    "sync_unrepaired_gaps_total",
    "Missing datagrams given up after the last NACK.",
  ],
  [
    "gapAdvertisements",
    "gap_advertisements_total",
    "Table advertisements for gaps older than the resend buffer.",
  ],
  [
    "kernelDrops",
    "kernel_dropped_sessions_total",
    "Sessions the kernel dropped because its joold queue was full (Jool 4.1.12+).",
  ],
  [
    "kernelFullBatches",
    "kernel_full_batches_total",
    "Kernel batches that came full: sessions set aside and never sent (Jool 4.1.10 and earlier).",
  ],
  [
    "kernelDropOffers",
    "kernel_drop_offers_total",
    "Offers of the session table after the kernel's own drops.",
  ],
  [
    "kernelStatsFailures",
    "kernel_stats_failures_total",
    "Reads of the kernel's drop counter or ss-max-payload that failed.",
  ],
  [
    "convergenceRounds",
    "convergence_rounds_total",
    "Convergence check rounds this daemon took part in (its table read, its digest sent).",
  ],
  [
    "convergenceRepairs",
    "convergence_repairs_total",
    "Convergence rounds that found buckets different from a peer's and sent their sessions.",
  ],
  [
    "convergenceBuckets",
    "convergence_differing_buckets_total",
    "Digest buckets found different from some peer's (256 per round at most).",
  ],
  [
    "convergenceSessions",
    "convergence_repaired_sessions_total",
    "Sessions sent by the convergence check's repairs.",
  ],
  [
    "convergenceFailures",
    "convergence_failures_total",
    "Convergence rounds given up: the table or the session timeouts could not be read.",
  ],
];

/** Histogram buckets exposed: 2 µs to 2^24 µs (16.8 s); larger samples are in +Inf. */
const MAX_BUCKET_US = 2 ** 24;

/** Escapes a label value (backslash, double quote, newline). */
function labelValue(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function histogram(lines: string[], name: string, help: string, histogram: LatencyHistogram) {
  lines.push(`# HELP joold_${name} ${help}`, `# TYPE joold_${name} histogram`);
  for (const { upperUs, count } of histogram.cumulativeBuckets()) {
    if (upperUs > MAX_BUCKET_US) break;
    lines.push(`joold_${name}_bucket{le="${upperUs / 1e6}"} ${count}`);
  }
  lines.push(
    `joold_${name}_bucket{le="+Inf"} ${histogram.count}`,
    `joold_${name}_sum ${histogram.sumUs / 1e6}`,
    `joold_${name}_count ${histogram.count}`,
  );
}

/** All the counters, histograms and per-peer series, as Prometheus text. */
export function formatPrometheus(sources: StatsSources): string {
  const lines: string[] = [];
  const instance = labelValue(sources.instance);
  lines.push(
    "# HELP joold_build_info The daemon's version and Jool instance.",
    "# TYPE joold_build_info gauge",
    `joold_build_info{version="${labelValue(sources.version)}",instance="${instance}"} 1`,
    "# HELP joold_start_time_seconds When the daemon started, in seconds since the epoch.",
    "# TYPE joold_start_time_seconds gauge",
    `joold_start_time_seconds ${sources.startedMs / 1000}`,
    "# HELP joold_last_sync_timestamp_seconds Last batch relayed or added (0: never).",
    "# TYPE joold_last_sync_timestamp_seconds gauge",
    `joold_last_sync_timestamp_seconds ${sources.lastSyncMs() / 1000}`,
  );
  for (const [key, name, help] of COUNTERS) {
    lines.push(
      `# HELP joold_${name} ${help}`,
      `# TYPE joold_${name} counter`,
      `joold_${name} ${sources.counters[key]}`,
    );
  }
  histogram(
    lines,
    "ack_latency_seconds",
    "Kernel batch received to ACK sent.",
    sources.ackLatency,
  );
  histogram(
    lines,
    "relay_latency_seconds",
    "Kernel batch received to sent to the group.",
    sources.relayLatency,
  );
  const peers = Object.entries(sources.peers.snapshot());
  const perPeer: [string, string, string, (p: (typeof peers)[number][1]) => number][] = [
    ["peer_datagrams_total", "counter", "Datagrams received from the peer.", (p) => p.datagrams],
    ["peer_bytes_total", "counter", "Bytes received from the peer.", (p) => p.bytes],
    ["peer_dropped_datagrams_total", "counter", "Its datagrams dropped.", (p) => p.dropped],
    [
      "peer_last_seen_timestamp_seconds",
      "gauge",
      "Its last datagram, in seconds since the epoch.",
      (p) => p.lastSeenMs / 1000,
    ],
  ];
  for (const [name, type, help, value] of perPeer) {
    lines.push(`# HELP joold_${name} ${help}`, `# TYPE joold_${name} ${type}`);
    for (const [peer, counters] of peers) {
      lines.push(`joold_${name}{peer="${labelValue(peer)}"} ${value(counters)}`);
    }
  }
  const converted = "joold_peer_converted_datagrams_total";
  lines.push(
    `# HELP ${converted} Its datagrams converted from another Jool 4.1 session encoding.`,
    `# TYPE ${converted} counter`,
  );
  for (const [peer, counters] of peers) {
    for (const [encoding, count] of Object.entries(counters.converted)) {
      lines.push(
        `${converted}{peer="${labelValue(peer)}",encoding="${labelValue(encoding)}"} ${count}`,
      );
    }
  }
  const delivery = [...(sources.delivery?.() ?? [])];
  const perHost: [string, string, (state: PeerDeliveryState) => number][] = [
    [
      "peer_in_sync",
      "1 if everything the peer announced arrived, at the last check.",
      (s) => s.inSync ? 1 : 0,
    ],
    [
      "peer_last_confirmed_timestamp_seconds",
      "When the peer was last found in sync, in seconds since the epoch (0: never).",
      (s) => s.lastConfirmedMs / 1000,
    ],
    ["peer_missing_datagrams", "Its datagrams missing now, being asked for.", (s) => s.missing],
    ["peer_known_gap", "1 if some of its datagrams were given up since its last advertisement.", (
      s,
    ) => s.knownGap ? 1 : 0],
  ];
  for (const [name, help, value] of perHost) {
    lines.push(`# HELP joold_${name} ${help}`, `# TYPE joold_${name} gauge`);
    for (const [host, state] of delivery) {
      lines.push(`joold_${name}{host="${labelValue(host)}"} ${value(state)}`);
    }
  }
  return lines.join("\n") + "\n";
}
