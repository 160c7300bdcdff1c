/**
 * Reading what an e2e scenario left, without touching it: session tables
 * and flows and their differences, the stats answers (CSV and JSON) and the
 * relations between their counters, key=value files, logs, versions.
 * Pure; tests/e2e/lib/checks.ts reads the files and asserts with these.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseVersion } from "../../../src/jool/header.ts";
import type { DeliveryJson } from "../../../src/stats/report.ts";

export const PROTOCOLS = ["tcp", "udp", "icmp"] as const;
export const STATS_NAMES = [
  "KERNEL_SENT_PKTS",
  "KERNEL_SENT_BYTES",
  "NET_RCVD_PKTS",
  "NET_RCVD_BYTES",
  "NET_SENT_PKTS",
  "NET_SENT_BYTES",
] as const;
export const MSG_NO_INSTANCE = "This namespace lacks an instance named 'ghost'.";
export const MSG_SS_DISABLED = "Session sync is disabled on this instance.";

// ---------------------------------------------------------------------------
// Session tables

/** The fields that identify a Jool session; expiration and TCP state may differ between nodes. */
export interface Session {
  protocol: string;
  src6: string;
  src6Port: number;
  src4: string;
  src4Port: number;
  dst4: string;
  dst4Port: number;
}

/** A flow the guest made through a node (a line of traffic.csv). */
export interface Flow {
  node: string;
  protocol: string;
  src6: string;
  dst4: string;
  dst4Port: number | undefined;
  ok: boolean;
}

/** Per node: the expected sessions it lacks and the sessions it has that nobody expected. */
export interface NodeDiff {
  node: string;
  expected: Session[];
  actual: Session[];
  missing: Session[];
  unexpected: Session[];
}

export function parsePort(text: string, line: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new Error(`Malformed port in session line: ${line}`);
  }
  return port;
}

/**
 * A session from the columns `jool session display --csv` and `joold follow
 * --format=csv` share: protocol, IPv6 remote addr/port, (IPv6 local
 * addr/port), IPv4 local addr/port, IPv4 remote addr/port.
 */
export function sessionFromColumns(f: string[], line: string): Session {
  return {
    protocol: f[0],
    src6: f[1],
    src6Port: parsePort(f[2], line),
    src4: f[5],
    src4Port: parsePort(f[6], line),
    dst4: f[7],
    dst4Port: parsePort(f[8], line),
  };
}

/**
 * How close to its expiry a session may be and still be judged. Nodes are
 * dumped one after another, and a peer's copy of a session expires up to a
 * sync delay later than its creator's: within this margin a session can be
 * present on one node and gone from the next without any being lost.
 */
export const EXPIRY_MARGIN_MS = 10_000;

/** Jool's "Expires in" column (`H:MM:SS` or `H:MM:SS.mmm`) in milliseconds. */
export function parseExpiresIn(text: string, line: string): number {
  const match = /^(\d+):(\d\d):(\d\d)(?:\.(\d{1,3}))?$/.exec(text);
  if (match === null) throw new Error(`Malformed expiration in session line: ${line}`);
  const [hours, minutes, seconds] = [match[1], match[2], match[3]].map(Number);
  const millis = Number((match[4] ?? "0").padEnd(3, "0"));
  return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis;
}

/** A session as dumped, and how long it had left then. */
export interface TimedSession {
  session: Session;
  expiresInMs: number;
}

/** Parses `jool session display --numeric --csv` output (header optional). */
export function parseTimedSessionCsv(text: string): TimedSession[] {
  const sessions: TimedSession[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("Protocol,")) continue;
    const f = line.split(",");
    // Protocol, IPv6 remote addr/port, IPv6 local addr/port, IPv4 local
    // addr/port, IPv4 remote addr/port, expiration [, TCP state]
    if (f.length < 10 || f.length > 11) {
      throw new Error(`Malformed session line: ${line}`);
    }
    sessions.push({
      session: sessionFromColumns(f, line),
      expiresInMs: parseExpiresIn(f[9], line),
    });
  }
  return sessions;
}

/**
 * Parses `jool session display --numeric --csv` output (header optional);
 * with `expiringWithinMs`, leaves out the sessions that expire that soon.
 */
export function parseSessionCsv(
  text: string,
  options: { expiringWithinMs?: number } = {},
): Session[] {
  const margin = options.expiringWithinMs ?? -Infinity;
  return parseTimedSessionCsv(text).filter((t) => t.expiresInMs >= margin).map((t) => t.session);
}

/**
 * Every node's sessions less those that expire within `marginMs` on any
 * node: a session whose copies straddle the margin (the creator's just
 * under it, a peer's just over) is left out everywhere, not judged on some
 * nodes only.
 */
export function judgedTables(
  tables: Map<string, TimedSession[]>,
  marginMs: number,
): Map<string, Session[]> {
  const expiring = new Set<string>();
  for (const timed of tables.values()) {
    for (const t of timed) if (t.expiresInMs < marginMs) expiring.add(sessionKey(t.session));
  }
  const judged = new Map<string, Session[]>();
  for (const [node, timed] of tables) {
    judged.set(
      node,
      timed.map((t) => t.session).filter((session) => !expiring.has(sessionKey(session))),
    );
  }
  return judged;
}

export function sessionKey(s: Session): string {
  return [s.protocol, s.src6, s.src6Port, s.src4, s.src4Port, s.dst4, s.dst4Port].join(",");
}

export function formatSession(s: Session): string {
  return [
    s.protocol.padEnd(4),
    `${s.src6}#${s.src6Port}`.padEnd(28),
    `${s.src4}#${s.src4Port}`.padEnd(21),
    `${s.dst4}#${s.dst4Port}`,
  ].join("  ");
}

export function sortSessions(sessions: Session[]): Session[] {
  return [...sessions].sort((a, b) => sessionKey(a).localeCompare(sessionKey(b)));
}

/** Parses traffic.csv: `node,protocol,src6,dst4,dst4port,ok|failed`. */
export function parseTraffic(text: string): Flow[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const f = line.split(",");
    if (f.length !== 6) throw new Error(`Malformed traffic line: ${line}`);
    return {
      node: f[0],
      protocol: f[1],
      src6: f[2],
      dst4: f[3],
      dst4Port: f[4] === "" ? undefined : parsePort(f[4], line),
      ok: f[5] === "ok",
    };
  });
}

export function describeFlow(flow: Flow): string {
  const port = flow.dst4Port === undefined ? "" : `#${flow.dst4Port}`;
  return `${flow.protocol} flow from ${flow.src6} to ${flow.dst4}${port} through ${flow.node}`;
}

/**
 * What every node must hold: the sessions each flow created on the node it
 * went through. Also returns problems with the traffic itself (a flow that
 * failed, or left no session where it went through), without which a sync
 * check could pass on empty tables.
 */
export function expectedSessions(
  tables: Map<string, Session[]>,
  flows: Flow[],
): { expected: Session[]; problems: string[] } {
  const problems: string[] = [];
  const expected = new Map<string, Session>();
  for (const flow of flows) {
    if (!flow.ok) {
      problems.push(`The ${describeFlow(flow)} failed.`);
      continue;
    }
    const created = (tables.get(flow.node) ?? []).filter((s) =>
      s.protocol === flow.protocol && s.src6 === flow.src6 && s.dst4 === flow.dst4 &&
      (flow.dst4Port === undefined || s.dst4Port === flow.dst4Port)
    );
    if (created.length === 0) {
      problems.push(`The ${describeFlow(flow)} left no session on ${flow.node}.`);
    }
    for (const s of created) expected.set(sessionKey(s), s);
  }
  return { expected: sortSessions([...expected.values()]), problems };
}

/** Compares every node's sessions with the expected ones. */
export function diffSessions(tables: Map<string, Session[]>, expected: Session[]): NodeDiff[] {
  const expectedKeys = new Set(expected.map(sessionKey));
  return [...tables.entries()].map(([node, actual]) => {
    const actualKeys = new Set(actual.map(sessionKey));
    return {
      node,
      expected,
      actual: sortSessions(actual),
      missing: expected.filter((s) => !actualKeys.has(sessionKey(s))),
      unexpected: sortSessions(actual.filter((s) => !expectedKeys.has(sessionKey(s)))),
    };
  });
}

export function inSync(diffs: NodeDiff[]): boolean {
  return diffs.every((d) => d.missing.length === 0 && d.unexpected.length === 0);
}

/**
 * A readable diff: one summary line per node, and for each node that differs
 * its expected and actual sessions merged, `-` marking an expected session it
 * lacks and `+` one it has that no flow created.
 */
export function formatDiff(diffs: NodeDiff[]): string {
  const lines = [
    "Session tables (protocol, IPv6 source, IPv4 source, IPv4 destination) per node;",
    "'-' expected but missing, '+' present but not expected:",
  ];
  for (const d of diffs) {
    const problems = [];
    if (d.missing.length > 0) problems.push(`${d.missing.length} missing`);
    if (d.unexpected.length > 0) problems.push(`${d.unexpected.length} unexpected`);
    lines.push(
      `${d.node}: ${d.expected.length} expected, ${d.actual.length} present` +
        (problems.length > 0 ? `, ${problems.join(", ")}` : ", in sync"),
    );
    if (problems.length === 0) continue;
    const missing = new Set(d.missing.map(sessionKey));
    const unexpected = new Set(d.unexpected.map(sessionKey));
    for (const s of sortSessions([...d.expected, ...d.unexpected])) {
      const key = sessionKey(s);
      const mark = missing.has(key) ? "-" : unexpected.has(key) ? "+" : " ";
      lines.push(`  ${mark} ${formatSession(s)}`);
    }
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Stats answers

/** Parses a stats answer; throws unless it is exactly the six reference lines. */
export function parseStats(text: string): Map<string, number> {
  const lines = text.replace(/\n$/, "").split("\n");
  const names = lines.map((line) => line.split(",")[0]);
  assert.deepEqual(names, [...STATS_NAMES], `Stats answer has the wrong lines: ${text}`);
  const stats = new Map<string, number>();
  for (const line of lines) {
    const match = /^([A-Z_]+),(\d+)$/.exec(line);
    assert.ok(match, `Malformed stats line: ${line}`);
    stats.set(match[1], Number(match[2]));
  }
  return stats;
}

/** The counters the README ("Stats") documents, in the JSON answer's `counters`. */
export const JSON_COUNTERS = [
  "kernelSentPackets",
  "kernelSentBytes",
  "netReceivedPackets",
  "netReceivedBytes",
  "netSentPackets",
  "netSentBytes",
  "kernelForeignBatches",
  "kernelMalformed",
  "kernelErrors",
  "kernelOverruns",
  "kernelAcks",
  "kernelNudges",
  "kernelAdds",
  "netSendFailures",
  "netDropped",
  "netConverted",
  "resyncRequests",
  "resyncAnswers",
  "advertisements",
  "advertisedSessions",
  "advertisedDatagrams",
  "controlDropped",
  "authDropped",
  "replayDropped",
  "unknownSenderDropped",
  "statsAnswers",
  "statsRefused",
  "syncInterfaceLosses",
  "syncInterfaceReturns",
  "serviceNotifyFailures",
  "statusFileFailures",
  "syncGaps",
  "syncNacksSent",
  "syncNacksReceived",
  "syncResends",
  "syncRepaired",
  "syncGapsUnrepaired",
  "gapAdvertisements",
  "kernelDrops",
  "kernelFullBatches",
  "kernelDropOffers",
  "kernelStatsFailures",
  "convergenceRounds",
  "convergenceRepairs",
  "convergenceBuckets",
  "convergenceSessions",
  "convergenceFailures",
] as const;

/** The six reference lines, by their JSON counter names. */
export const REFERENCE_COUNTERS: Record<
  (typeof STATS_NAMES)[number],
  (typeof JSON_COUNTERS)[number]
> = {
  KERNEL_SENT_PKTS: "kernelSentPackets",
  KERNEL_SENT_BYTES: "kernelSentBytes",
  NET_RCVD_PKTS: "netReceivedPackets",
  NET_RCVD_BYTES: "netReceivedBytes",
  NET_SENT_PKTS: "netSentPackets",
  NET_SENT_BYTES: "netSentBytes",
};

/** A latency summary of the JSON answer. */
export interface LatencyJson {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

/** What one peer sent, in the JSON answer. */
export interface PeerJson {
  datagrams: number;
  bytes: number;
  dropped: number;
  lastSeenTime: string;
}

/** The JSON stats answer (README "Stats"). */
export interface JsonStats {
  version: string;
  instance: string;
  uptimeSeconds: number;
  lastSyncTime: string | null;
  counters: Record<(typeof JSON_COUNTERS)[number], number>;
  ackLatency: LatencyJson;
  relayLatency: LatencyJson;
  peers: Record<string, PeerJson>;
  /** Lossless delivery's state per peer host (docs/lossless.md). */
  delivery: Record<string, DeliveryJson>;
}

export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function isIsoTime(value: unknown): value is string {
  return typeof value === "string" && !Number.isNaN(Date.parse(value)) &&
    new Date(value).toISOString() === value;
}

export function checkLatency(value: unknown, what: string): LatencyJson {
  assert.ok(typeof value === "object" && value !== null, `${what} is not an object`);
  const latency = value as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(latency).sort(),
    ["count", "maxUs", "p50Us", "p90Us", "p99Us"],
    what,
  );
  for (const [key, n] of Object.entries(latency)) assert.ok(isCount(n), `${what}.${key}: ${n}`);
  const l = latency as unknown as LatencyJson;
  assert.ok(l.p50Us <= l.p90Us && l.p90Us <= l.p99Us, `${what} percentiles out of order`);
  if (l.count === 0) {
    assert.deepEqual(l, { count: 0, p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0 }, what);
  } else {
    // Percentiles are bucket bounds capped at the maximum.
    assert.ok(l.maxUs > 0 && l.p99Us <= l.maxUs, `${what}: ${JSON.stringify(l)}`);
  }
  return l;
}

/**
 * Parses a JSON stats answer and checks it has the documented shape: every
 * field, every counter a non-negative integer, ISO times, sane latencies.
 */
export function parseJsonStats(text: string): JsonStats {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    assert.fail(`The JSON stats answer does not parse (${error}): ${JSON.stringify(text)}`);
  }
  assert.ok(typeof value === "object" && value !== null, `Not a JSON object: ${text}`);
  const stats = value as Record<string, unknown>;
  assert.deepEqual(Object.keys(stats).sort(), [
    "ackLatency",
    "counters",
    "delivery",
    "instance",
    "lastSyncTime",
    "peers",
    "relayLatency",
    "uptimeSeconds",
    "version",
  ]);
  assert.ok(typeof stats.version === "string" && stats.version !== "", "version");
  assert.ok(typeof stats.instance === "string" && stats.instance !== "", "instance");
  assert.ok(isCount(stats.uptimeSeconds), `uptimeSeconds: ${stats.uptimeSeconds}`);
  assert.ok(
    stats.lastSyncTime === null || isIsoTime(stats.lastSyncTime),
    `lastSyncTime: ${stats.lastSyncTime}`,
  );
  const counters = stats.counters as Record<string, unknown>;
  assert.deepEqual(Object.keys(counters).sort(), [...JSON_COUNTERS].sort(), "counters");
  for (const [key, n] of Object.entries(counters)) assert.ok(isCount(n), `counters.${key}: ${n}`);
  checkLatency(stats.ackLatency, "ackLatency");
  checkLatency(stats.relayLatency, "relayLatency");
  assert.ok(typeof stats.peers === "object" && stats.peers !== null, "peers");
  for (const [peer, entry] of Object.entries(stats.peers as Record<string, unknown>)) {
    const p = entry as Record<string, unknown>;
    for (const key of ["datagrams", "bytes", "dropped"]) {
      assert.ok(isCount(p[key]), `peers["${peer}"].${key}: ${p[key]}`);
    }
    assert.ok(isIsoTime(p.lastSeenTime), `peers["${peer}"].lastSeenTime: ${p.lastSeenTime}`);
  }
  assert.ok(typeof stats.delivery === "object" && stats.delivery !== null, "delivery");
  for (const [host, entry] of Object.entries(stats.delivery as Record<string, unknown>)) {
    const d = entry as Record<string, unknown>;
    assert.ok(isCount(d.epoch) && isCount(d.missing), `delivery["${host}"]: ${JSON.stringify(d)}`);
    assert.ok(
      d.lastConfirmedTime === null || isIsoTime(d.lastConfirmedTime),
      `delivery["${host}"].lastConfirmedTime: ${d.lastConfirmedTime}`,
    );
  }
  return value as JsonStats;
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Relations between counters that hold for any daemon at rest. A `sealed`
 * daemon ("auth key file") gathers the batches of a few milliseconds into
 * one datagram: it sends at most as many datagrams as it got batches.
 */
export function checkCounterRelations(
  node: string,
  json: JsonStats,
  options: { sealed?: boolean } = {},
): void {
  const c = json.counters;
  const summary = `${node}: ${JSON.stringify(json)}`;
  // Every batch of our instance is ACKed (so are malformed ones and overruns)
  // and relayed once, sent or failed; the histograms see each one. Tables
  // read for a resync (Jool <= 4.1.10) and for a convergence repair go out
  // besides (advertisedDatagrams).
  assert.equal(c.kernelAcks, c.kernelSentPackets + c.kernelMalformed + c.kernelOverruns, summary);
  // A batch larger than 2048 bytes (a raised ss-max-payload) goes out as
  // several datagrams, with the same bytes.
  assert.equal(json.ackLatency.count, c.kernelSentPackets, summary);
  assert.equal(c.netSendFailures, 0, summary);
  assert.equal(json.relayLatency.count, c.kernelSentPackets, summary);
  const relayed = c.netSentPackets - c.advertisedDatagrams;
  if (options.sealed) {
    assert.ok(relayed <= c.kernelSentPackets, summary);
    assert.ok(relayed > 0 || c.kernelSentPackets === 0, summary);
  } else assert.ok(relayed >= c.kernelSentPackets, summary);
  if (c.advertisedDatagrams === 0) assert.equal(c.netSentBytes, c.kernelSentBytes, summary);
  else assert.ok(c.netSentBytes > c.kernelSentBytes, summary);
  // Each datagram from a peer is either dropped or handed to the kernel.
  assert.equal(c.kernelAdds + c.netDropped, c.netReceivedPackets, summary);
  const peers = Object.values(json.peers);
  assert.equal(sum(peers.map((p) => p.datagrams)), c.netReceivedPackets, summary);
  assert.equal(sum(peers.map((p) => p.bytes)), c.netReceivedBytes, summary);
  assert.equal(sum(peers.map((p) => p.dropped)), c.netDropped, summary);
}

export function parseKeyValues(text: string): Map<string, string> {
  return new Map(
    text.split("\n").filter((line) => line.includes("=")).map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)];
    }),
  );
}

/** Lines of `text` not also in `before`: what a log gained meanwhile. */
export function newLines(before: string, after: string): string[] {
  const old = new Set(before.split("\n"));
  return after.split("\n").filter((line) => line.trim() !== "" && !old.has(line));
}

/** "4.1.9.0" as a packed version (0 if it is not one), comparable with `joolVersion()`. */
export function versionOf(text: string): number {
  return parseVersion(text) ?? 0;
}

/** Udp6InErrors of a /proc/net/snmp6 dump: datagrams the namespace's UDP dropped. */
export function udpInErrors(snmp6: string): number {
  const match = /^Udp6InErrors\s+(\d+)$/m.exec(snmp6);
  assert.ok(match, "No Udp6InErrors in /proc/net/snmp6");
  return Number(match[1]);
}
