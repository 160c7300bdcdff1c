/**
 * The convergence benchmark's numbers from what bench/convergence_guest.sh
 * recorded: per table size, each daemon's read of its table and repair
 * (from its log), its CPU, memory and bytes on the sync link, and when node
 * 2 held the sessions only node 1 had. Pure: text in, tables out.
 *
 * @module
 */

import { markdownTable } from "../scripts/bench_sync.ts";

/** Frames on the sync link: "bytes" and "packets" (Ethernet frames, headers included). */
export interface WireCount {
  bytes: number;
  packets: number;
}

/** One node as the guest read it before the round's start and after the repair. */
export interface NodeSnapshot {
  userSeconds: number;
  systemSeconds: number;
  rssKiB: number;
  hwmKiB: number;
  /** Sessions in the node's kernel (JSTAT_SESSIONS). */
  sessions: number;
  /** Everything the node sent on the sync link. */
  wire: WireCount;
  /** Per port (tc flower on the node's sync0), or null where the kernel had no classifier. */
  ports: { control: WireCount; sync: WireCount } | null;
}

/** What the injector printed (bench/session_injector.ts). */
export interface Injection {
  sessions: number;
  messages: number;
  seconds: number;
  refused: number;
  buckets: number[];
}

/** One table size (a line of runs.jsonl). */
export interface ConvergenceRecord {
  sessions: number;
  extras: number;
  /** Digest buckets the extras fall in. */
  buckets: number;
  udpTimeout: string;
  idleSeconds: number;
  /** From the daemons' first round to every session injected. */
  injectSeconds: number;
  /** Rounds each daemon had made before the measured one (1: its first, on empty tables). */
  roundsBefore: number | null;
  /** The measured round's id, as the daemons log it. */
  round: string;
  /** When its start went out (epoch ms). */
  startMs: number;
  /** When node 2 first held every session, the extras included (epoch ms), or null. */
  j2CompleteMs: number | null;
  inject: { j1: Injection; j2: Injection; extras: Injection };
  before: { j1: NodeSnapshot; j2: NodeSnapshot };
  after: { j1: NodeSnapshot; j2: NodeSnapshot };
  // deno-lint-ignore no-explicit-any
  stats: { j1: { before: any; after: any }; j2: { before: any; after: any } };
}

/** What a daemon logged of one round. */
export interface RoundLog {
  /** Sessions its table held, and of those counted in the digest. */
  read: number | null;
  counted: number | null;
  /** From the round's start to its digest's read done (its own measure). */
  readMs: number | null;
  /** When the repair was done (the log line's time, epoch ms). */
  repairedAtMs: number | null;
  differing: number | null;
  /** Sessions it sent of how many buckets. */
  repairSessions: number | null;
  repairBuckets: number | null;
}

const READ_LINE =
  /^(\S+) debug: Convergence round ([0-9a-f]{8}): read (\d+) sessions in (\d+) ms, (\d+) counted/;
const REPAIR_LINE =
  /^(\S+) info: Convergence round ([0-9a-f]{8}): (\d+) of \d+ buckets differed from .*; sent our (\d+) sessions of (\d+) of them/;

/** The lines of round `round` in a daemon's log (stderr, time-stamped lines). */
export function parseRoundLog(text: string, round: string): RoundLog {
  const log: RoundLog = {
    read: null,
    counted: null,
    readMs: null,
    repairedAtMs: null,
    differing: null,
    repairSessions: null,
    repairBuckets: null,
  };
  for (const line of text.split("\n")) {
    const read = READ_LINE.exec(line);
    if (read !== null && read[2] === round) {
      log.read = Number(read[3]);
      log.readMs = Number(read[4]);
      log.counted = Number(read[5]);
      continue;
    }
    const repair = REPAIR_LINE.exec(line);
    if (repair !== null && repair[2] === round) {
      log.repairedAtMs = Date.parse(repair[1]);
      log.differing = Number(repair[3]);
      log.repairSessions = Number(repair[4]);
      log.repairBuckets = Number(repair[5]);
    }
  }
  return log;
}

/** IPv6 + UDP headers and the Ethernet frame's: what a datagram adds on the wire. */
const FRAME_OVERHEAD = 14 + 40 + 8;

function wireDelta(after: WireCount, before: WireCount): WireCount {
  return { bytes: after.bytes - before.bytes, packets: after.packets - before.packets };
}

/**
 * What a node sent on the control port and the sync port during the round:
 * tc's per-port counts where there are some; otherwise the sync port from
 * the daemon's own counters (payload + headers) and the control port as the
 * rest of the link's (which then includes neighbour discovery's few frames);
 * null where the daemon did not answer for its counters.
 */
export function portTraffic(
  before: NodeSnapshot,
  after: NodeSnapshot,
  // deno-lint-ignore no-explicit-any
  stats: { before: any; after: any },
): { control: WireCount; sync: WireCount; measured: boolean } | null {
  if (before.ports !== null && after.ports !== null) {
    return {
      control: wireDelta(after.ports.control, before.ports.control),
      sync: wireDelta(after.ports.sync, before.ports.sync),
      measured: true,
    };
  }
  if (stats.before?.counters === undefined || stats.after?.counters === undefined) return null;
  const counter = (name: string) => stats.after.counters[name] - stats.before.counters[name];
  const packets = counter("netSentPackets");
  const sync = { bytes: counter("netSentBytes") + FRAME_OVERHEAD * packets, packets };
  const total = wireDelta(after.wire, before.wire);
  return {
    control: { bytes: total.bytes - sync.bytes, packets: total.packets - sync.packets },
    sync,
    measured: false,
  };
}

/** A convergence counter's change over the round on one node. */
// deno-lint-ignore no-explicit-any
export function counterDelta(stats: { before: any; after: any }, name: string): number {
  return (stats.after?.counters?.[name] ?? NaN) - (stats.before?.counters?.[name] ?? 0);
}

/**
 * Whether the round did its job: node 2 holds node 1's sessions, and no
 * daemon counted a failure (one that did not answer for its counters
 * counted none that we know of).
 */
export function converged(record: ConvergenceRecord): boolean {
  const expected = record.sessions + record.extras;
  return record.j2CompleteMs !== null && record.after.j2.sessions >= expected &&
    record.after.j1.sessions === expected &&
    (["j1", "j2"] as const).every((node) =>
      !(counterDelta(record.stats[node], "convergenceFailures") > 0)
    );
}

function fixed(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

function kib(count: WireCount | undefined, measured: boolean | undefined): string {
  if (count === undefined) return "-";
  return `${fixed(count.bytes / 1024, 1)} (${count.packets})${measured ? "" : "*"}`;
}

/**
 * The repair's sessions sent (of how many buckets), from its log line; a
 * repair not done yet: what its counters say it had sent, "so far".
 */
// deno-lint-ignore no-explicit-any
function repairText(log: RoundLog | undefined, stats: { before: any; after: any }): string {
  if (log?.repairSessions !== null && log?.repairSessions !== undefined) {
    return `${log.repairSessions.toLocaleString("en")} (${log.repairBuckets})`;
  }
  const sent = counterDelta(stats, "convergenceSessions");
  return Number.isFinite(sent) ? `${sent.toLocaleString("en")} so far` : "-";
}

/** Per size and node: the read, CPU, memory, the bytes of each port and the repair. */
export function convergenceNodeTable(
  records: readonly ConvergenceRecord[],
  logs: ReadonlyMap<string, RoundLog>,
): string {
  const header = [
    "sessions",
    "node",
    "table read (digest) ms",
    "counted",
    "CPU s (round)",
    "HWM MiB",
    "control port KiB (frames)",
    "buckets differed",
    "repair: sessions sent (buckets)",
    "sync port KiB (frames)",
    "repair done s",
  ];
  const rows: string[][] = [];
  for (const record of records) {
    for (const node of ["j1", "j2"] as const) {
      const log = logs.get(`${record.sessions}.${node}`);
      const before = record.before[node];
      const after = record.after[node];
      const cpu = after.userSeconds + after.systemSeconds - before.userSeconds -
        before.systemSeconds;
      const ports = portTraffic(before, after, record.stats[node]);
      rows.push([
        record.sessions.toLocaleString("en"),
        node,
        fixed(log?.readMs ?? null, 0),
        log?.counted?.toLocaleString("en") ?? "-",
        fixed(cpu, 2),
        fixed(after.hwmKiB / 1024, 1),
        kib(ports?.control, ports?.measured),
        String(log?.differing ?? "-"),
        repairText(log, record.stats[node]),
        kib(ports?.sync, ports?.measured),
        fixed(
          log?.repairedAtMs === null || log?.repairedAtMs === undefined
            ? null
            : (log.repairedAtMs - record.startMs) / 1000,
          1,
        ),
      ]);
    }
  }
  return markdownTable(header, rows);
}

/** Per size: how the tables were filled, and when node 2 had node 1's extra sessions. */
export function convergenceRunTable(records: readonly ConvergenceRecord[]): string {
  const header = [
    "sessions",
    "extras on j1 (buckets)",
    "injected per node s",
    "j2 has the extras s",
    "j1 after",
    "j2 after",
    "convergenceFailures",
    "j2 converged (real kernel)",
  ];
  const rows = records.map((record) => {
    const failures = (["j1", "j2"] as const)
      .map((node) => counterDelta(record.stats[node], "convergenceFailures"));
    return [
      record.sessions.toLocaleString("en"),
      `${record.extras} (${record.inject.extras.buckets.length})`,
      `${fixed(record.inject.j1.seconds, 0)} / ${fixed(record.inject.j2.seconds, 0)}`,
      record.j2CompleteMs === null
        ? "never"
        : fixed((record.j2CompleteMs - record.startMs) / 1000, 1),
      record.after.j1.sessions.toLocaleString("en"),
      record.after.j2.sessions.toLocaleString("en"),
      failures.map((value) => fixed(value, 0)).join(" / "),
      converged(record) ? "yes" : "no",
    ];
  });
  return markdownTable(header, rows);
}

/** The report of a bench:convergence run: both tables and what marks mean. */
export function convergenceReport(
  records: readonly ConvergenceRecord[],
  logs: ReadonlyMap<string, RoundLog>,
): string {
  const derived = records.some((record) =>
    (["j1", "j2"] as const).some((node) => record.before[node].ports === null)
  );
  return [
    convergenceRunTable(records),
    "",
    convergenceNodeTable(records, logs),
    ...(derived
      ? [
        "",
        "\\* No per-port counters in the guest's kernel: the sync port's from the daemon's own " +
        "counters (payload + 62 bytes of headers per frame), the control port's the rest of " +
        "what the node sent on the link.",
      ]
      : []),
  ].join("\n");
}
