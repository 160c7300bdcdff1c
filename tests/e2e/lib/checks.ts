/**
 * What the e2e scenarios check, read from the out directory a scenario left
 * (the reading itself: records.ts). Shared by every scenario family
 * (tests/e2e/families).
 *
 * @module
 */

import assert from "node:assert/strict";
import { joolVersion } from "../../../src/jool/header.ts";
import { type SessionEncoding, sessionEncodingFor } from "../../../src/jool/session.ts";
import { garbageKinds } from "./garbage_datagrams.ts";
import {
  checkCounterRelations,
  diffSessions,
  expectedSessions,
  EXPIRY_MARGIN_MS,
  formatDiff,
  formatSession,
  inSync,
  JSON_COUNTERS,
  type JsonStats,
  judgedTables,
  MSG_NO_INSTANCE,
  MSG_SS_DISABLED,
  newLines,
  type NodeDiff,
  parseJsonStats,
  parseKeyValues,
  parseStats,
  parseTimedSessionCsv,
  parseTraffic,
  PROTOCOLS,
  REFERENCE_COUNTERS,
  type Session,
  sessionKey,
  sortSessions,
  type TimedSession,
  udpInErrors,
  versionOf,
} from "./records.ts";

/**
 * The time that starts each log line of our joold in the VM: its stderr is
 * a file, not journald's stream, so lines carry the time, not `<N>`.
 */
const LOG_TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

export * from "./records.ts";

// ---------------------------------------------------------------------------
// Running scenarios

/** What a scenario left behind. */
export interface Outcome {
  name: string;
  /** The Jool version the VM ran. */
  jool: string;
  out: string;
  nodes: string[];
}

export async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

export async function exists(path: string): Promise<boolean> {
  return (await readText(path)) !== undefined;
}

export async function loadTables(outcome: Outcome): Promise<Map<string, Session[]>> {
  const tables = new Map<string, TimedSession[]>();
  for (const node of outcome.nodes) {
    const sessions: TimedSession[] = [];
    for (const protocol of PROTOCOLS) {
      const path = `${outcome.out}/sessions/${node}.${protocol}.csv`;
      const text = await readText(path);
      if (text === undefined) throw new Error(`No session dump: ${path}`);
      sessions.push(...parseTimedSessionCsv(text));
    }
    tables.set(node, sessions);
  }
  return judgedTables(tables, EXPIRY_MARGIN_MS);
}

/** Checks the traffic worked and every node ended up with every session. */
export async function syncReport(
  outcome: Outcome,
): Promise<{ problems: string[]; diffs: NodeDiff[] }> {
  const tables = await loadTables(outcome);
  const flows = parseTraffic((await readText(`${outcome.out}/traffic.csv`)) ?? "");
  const { expected, problems } = expectedSessions(tables, flows);
  if (flows.length === 0) problems.push("The scenario made no traffic.");
  return { problems, diffs: diffSessions(tables, expected) };
}

export async function checkSync(outcome: Outcome): Promise<void> {
  const { problems, diffs } = await syncReport(outcome);
  assert.deepEqual(
    problems,
    [],
    `The traffic did not create the sessions:\n${problems.join("\n")}`,
  );
  assert.ok(inSync(diffs), `Sessions did not reach every node.\n${formatDiff(diffs)}`);
  await checkCleanStops(outcome);
}

/**
 * Each of our daemons that the harness stopped with SIGTERM exited 0, within
 * 1 s of guest time plus the harness's own overhead: under TCG the C joold,
 * which exits at once on SIGTERM, measures 800-900 ms here, and so does ours.
 */
export const STOP_LIMIT_MS = 2000;

export async function checkCleanStops(outcome: Outcome): Promise<void> {
  for await (const entry of Deno.readDir(`${outcome.out}/daemons`)) {
    if (!entry.name.endsWith(".cmd")) continue;
    const node = entry.name.slice(0, -".cmd".length);
    const base = `${outcome.out}/daemons/${node}`;
    if (!((await readText(`${base}.cmd`)) ?? "").includes("joold.js")) continue;
    const record = await daemonRecord(outcome, node);
    if (!record.stopped) continue;
    const stopMs = Number((await readText(`${base}.stop_ms`))?.trim());
    assert.equal(record.exit, "0", `${node}'s joold exited ${record.exit} on SIGTERM`);
    assert.ok(stopMs <= STOP_LIMIT_MS, `${node}'s joold took ${stopMs} ms to stop on SIGTERM`);
  }
}

export async function checkNegativeControl(outcome: Outcome): Promise<void> {
  const { problems, diffs } = await syncReport(outcome);
  assert.deepEqual(
    problems,
    [],
    `The traffic did not create the sessions:\n${problems.join("\n")}`,
  );
  const report = formatDiff(diffs);
  console.log(`What a broken sync looks like:\n${report}`);
  assert.ok(!inSync(diffs), `j2 ran no daemon yet the comparison saw no difference:\n${report}`);
  const tables = await loadTables(outcome);
  const fromJ1 = (tables.get("j1") ?? []).filter((s) => s.src6 === "2001:db8:1::2");
  const j2 = diffs.find((d) => d.node === "j2");
  assert.ok(fromJ1.length >= 4, `j1 should have created 4 sessions:\n${report}`);
  assert.deepEqual(
    j2?.missing.map(sessionKey),
    sortSessions(fromJ1).map(sessionKey),
    `The comparison should report exactly j1's sessions missing on j2:\n${report}`,
  );
  assert.match(report, /^j2: 8 expected, 4 present, 4 missing$/m);
  for (const s of fromJ1) assert.ok(report.includes(`- ${formatSession(s)}`), report);
}

export async function checkStats(outcome: Outcome): Promise<void> {
  await checkSync(outcome);
  // Signals: j2 got SIGHUP and ran on; j1 was stopped with SIGQUIT.
  const j1Record = await daemonRecord(outcome, "j1");
  const j2Record = await daemonRecord(outcome, "j2");
  assert.match(
    j2Record.stderr,
    new RegExp(
      `^${LOG_TIME} warning: SIGHUP: joold does not reload its configuration; restart it to ` +
        "apply changes$",
      "m",
    ),
  );
  assert.ok(j2Record.stopped && j2Record.exit === "0", `j2 after SIGHUP: ${j2Record.exit}`);
  assert.ok(!j1Record.stopped, "j1 did not stop on SIGQUIT: the harness had to stop it");
  assert.equal(j1Record.exit, "0", `j1 on SIGQUIT:\n${j1Record.stderr}`);
  const answers = new Map<string, Map<string, number>>();
  for (const node of ["j1", "j2"]) {
    const texts = [];
    for (const family of ["ipv4", "ipv6"]) {
      const path = `${outcome.out}/stats/${node}.${family}.txt`;
      const text = (await readText(path)) ?? "";
      assert.notEqual(text, "", `No stats answer from ${node} over ${family}: ${path}`);
      texts.push(text);
      answers.set(node, parseStats(text));
    }
    assert.equal(texts[0], texts[1], `${node} answered differently over IPv4 and IPv6`);
  }
  const j1 = answers.get("j1")!;
  const j2 = answers.get("j2")!;
  const summary = `j1: ${JSON.stringify([...j1])}\nj2: ${JSON.stringify([...j2])}`;
  assert.ok(j1.get("KERNEL_SENT_PKTS")! > 0, `j1 took no batch from its kernel:\n${summary}`);
  assert.ok(j1.get("NET_SENT_PKTS")! > 0, `j1 sent nothing to the network:\n${summary}`);
  assert.equal(j1.get("KERNEL_SENT_PKTS"), j2.get("NET_RCVD_PKTS"), summary);
  assert.equal(j1.get("NET_SENT_PKTS"), j2.get("NET_RCVD_PKTS"), summary);
  assert.equal(j1.get("NET_SENT_BYTES"), j2.get("NET_RCVD_BYTES"), summary);
  await checkJsonStats(outcome, answers);
  await checkPrometheus(outcome, j1);
}

/** j1's metrics port: the same counters as its stats port, over IPv4 and IPv6. */
export async function checkPrometheus(outcome: Outcome, j1: Map<string, number>): Promise<void> {
  const names: [string, string][] = [
    ["KERNEL_SENT_PKTS", "joold_kernel_batches_total"],
    ["KERNEL_SENT_BYTES", "joold_kernel_batch_bytes_total"],
    ["NET_SENT_PKTS", "joold_network_sent_datagrams_total"],
    ["NET_SENT_BYTES", "joold_network_sent_bytes_total"],
  ];
  for (const family of ["ipv4", "ipv6"]) {
    const path = `${outcome.out}/stats/j1.metrics.${family}`;
    const text = (await readText(path)) ?? "";
    assert.match(text, /^# HELP joold_build_info /, `No metrics from j1 over ${family}: ${text}`);
    for (const [csv, metric] of names) {
      const line = text.split("\n").find((l) => l.startsWith(`${metric} `));
      assert.equal(line, `${metric} ${j1.get(csv)}`, `${family}: ${metric} vs ${csv}`);
    }
    assert.match(text, /^joold_ack_latency_seconds_count [1-9]\d*$/m, family);
  }
}

export async function readJsonStats(outcome: Outcome, name: string): Promise<JsonStats> {
  const path = `${outcome.out}/stats/${name}.json`;
  const text = (await readText(path)) ?? "";
  assert.notEqual(text, "", `No JSON stats answer: ${path}`);
  return parseJsonStats(text);
}

export async function checkJsonStats(outcome: Outcome, csv: Map<string, Map<string, number>>) {
  const json = new Map<string, JsonStats>();
  for (const node of ["j1", "j2"]) {
    const answer = await readJsonStats(outcome, node);
    json.set(node, answer);
    const summary = `${node}: ${JSON.stringify(answer)}`;
    assert.equal(answer.instance, "default", summary);
    // Asked right after the six lines, with no traffic in between.
    for (const [name, key] of Object.entries(REFERENCE_COUNTERS)) {
      assert.equal(answer.counters[key], csv.get(node)!.get(name), `${key} vs ${name}: ${summary}`);
    }
    checkCounterRelations(node, answer);
    for (
      const key of [
        "kernelMalformed",
        "kernelErrors",
        "kernelOverruns",
        "netSendFailures",
        "netDropped",
        "controlDropped",
        "statsRefused",
      ] as const
    ) {
      assert.equal(answer.counters[key], 0, `${key}: ${summary}`);
    }
    assert.equal(answer.counters.resyncRequests, 1, summary);
    assert.ok(answer.uptimeSeconds >= 1 && answer.uptimeSeconds < 300, summary);
    assert.notEqual(answer.lastSyncTime, null, `${node} never synchronised: ${summary}`);
  }
  const j1 = json.get("j1")!;
  const j2 = json.get("j2")!;
  const both = `j1: ${JSON.stringify(j1)}\nj2: ${JSON.stringify(j2)}`;
  assert.ok(j1.counters.kernelSentPackets > 0, both);
  assert.ok(j1.ackLatency.maxUs > 0, both);
  // j2 heard j1 alone, on the sync port, and handed every datagram over.
  assert.deepEqual(Object.keys(j2.peers), ["[2001:db8:ff08::1]:6464"], both);
  const fromJ1 = j2.peers["[2001:db8:ff08::1]:6464"];
  assert.equal(fromJ1.datagrams, j1.counters.netSentPackets, both);
  assert.equal(fromJ1.bytes, j1.counters.netSentBytes, both);
  assert.equal(fromJ1.dropped, 0, both);
  assert.equal(j2.counters.kernelAdds, j1.counters.netSentPackets, both);
  // Both times are taken as j2 hands j1's last datagram to its kernel.
  const skew = Math.abs(Date.parse(fromJ1.lastSeenTime) - Date.parse(j2.lastSyncTime!));
  assert.ok(skew <= 1000, `j2's lastSyncTime and lastSeenTime of j1 differ by ${skew} ms`);
}

export async function daemonRecord(outcome: Outcome, node: string) {
  const base = `${outcome.out}/daemons/${node}`;
  return {
    stderr: (await readText(`${base}.stderr`)) ?? "",
    exit: (await readText(`${base}.exit`))?.trim(),
    /** True if the daemon was still running when the scenario ended (and was signalled). */
    stopped: await exists(`${base}.stopped`),
  };
}

export async function checkMissingInstance(outcome: Outcome): Promise<void> {
  const tool = (await readText(`${outcome.out}/errors/tool.stderr`)) ?? "";
  assert.ok(tool.includes(MSG_NO_INSTANCE), `Jool's tool got another message: ${tool}`);
  const ours = await daemonRecord(outcome, "j1");
  assert.ok(!ours.stopped, `joold kept running with a missing instance; stderr:\n${ours.stderr}`);
  assert.notEqual(
    ours.exit,
    "0",
    `joold exited 0 with a missing instance; stderr:\n${ours.stderr}`,
  );
  assert.ok(
    ours.stderr.includes(MSG_NO_INSTANCE),
    `joold's stderr lacks the kernel's message "${MSG_NO_INSTANCE}":\n${ours.stderr}`,
  );
}

export async function checkSyncDisabled(outcome: Outcome): Promise<void> {
  const kernelLog = (await readText(`${outcome.out}/errors/tool.dmesg`)) ?? "";
  assert.ok(kernelLog.includes(MSG_SS_DISABLED), `The kernel said something else: ${kernelLog}`);
  const ours = await daemonRecord(outcome, "j1");
  assert.ok(
    ours.stopped,
    `joold ended (status ${ours.exit}) when the kernel refused its sessions; stderr:\n${ours.stderr}`,
  );
  assert.ok(
    ours.stderr.includes(MSG_SS_DISABLED),
    `joold's stderr lacks the kernel's message "${MSG_SS_DISABLED}":\n${ours.stderr}`,
  );
}

export async function checkAutoEnable(outcome: Outcome): Promise<void> {
  for (const node of ["j1", "j2"]) {
    const before = (await readText(`${outcome.out}/ss/${node}.before`))?.trim();
    const after = (await readText(`${outcome.out}/ss/${node}.after`))?.trim();
    assert.equal(before, "false", `${node}: ss-enabled was not off before the daemon started`);
    const ours = await daemonRecord(outcome, node);
    assert.equal(
      after,
      "true",
      `${node}: ss-enabled is ${after} after joold started:\n${ours.stderr}`,
    );
    assert.ok(
      ours.stderr.includes(
        "Session sync was disabled on instance 'default'; joold enabled it",
      ),
      `${node}: joold did not say it enabled session sync:\n${ours.stderr}`,
    );
  }
  await checkSync(outcome);
}

/** The reference joold's syslog lines above notice (it has no other log). */
export async function referenceProblems(outcome: Outcome): Promise<string[]> {
  const syslog = (await readText(`${outcome.out}/syslog.log`)) ?? "";
  return syslog.split("\n").filter((line) =>
    /\bdaemon\.(emerg|alert|crit|err|warn)[a-z]*\b/.test(line) && line.includes("joold")
  );
}

/** Resync of 1,000 sessions must finish within this long after the daemon is ready. */
export const RESYNC_LIMIT_S = 5;
export const RESYNC_SESSIONS = 1000;

export async function checkResync(outcome: Outcome): Promise<void> {
  const dir = `${outcome.out}/resync`;
  const result = parseKeyValues((await readText(`${dir}/result`)) ?? "");
  const timeline = ((await readText(`${dir}/j2.timeline`)) ?? "").trim();
  const version = ((await readText(`${dir}/jool.version`)) ?? "unknown").trim();
  const tables = await loadTables(outcome);
  const j1 = (tables.get("j1") ?? []).filter((s) => s.protocol === "UDP");
  const ports = new Set(j1.map((s) => s.src6Port));
  assert.equal(
    j1.length,
    RESYNC_SESSIONS,
    `j1 should hold ${RESYNC_SESSIONS} UDP sessions, one per client port; it holds ${j1.length}`,
  );
  assert.ok(
    j1.every((s) => s.src6 === "2001:db8:1::2" && s.src6Port >= 20000 && s.src6Port < 21000) &&
      ports.size === RESYNC_SESSIONS,
    "j1's UDP sessions are not the load generator's",
  );

  // The exchange itself: j2 asked, j1 answered and had its kernel advertise.
  const requester = await daemonRecord(outcome, "j2");
  const answerer = await daemonRecord(outcome, "j1");
  assert.ok(
    requester.stderr.includes("Resync: [2001:db8:ff08::1]:6465 is advertising its sessions to us"),
    `j2 got no resync answer from j1:\n${requester.stderr}`,
  );
  assert.ok(
    answerer.stderr.includes(
      "Advertised the session table (resync requested by [2001:db8:ff08::2]:6465)",
    ),
    `j1 did not advertise for j2:\n${answerer.stderr}`,
  );
  for (const [node, record] of [["j1", answerer], ["j2", requester]] as const) {
    assert.ok(record.stopped, `${node}'s joold ended early (status ${record.exit})`);
    assert.doesNotMatch(
      record.stderr,
      new RegExp(`^${LOG_TIME} error: `, "m"),
      `${node}'s joold logged errors`,
    );
  }
  const kernel = newLines(
    (await readText(`${dir}/kernel.before`)) ?? "",
    (await readText(`${dir}/kernel.after`)) ?? "",
  );
  assert.deepEqual(kernel, [], `Jool logged problems in the kernel log:\n${kernel.join("\n")}`);
  const reference = await referenceProblems(outcome);
  assert.deepEqual(reference, [], `A reference joold complained:\n${reference.join("\n")}`);

  const j1Before = await readJsonStats(outcome, "j1.before");
  const j1After = await readJsonStats(outcome, "j1.after");
  const j2Stats = await readJsonStats(outcome, "j2");
  checkCounterRelations("j1", j1After);
  checkCounterRelations("j2", j2Stats);
  const j2Keys = new Set((tables.get("j2") ?? []).map(sessionKey));
  const got = j1.filter((s) => j2Keys.has(sessionKey(s))).length;
  const complete = result.get("complete_after");
  const batches = j1After.counters.kernelSentPackets - j1Before.counters.kernelSentPackets;
  const report = [
    `Jool ${version}; j2's daemon ready at uptime ${result.get("ready_uptime")}s; ` +
    `complete: ${complete === "never" ? "never" : `after ${complete}s`} ` +
    `(limit ${RESYNC_LIMIT_S}s); j2 holds ${got} of j1's ` +
    `${j1.length} UDP sessions (watched for ${result.get("watched_for")}s)`,
    `j1 while answering: advertisements ${j1Before.counters.advertisements} -> ` +
    `${j1After.counters.advertisements}, kernel batches +${batches} ` +
    `(${j1Before.counters.kernelSentPackets} -> ${j1After.counters.kernelSentPackets}), ` +
    `sent +${j1After.counters.netSentPackets - j1Before.counters.netSentPackets}`,
    `j2: received ${j2Stats.counters.netReceivedPackets} datagrams, handed ` +
    `${j2Stats.counters.kernelAdds} to its kernel, dropped ${j2Stats.counters.netDropped}`,
    `j2's UDP sessions, seconds after ready: ${timeline.split("\n").join(", ")}`,
  ];
  const dumped = j1After.counters.advertisedSessions - j1Before.counters.advertisedSessions;
  report.push(`j1 sent ${dumped} sessions from its own reading of the table`);
  if (versionOf(version) < joolVersion(4, 1, 11)) {
    // JOOLD_ADVERTISE is a no-op before 4.1.11 (src/mod/common/joold.c queues
    // "advertisement" nodes that nothing sends; fixed upstream by 4fcfe184
    // "Fix joold advertise"): the answer must come from SESSION_FOREACH.
    assert.ok(
      dumped >= RESYNC_SESSIONS,
      `On Jool ${version} j1 should send its table itself:\n${report.join("\n")}`,
    );
    assert.match(
      answerer.stderr,
      /Advertised the session table \(resync requested by \[2001:db8:ff08::2\]:6465\): \d+ sessions in \d+ datagrams, read from the table because Jool 4\.1\.\d+\.0 ignores JOOLD_ADVERTISE/,
    );
  }
  console.log(`${outcome.name}:\n  ${report.join("\n  ")}`);
  assert.ok(
    complete !== undefined && complete !== "never" && Number(complete) <= RESYNC_LIMIT_S &&
      got === j1.length,
    `j2 did not get all of j1's sessions within ${RESYNC_LIMIT_S}s of starting:\n` +
      report.join("\n"),
  );
}

/** The garbage sender: namespace g's sync address, from the sync port. */
export const GARBAGE_PEER = "[2001:db8:ff08::9]:6464";
/** The stats' key for senders without an entry of their own (a valid datagram gives one). */
export const GARBAGE_OTHER = "other";

/**
 * The session encoding a Jool version's kernel writes, which the garbage is
 * made in (src/jool/session_layout.ts).
 */
export function garbageEncoding(version: number): SessionEncoding {
  return sessionEncodingFor(version);
}

/** The kinds of garbage made per encoding (tests/e2e/lib/garbage_datagrams.ts), sorted. */
export function garbageKindsOf(encoding: SessionEncoding): string[] {
  return garbageKinds(encoding).sort();
}

export async function checkGarbage(outcome: Outcome): Promise<void> {
  const dir = `${outcome.out}/garbage`;
  const sent = JSON.parse((await readText(`${dir}/sent.json`)) ?? "{}");
  // The scenario's record of /sys/module/jool/version: the kernel's encoding follows from it.
  const versionText = ((await readText(`${dir}/jool.version`)) ?? "").trim();
  const version = versionOf(versionText);
  assert.notEqual(version, 0, `garbage/jool.version is not a Jool version: "${versionText}"`);
  const encoding = garbageEncoding(version);
  const dotted = [version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff]
    .join(".");
  console.log(`garbage: Jool ${dotted}, garbage made in the ${encoding} encoding`);
  assert.equal(sent.sent, 1000, `garbage sent: ${JSON.stringify(sent)}`);
  assert.equal(sent.encoding, encoding, `garbage sent: ${JSON.stringify(sent)}`);
  assert.deepEqual(Object.keys(sent.kinds).sort(), garbageKindsOf(encoding));
  for (const node of ["j1", "j2"]) {
    const before = await readJsonStats(outcome, `${node}.before`);
    const after = await readJsonStats(outcome, `${node}.after`);
    checkCounterRelations(node, after);
    // Datagrams the kernel dropped for a full socket buffer never reached
    // the daemon; every other one must have been counted as dropped.
    const lost = udpInErrors((await readText(`${dir}/${node}.snmp6.after`)) ?? "") -
      udpInErrors((await readText(`${dir}/${node}.snmp6.before`)) ?? "");
    const arrived = sent.sent - lost;
    const delta = (key: (typeof JSON_COUNTERS)[number]) =>
      after.counters[key] - before.counters[key];
    const summary = `${node} (${lost} lost to a full socket buffer):\nbefore ${
      JSON.stringify(before)
    }\nafter ${JSON.stringify(after)}`;
    console.log(
      `garbage: ${node} dropped ${delta("netDropped")} of ${sent.sent} sent ` +
        `(${lost} lost before the daemon), in ${sent.durationMs} ms of sending`,
    );
    assert.equal(delta("netDropped"), arrived, `netDropped: ${summary}`);
    assert.equal(delta("netReceivedPackets"), arrived, `netReceivedPackets: ${summary}`);
    assert.equal(delta("kernelAdds"), 0, `kernelAdds: ${summary}`);
    assert.equal(delta("kernelErrors"), 0, `kernelErrors: ${summary}`);
    // g never sent a valid datagram, so it has no entry of its own: its
    // datagrams count under "other" (which may hold earlier ones already).
    const other = (stats: JsonStats, key: "datagrams" | "dropped") =>
      stats.peers[GARBAGE_OTHER]?.[key] ?? 0;
    assert.equal(before.peers[GARBAGE_PEER], undefined, summary);
    assert.equal(after.peers[GARBAGE_PEER], undefined, summary);
    assert.equal(other(after, "datagrams") - other(before, "datagrams"), arrived, summary);
    assert.equal(other(after, "dropped") - other(before, "dropped"), arrived, summary);
    assert.equal(
      await readText(`${dir}/${node}.sessions.after`),
      await readText(`${dir}/${node}.sessions.before`),
      `${node}'s kernel sessions changed while the garbage arrived`,
    );
  }
  const kernel = newLines(
    (await readText(`${dir}/kernel.before`)) ?? "",
    (await readText(`${dir}/kernel.after`)) ?? "",
  );
  assert.deepEqual(kernel, [], `Jool logged problems in the kernel log:\n${kernel.join("\n")}`);

  assert.equal((await readText(`${dir}/j2.running`))?.trim(), "yes", "j2's joold died");
  const j2 = await daemonRecord(outcome, "j2");
  assert.ok(j2.stopped, `j2's joold ended by itself (status ${j2.exit}):\n${j2.stderr}`);
  assert.ok(
    j2.stderr.includes(`Jool module ${dotted}: peers' sessions must be in the ${encoding}`),
    `j2 did not check datagrams against the ${encoding} encoding of Jool ${dotted}:\n${j2.stderr}`,
  );
  const drops = j2.stderr.split("\n").filter((line) => line.includes("Dropped a datagram"));
  // One line per sender per 10 s: the sending lasted a few seconds at most.
  const allowed = 1 + Math.ceil((sent.durationMs + 2000) / 10_000);
  assert.ok(
    drops.length >= 1 && drops.length <= allowed,
    `j2 logged ${drops.length} drop lines (1 to ${allowed} expected):\n${drops.join("\n")}`,
  );
  for (const line of drops) {
    assert.match(
      line,
      new RegExp(
        String.raw`^${LOG_TIME} warning: Dropped a datagram from \[2001:db8:ff08::9\]:6464: \S`,
      ),
    );
  }
  // The log accounts for every drop: the lines, the "and N more" on them,
  // and the summaries ("Dropped N more datagrams", at the latest at exit).
  const j2After = await readJsonStats(outcome, "j2.after");
  let logged = drops.length;
  for (const line of j2.stderr.split("\n")) {
    const more = /and (\d+) more since the last report/.exec(line) ??
      new RegExp(
        String.raw`^${LOG_TIME} warning: Dropped (\d+) more datagrams? from \[2001:db8:ff08::9\] `,
      )
        .exec(line);
    if (more !== null) logged += Number(more[1]);
  }
  // Every drop line names g, so every drop counted under "other" is g's.
  assert.equal(
    logged,
    j2After.peers[GARBAGE_OTHER]?.dropped,
    `j2's log accounts for ${logged} drops:\n${j2.stderr}`,
  );
  // Sessions of both rounds of traffic (before and after the garbage) are on both nodes.
  await checkSync(outcome);
}

/** What `joold check` must print for each case of the check scenario. */
export const CHECK_CASES: { name: string; exit: string; lines: RegExp[] }[] = [
  {
    name: "good",
    exit: "0",
    lines: [
      /^ok {4}netsocket: \S+: ff08::db8:64:64 port 6464, in sync0, out sync0, ttl 3, control port 6465$/m,
      /^ok {4}modsocket: \S+: instance 'default'$/m,
      /^ok {4}privileges: CAP_NET_ADMIN is in effect$/m,
      /^ok {4}Jool module: loaded /m,
      /^ok {4}instance 'default': exists in this network namespace$/m,
      /^ok {4}session sync: ss-enabled is on/m,
      /^ok {4}multicast socket: joined ff08::db8:64:64 port 6464$/m,
      /^ok {4}control socket: joined ff08::db8:64:64 port 6465$/m,
      /^no problems found$/m,
    ],
  },
  {
    name: "missing-instance",
    exit: "1",
    lines: [
      /^ok {4}Jool module: loaded /m,
      /^FAIL {2}instance 'ghost': does not exist in this network namespace /m,
      /^skip {2}session sync: needs the instance$/m,
      /^ok {4}multicast socket: /m,
      /^1 problem found$/m,
    ],
  },
  {
    name: "ss-off",
    exit: "1",
    lines: [
      /^ok {4}instance 'default': exists/m,
      /^FAIL {2}session sync: the kernel says "Session sync is disabled on this instance\."; enable it with `jool global update ss-enabled true`/m,
      /^1 problem found$/m,
    ],
  },
  {
    name: "ss-off-enable",
    exit: "0",
    lines: [
      /^warn {2}session sync: the kernel says "Session sync is disabled on this instance\."; the daemon turns ss-enabled on when it starts/m,
      /^no problems found$/m,
    ],
  },
  {
    name: "bad-interface",
    exit: "1",
    lines: [
      /^FAIL {2}netsocket: \S+: "in interface": no interface in this network namespace is called "nosuch0"$/m,
      /^ok {4}session sync: ss-enabled is on/m,
      /^skip {2}multicast socket: needs a valid netsocket file$/m,
      /^skip {2}control socket: needs a valid netsocket file$/m,
      /^1 problem found$/m,
    ],
  },
];

export async function checkCheckCommand(outcome: Outcome): Promise<void> {
  for (const c of CHECK_CASES) {
    const base = `${outcome.out}/commands/${c.name}`;
    const stdout = (await readText(`${base}.stdout`)) ?? "";
    const stderr = (await readText(`${base}.stderr`)) ?? "";
    const exit = (await readText(`${base}.exit`))?.trim();
    const shown = `joold check (${c.name}) exited ${exit}; stdout:\n${stdout}stderr:\n${stderr}`;
    assert.equal(exit, c.exit, shown);
    for (const line of c.lines) assert.match(stdout, line, shown);
  }
  const ss = (await readText(`${outcome.out}/check/j2.ss-enabled`))?.trim();
  assert.equal(ss, "false", "joold check changed j2's ss-enabled");
}

/** One run of a unit under tests/e2e/lib/unit_supervisor.sh (a line of units/NODE/runs). */
export interface UnitRun {
  start: number;
  pid: string;
  status?: string;
  end?: number;
}

export async function unitRuns(outcome: Outcome, node: string): Promise<UnitRun[]> {
  const text = (await readText(`${outcome.out}/units/${node}/runs`)) ?? "";
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [start, pid, status, end] = line.trim().split(" ");
    return { start: Number(start), pid, status, end: end === undefined ? undefined : Number(end) };
  });
}

/** RestartSec= of packaging/joold.service, which the supervisor must have waited. */
export const RESTART_SEC = 5;

export async function checkInstall(outcome: Outcome): Promise<void> {
  const dir = `${outcome.out}/install`;
  const read = async (name: string) => ((await readText(`${dir}/${name}`)) ?? "").trim();
  const installed = `exit status ${await read("install.exit")}:\n${await read(
    "install.stdout",
  )}\n${await read("install.stderr")}`;
  assert.equal(await read("install.exit"), "0", `The README's install lines failed, ${installed}`);
  const stdout = await read("install.stdout");
  assert.match(stdout, /^joold-x86_64-linux\.tar\.gz: OK$/m, `No checksum verified, ${installed}`);
  assert.match(
    stdout,
    /^Installed joold \S+ \(compatible with Jool [\d.]+ joold; Deno [\d.]+\) as \/usr\/local\/bin\/joold$/m,
    installed,
  );
  assert.match(
    stdout,
    /^Created \/etc\/joold\/netsocket\.json from examples\/ipv6-netsocket\.json$/m,
  );
  assert.match(stdout, /^Created \/etc\/joold\/modsocket\.json from examples\/modsocket\.json$/m);
  assert.deepEqual((await read("modes")).split("\n"), [
    "755 root /usr/local/bin/joold",
    "644 root /usr/local/share/man/man8/joold.8",
    "644 root /usr/local/lib/systemd/system/joold.service",
    "644 root /usr/local/lib/systemd/system/joold@.service",
    "644 root /etc/joold/netsocket.json",
    "644 root /etc/joold/modsocket.json",
  ]);
  // Debian's jool-tools' C joold, where present, stays; ours comes first.
  assert.equal(await read("which"), "/usr/local/bin/joold");
  assert.equal(await read("man"), "/usr/local/share/man/man8/joold.8");
  if ((await read("debian-joold")) === "yes") {
    assert.match(stdout, /^Note: \/usr\/bin\/joold \(the C joold of Debian's jool-tools\) stays;/m);
    assert.ok(
      (await read("man-all")).includes("/usr/share/man/man8/joold.8"),
      await read("man-all"),
    );
  }
  for (const node of ["j1", "j2"]) {
    const files = node === "j1" ? "/etc/joold/" : "/etc/joold/j2/";
    const check = `${await read(`check-${node}.cmd`)} in ${node}: exit status ${await read(
      `check-${node}.exit`,
    )}\n${await read(`check-${node}.stdout`)}${await read(`check-${node}.stderr`)}`;
    assert.equal(await read(`check-${node}.exit`), "0", check);
    assert.match(
      await read(`check-${node}.stdout`),
      new RegExp(
        `^ok {4}netsocket: ${files}netsocket\\.json: ff08::db8:64:64 port 6464, in sync0, out sync0, ttl 3, control port 6465$`,
        "m",
      ),
      check,
    );
    assert.match(await read(`check-${node}.stdout`), /^no problems found$/m, check);
  }

  // The units' user, made by install.sh.
  const [user, uid, home, shell] = (await read("user")).split(":");
  assert.deepEqual([user, home, shell], ["joold", "/nonexistent", "/usr/sbin/nologin"]);

  // In clear, j1 ran twice: killed (SIGKILL: 137), restarted RestartSec= later, stopped (0).
  const j1 = await unitRuns(outcome, "j1-clear");
  const j2 = await unitRuns(outcome, "j2-clear");
  const runs = `j1 runs: ${JSON.stringify(j1)}; j2 runs: ${JSON.stringify(j2)}`;
  assert.deepEqual(j1.map((run) => run.status), ["137", "0"], runs);
  assert.ok(j1[1].start - j1[0].end! >= RESTART_SEC - 0.1, `restarted too early: ${runs}`);
  assert.deepEqual(j2.map((run) => run.status), ["0"], runs);
  // Sealed, each ran once (no watchdog timeout: SIGABRT, 134) and stopped cleanly.
  for (const node of ["j1", "j2"]) {
    const sealed = await unitRuns(outcome, node);
    assert.deepEqual(sealed.map((run) => run.status), ["0"], `${node}: ${JSON.stringify(sealed)}`);
  }
  for (const node of ["j1-clear", "j2-clear", "j1", "j2"]) {
    const record = await daemonRecord(outcome, node);
    assert.ok(record.stopped, `${node}'s unit ended by itself (status ${record.exit})`);
    assert.equal(record.exit, "0", `${node}'s unit did not stop cleanly:\n${record.stderr}`);
  }
  // Each ran as the unit says: user joold, only CAP_NET_ADMIN (bit 12), no new privileges.
  for (const name of ["j1-clear", "j1", "j2"]) {
    const identity = parseKeyValues(
      (await read(`identity-${name}`)).replaceAll(":\t", "=").replaceAll("\t", " "),
    );
    const who = `${name}'s daemon: ${JSON.stringify(Object.fromEntries(identity))}`;
    assert.equal(identity.get("Uid"), `${uid} ${uid} ${uid} ${uid}`, who);
    for (const set of ["CapEff", "CapPrm", "CapAmb", "CapBnd"]) {
      assert.equal(identity.get(set), "0000000000001000", `${set}: ${who}`);
    }
    assert.equal(identity.get("NoNewPrivs"), "1", who);
  }
  // Type=notify: READY=1 and STATUS= lines; WATCHDOG=1 from the longest run.
  for (const name of ["j1-clear", "j2-clear", "j1", "j2"]) {
    const notified = (await readText(`${outcome.out}/units/${name}/notify.log`)) ?? "";
    assert.match(notified, / READY=1$/m, `${name} sent no READY=1:\n${notified}`);
    assert.match(notified, / STATUS=/m, `${name} sent no STATUS=:\n${notified}`);
  }
  assert.match(
    (await readText(`${outcome.out}/units/j2-clear/notify.log`)) ?? "",
    / WATCHDOG=1$/m,
    "j2's first run sent no WATCHDOG=1",
  );
  // joold status: in sync (0), not running (3), then not in sync (1) while j2
  // was stopped, and in sync again (0) once it ran on.
  assert.equal(await read("status-in-sync.exit"), "0", await read("status-in-sync.txt"));
  assert.equal(await read("status-stopped.exit"), "3", await read("status-stopped.txt"));
  const sequence = (await read("status-sequence")).split("\n");
  assert.ok(
    sequence.includes("3") && sequence.includes("1") &&
      sequence.indexOf("3") < sequence.lastIndexOf("1"),
    `joold status from before j1's sealed start: ${sequence.join(" ")}`,
  );
  assert.equal(
    await read("status-in-sync-sealed.exit"),
    "0",
    await read("status-in-sync-sealed.txt"),
  );
  // Sealed: the key from joold keygen is the units' group's, and check reads it as they would.
  assert.deepEqual((await read("key-modes")).split("\n"), [
    "640 root joold /etc/joold/sync.key",
    "640 root joold /etc/joold/j2/sync.key",
  ]);
  const sealedCheck = await read("check-j1-sealed.stdout");
  assert.equal(await read("check-j1-sealed.exit"), "0", sealedCheck);
  assert.match(sealedCheck, /^ok {4}auth key file: \/etc\/joold\/sync\.key: sends with key 1$/m);
  for (const node of ["j1", "j2"]) {
    assert.match(
      (await daemonRecord(outcome, node)).stderr,
      /Network socket ready: .*authenticated/,
      `${node}'s sealed start`,
    );
  }
  // The restarted daemon asked for what it missed, and j2 answered.
  const j1Log = (await daemonRecord(outcome, "j1-clear")).stderr;
  const restarted = j1Log.slice(j1Log.lastIndexOf("supervisor: started"));
  assert.match(
    restarted,
    /Resync: \[2001:db8:ff08::2\]:6465 is advertising its sessions to us/,
    `j1's restarted daemon got no resync answer:\n${restarted}`,
  );
  // Every flow, those through j2 while j1's daemon was down included, on both nodes.
  await checkSync(outcome);
}
