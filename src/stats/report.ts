/**
 * What the stats port answers: the reference CSV for any request but
 * `json`, which gets every counter as JSON.
 *
 * @module
 */

import type { LatencyHistogram, LatencySummary } from "./latency.ts";
import type { PeerCounters, PeerTable } from "./peers.ts";
import { formatReferenceStats, type SyncCounters } from "./counters.ts";
import type { DeliveryStates } from "./delivery_states.ts";
import { isoTime } from "../iso_time.ts";

/** Everything the daemon measures, as the JSON answer carries it. */
export interface StatsSources {
  counters: SyncCounters;
  peers: PeerTable;
  /** Kernel batch received to ACK sent. */
  ackLatency: LatencyHistogram;
  /** Kernel batch received to sent to the group. */
  relayLatency: LatencyHistogram;
  /** Milliseconds since the epoch the daemon started. */
  startedMs: number;
  /** Milliseconds since the epoch of the last session batch relayed or added, 0 if none. */
  lastSyncMs(): number;
  /** The Jool instance and the version the daemon is. */
  instance: string;
  version: string;
  /** Lossless delivery's per-peer states (docs/lossless.md); absent: none. */
  delivery?: DeliveryStates;
}

/** The JSON answer's shape. */
export interface JsonStats {
  version: string;
  instance: string;
  uptimeSeconds: number;
  lastSyncTime: string | null;
  counters: Record<string, number>;
  ackLatency: LatencySummary;
  relayLatency: LatencySummary;
  peers: Record<string, PeerCounters & { lastSeenTime: string }>;
  /** By peer host: whether all it announced arrived, and when that was last confirmed. */
  delivery: Record<string, DeliveryJson>;
}

/** A peer's delivery state in the JSON answer. */
export interface DeliveryJson {
  epoch: number;
  inSync: boolean;
  /** ISO time, null if never. */
  lastConfirmedTime: string | null;
  missing: number;
  knownGap: boolean;
}

/** Builds the JSON answer. */
export function jsonStats(sources: StatsSources, nowMs: number): JsonStats {
  const last = sources.lastSyncMs();
  const peers: JsonStats["peers"] = {};
  for (const [peer, counters] of Object.entries(sources.peers.snapshot())) {
    peers[peer] = { ...counters, lastSeenTime: isoTime(counters.lastSeenMs) };
  }
  const delivery: JsonStats["delivery"] = {};
  for (const [host, state] of sources.delivery?.() ?? []) {
    const { epoch, inSync, lastConfirmedMs, missing, knownGap } = state;
    const lastConfirmedTime = lastConfirmedMs === 0 ? null : isoTime(lastConfirmedMs);
    delivery[host] = { epoch, inSync, lastConfirmedTime, missing, knownGap };
  }
  return {
    version: sources.version,
    instance: sources.instance,
    uptimeSeconds: Math.round((nowMs - sources.startedMs) / 1000),
    lastSyncTime: last === 0 ? null : isoTime(last),
    counters: { ...sources.counters },
    ackLatency: sources.ackLatency.summary(),
    relayLatency: sources.relayLatency.summary(),
    peers,
    delivery,
  };
}

const encoder = new TextEncoder();

/**
 * The stats port's answer to `request`: JSON for `json` (white space and
 * case ignored), the reference six lines for anything else, byte for byte.
 */
export function statsAnswer(request: Uint8Array, sources: StatsSources, nowMs: number): Uint8Array {
  if (isJsonRequest(request)) {
    return encoder.encode(JSON.stringify(jsonStats(sources, nowMs)) + "\n");
  }
  return encoder.encode(formatReferenceStats(sources.counters));
}

function isJsonRequest(request: Uint8Array): boolean {
  if (request.byteLength > 16) return false;
  return new TextDecoder().decode(request).trim().toLowerCase() === "json";
}
