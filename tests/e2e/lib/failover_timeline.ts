/**
 * Reads what one case of the failover scenario (tests/e2e/scenarios/failover.sh)
 * left: its timeline (`EPOCH_MS MARK` lines: flows-up, failover, on-j2,
 * failback, on-j1, case-end), the client's and the server's event logs
 * (tests/e2e/lib/failover_flows.ts) and the stamped ping output, and says
 * whether the live flows survived both moves. Also prints two cases side by
 * side, for the demo:
 *
 * ```sh
 * deno run --allow-read --no-config tests/e2e/lib/failover_timeline.ts CASE_DIR CASE_DIR
 * ```
 *
 * @module
 */

/** One line of a flows log: `EPOCH_MS EVENT DETAIL...`. */
export interface FlowEvent {
  ms: number;
  event: string;
  detail: string[];
}

/** Parses a flows log (or a stamped ping log); lines that are not events are skipped. */
export function parseEvents(text: string): FlowEvent[] {
  const events: FlowEvent[] = [];
  for (const line of text.split("\n")) {
    const [ms, event, ...detail] = line.trim().split(/\s+/);
    if (!/^\d+$/.test(ms ?? "") || event === undefined) continue;
    events.push({ ms: Number(ms), event, detail });
  }
  return events;
}

/** The marks a case's timeline must have, in order. */
export const MARKS = ["flows-up", "failover", "on-j2", "failback", "on-j1", "case-end"] as const;
/** One of {@link MARKS}. */
export type Mark = (typeof MARKS)[number];

/**
 * Parses a timeline (`EPOCH_MS MARK` lines).
 *
 * @throws {Error} If a mark of {@link MARKS} is missing or out of order.
 */
export function parseTimeline(text: string): Record<Mark, number> {
  const found = new Map(parseEvents(text).map((e) => [e.event, e.ms]));
  const timeline = {} as Record<Mark, number>;
  let previous = 0;
  for (const mark of MARKS) {
    const ms = found.get(mark);
    if (ms === undefined) throw new Error(`Timeline lacks the mark: ${mark}`);
    if (ms < previous) throw new Error(`Timeline mark out of order: ${mark}`);
    timeline[mark] = previous = ms;
  }
  return timeline;
}

/** Where the traffic went: through j1, then j2, then j1 again. */
export const PHASES = ["j1", "j2", "j1 again"] as const;
/** One of {@link PHASES}. */
export type Phase = (typeof PHASES)[number];

/** The phase an instant falls in; undefined while the routes move. */
export function phaseOf(timeline: Record<Mark, number>, ms: number): Phase | undefined {
  if (ms >= timeline["flows-up"] && ms < timeline.failover) return "j1";
  if (ms >= timeline["on-j2"] && ms < timeline.failback) return "j2";
  if (ms >= timeline["on-j1"] && ms <= timeline["case-end"]) return "j1 again";
  return undefined;
}

/** What the flows of one case did. */
export interface CaseReport {
  /** TCP connections the client opened (1 when nothing broke). */
  connections: number;
  /** The client's TCP failures (`tcp-timeout`, `tcp-reset`, ...), with times. */
  failures: FlowEvent[];
  /** TCP lines echoed, per phase. */
  echoes: Record<Phase, number>;
  /** The longest time without a TCP echo between flows-up and case-end, in ms. */
  longestSilenceMs: number;
  /** Lines the client wrote and got back (its `end` line). */
  sent: number;
  echoed: number;
  /** The UDP flow's IPv4 source ports the server saw, per phase. */
  udpPorts: Record<Phase, number[]>;
  /** Ping replies, per phase. */
  pingReplies: Record<Phase, number>;
}

const TCP_FAILURES = new Set([
  "tcp-timeout",
  "tcp-reset",
  "tcp-error",
  "tcp-closed-by-peer",
  "tcp-write-failed",
]);

function perPhase<T>(make: () => T): Record<Phase, T> {
  return { j1: make(), j2: make(), "j1 again": make() };
}

/** Reads one case's logs; the server log may hold other cases' events (they fall outside). */
export function reportCase(
  timelineText: string,
  clientText: string,
  serverText: string,
  pingText: string,
): CaseReport {
  const timeline = parseTimeline(timelineText);
  const client = parseEvents(clientText);
  const echoes = perPhase(() => 0);
  let last = timeline["flows-up"];
  let longestSilenceMs = 0;
  for (const e of client.filter((e) => e.event === "tcp-echo")) {
    const phase = phaseOf(timeline, e.ms);
    if (phase !== undefined) echoes[phase]++;
    if (e.ms <= timeline["case-end"]) {
      longestSilenceMs = Math.max(longestSilenceMs, e.ms - last);
      last = e.ms;
    }
  }
  longestSilenceMs = Math.max(longestSilenceMs, timeline["case-end"] - last);
  const end = client.find((e) => e.event === "end");
  const count = (name: string) =>
    Number(end?.detail.find((d) => d.startsWith(`${name}=`))?.slice(name.length + 1) ?? 0);
  const udpPorts = perPhase<number[]>(() => []);
  for (const e of parseEvents(serverText).filter((e) => e.event === "udp-received")) {
    const phase = phaseOf(timeline, e.ms);
    const port = Number(e.detail[1]);
    if (phase !== undefined && !udpPorts[phase].includes(port)) udpPorts[phase].push(port);
  }
  const pingReplies = perPhase(() => 0);
  // Replies read "SIZE bytes from ADDRESS: seq=N ...".
  const replies = parseEvents(pingText).filter((e) =>
    e.detail[0] === "bytes" && e.detail[1] === "from"
  );
  for (const e of replies) {
    const phase = phaseOf(timeline, e.ms);
    if (phase !== undefined) pingReplies[phase]++;
  }
  return {
    connections: client.filter((e) => e.event === "tcp-connected").length,
    failures: client.filter((e) => TCP_FAILURES.has(e.event)),
    echoes,
    longestSilenceMs,
    sent: count("sent"),
    echoed: count("echoed"),
    udpPorts,
    pingReplies,
  };
}

/**
 * Why the flows did not survive both moves (none: they did): the one TCP
 * connection must have gone on echoing in every phase, with no reset, no
 * timeout and no reconnect; the UDP flow must have reached the server from
 * one IPv4 source port throughout; the ping must have had replies in every
 * phase.
 */
export function survivalProblems(report: CaseReport): string[] {
  const problems: string[] = [];
  if (report.connections !== 1) {
    problems.push(`the client connected ${report.connections} times (reconnected)`);
  }
  for (const failure of report.failures) {
    problems.push(`TCP ${failure.event.slice(4)} ${failure.detail.join(" ")}`.trim());
  }
  const ports = new Set<number>();
  for (const phase of PHASES) {
    if (report.echoes[phase] === 0) problems.push(`no TCP echo through ${phase}`);
    if (report.udpPorts[phase].length === 0) problems.push(`no UDP datagram through ${phase}`);
    if (report.pingReplies[phase] === 0) problems.push(`no ping reply through ${phase}`);
    for (const port of report.udpPorts[phase]) ports.add(port);
  }
  if (ports.size > 1) {
    problems.push(`the server saw the UDP flow from ports ${[...ports].join(", ")}`);
  }
  // The last line or two may still be on their way back when the client ends.
  if (report.echoed < report.sent - 2) {
    problems.push(`${report.sent - report.echoed} of ${report.sent} TCP lines never came back`);
  }
  return problems;
}

/** The TCP failures after the failover: what a broken connection shows. */
export function failuresAfterFailover(timelineText: string, report: CaseReport): FlowEvent[] {
  const failover = parseTimeline(timelineText).failover;
  return report.failures.filter((f) => f.ms >= failover && f.event !== "tcp-error");
}

/** What the young connection did: opened just before the failover, on its own ports. */
export interface YoungReport {
  /** How long it had been connected when j1 died, in ms. */
  ageAtFailoverMs: number;
  /** TCP connections it opened (1 when nothing broke). */
  connections: number;
  failures: FlowEvent[];
  /** Lines echoed while traffic went through j2. */
  echoesOnJ2: number;
}

/** Reads the young client's log; null if it never connected (or did not run). */
export function reportYoung(timelineText: string, youngText: string): YoungReport | null {
  const timeline = parseTimeline(timelineText);
  const events = parseEvents(youngText);
  const connected = events.find((e) => e.event === "tcp-connected");
  if (connected === undefined) return null;
  return {
    ageAtFailoverMs: timeline.failover - connected.ms,
    connections: events.filter((e) => e.event === "tcp-connected").length,
    failures: events.filter((e) => TCP_FAILURES.has(e.event)),
    echoesOnJ2: events.filter((e) => e.event === "tcp-echo" && phaseOf(timeline, e.ms) === "j2")
      .length,
  };
}

/** Why the young connection did not survive (none: it did). */
export function youngProblems(young: YoungReport | null): string[] {
  if (young === null) return ["the young connection never connected"];
  const problems: string[] = [];
  if (young.connections !== 1) {
    problems.push(`the young client connected ${young.connections} times (reconnected)`);
  }
  for (const failure of young.failures) {
    problems.push(`young TCP ${failure.event.slice(4)} ${failure.detail.join(" ")}`.trim());
  }
  if (young.echoesOnJ2 === 0) problems.push("no young TCP echo through j2");
  return problems;
}

/** The young connection's story in two lines, for the demo. */
function describeYoung(young: YoungReport | null): string[] {
  if (young === null) return ["young TCP connection: never connected"];
  const age = `opened ${(young.ageAtFailoverMs / 1000).toFixed(1)} s before j1 died`;
  const problems = youngProblems(young);
  return [
    `young TCP connection, ${age}:`,
    problems.length === 0
      ? `  went on via j2 (${young.echoesOnJ2} echoes), no reconnect`
      : `  LOST: ${problems[0]}`,
  ];
}

/** A case's story, a line a step, for the demo. */
export function describeCase(
  timelineText: string,
  report: CaseReport,
  young?: YoungReport | null,
): string[] {
  const timeline = parseTimeline(timelineText);
  const at = (ms: number) => `${((ms - timeline["flows-up"]) / 1000).toFixed(1).padStart(5)} s`;
  const lines = [`${at(timeline["flows-up"])}  TCP connected, UDP and ping flowing via j1`];
  const events: [number, string][] = [
    [timeline.failover, "j1 dies: the client's route moves to j2"],
    [timeline.failback, "j1 is back: the route moves back to j1"],
    [timeline["case-end"], "end"],
  ];
  for (const f of report.failures) {
    const what = f.event === "tcp-timeout" ? `no echo for ${f.detail[0]} ms` : f.event.slice(4);
    events.push([f.ms, `TCP LOST (${what}): reconnect`]);
  }
  for (const [ms, what] of events.sort((a, b) => a[0] - b[0])) lines.push(`${at(ms)}  ${what}`);
  const ports = PHASES.map((p) => report.udpPorts[p].join("+") || "-").join(" / ");
  lines.push(
    `TCP connections: ${report.connections}, ${report.echoed} of ${report.sent} lines echoed`,
    `longest TCP silence: ${(report.longestSilenceMs / 1000).toFixed(1)} s`,
    `UDP source port seen by the server (j1 / j2 / j1): ${ports}`,
    `ping replies (j1 / j2 / j1): ${PHASES.map((p) => report.pingReplies[p]).join(" / ")}`,
  );
  if (young !== undefined) lines.push(...describeYoung(young));
  return lines;
}

/** Reads a case directory and the server log beside it. */
export async function reportCaseDir(
  dir: string,
): Promise<{ timeline: string; report: CaseReport; young: YoungReport | null }> {
  const read = (path: string) => Deno.readTextFile(path).catch(() => "");
  const timeline = await read(`${dir}/timeline.txt`);
  const report = reportCase(
    timeline,
    await read(`${dir}/client.log`),
    await read(`${dir}/../server.log`),
    await read(`${dir}/ping.log`),
  );
  return { timeline, report, young: reportYoung(timeline, await read(`${dir}/young.log`)) };
}

/** Two columns, the left padded to its widest line. */
export function sideBySide(left: string[], right: string[]): string[] {
  const width = Math.max(...left.map((line) => line.length));
  return Array.from(
    { length: Math.max(left.length, right.length) },
    (_, i) => `${(left[i] ?? "").padEnd(width)}    ${right[i] ?? ""}`.trimEnd(),
  );
}

if (import.meta.main) {
  if (Deno.args.length !== 2) {
    console.error("Usage: failover_timeline.ts CASE_DIR CASE_DIR");
    Deno.exit(2);
  }
  const columns: string[][] = [];
  for (const dir of Deno.args) {
    const { timeline, report, young } = await reportCaseDir(dir);
    const name = dir.replace(/\/$/, "").split("/").pop() ?? dir;
    const problems = survivalProblems(report);
    columns.push([
      `${name}: ${problems.length === 0 ? "the connection survived" : "the connection broke"}`,
      ...describeCase(timeline, report, young),
    ]);
  }
  // The summaries side by side too: the shorter story gets blank lines before its own.
  const ends = columns.map((column) => column.findIndex((line) => line.endsWith("  end")) + 1);
  const longest = Math.max(...ends);
  columns.forEach((column, i) => column.splice(ends[i], 0, ...Array(longest - ends[i]).fill("")));
  for (const line of sideBySide(columns[0], columns[1])) console.log(line);
}
