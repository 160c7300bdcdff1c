/**
 * Fault injection: the Jool module and instance going away, a
 * peer daemon stopped, killed or overrun, the sync interface re-created, and
 * floods and forgeries from a stranger on the sync link, each with sessions
 * in flight. Every session created once the fault is over must reach every
 * node, and the daemons' logs must stay bounded.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Scenario } from "../lib/harness.ts";
import {
  checkCleanStops,
  checkLatency,
  checkSync,
  daemonRecord,
  isCount,
  type LatencyJson,
  loadTables,
  type Outcome,
  readJsonStats,
  readText,
  udpInErrors,
  unitRuns,
} from "../lib/checks.ts";

/** ACK latency the issue asks for under a stats and metrics flood. */
export const FLOOD_ACK_P99_TARGET_US = 10_000;
/** A p99 beyond this bucket bound (131 ms) under the flood is a stalled loop, not emulation jitter. */
export const FLOOD_STALL_LIMIT_US = 131_072;

/**
 * Log lines a daemon may write in `uptimeSeconds`: its start-up and exit
 * lines, and per 10 s a few rate-limited ones for each kind of trouble (a
 * stranger's drops and their report, its stats refusals, advertisements).
 * The limiters allow more (20 per 10 s, src/log.ts); a stranger on many
 * source ports must not get near that.
 */
export function logLineLimit(uptimeSeconds: number): number {
  return 30 + 6 * Math.ceil((uptimeSeconds + 1) / 10);
}

/** The cumulative buckets of joold_ack_latency_seconds in a metrics page: upper bound (µs) → count. */
export function ackBuckets(metrics: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (
    const match of metrics.matchAll(/^joold_ack_latency_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)
  ) {
    buckets.set(
      match[1] === "+Inf" ? Infinity : Math.round(Number(match[1]) * 1e6),
      Number(match[2]),
    );
  }
  assert.ok(buckets.size > 0, `No ACK latency buckets in:\n${metrics.slice(0, 400)}`);
  return buckets;
}

/**
 * The ACKs between two metrics pages: how many, and the bucket bound (µs)
 * under which 99% of them fall (the histogram's resolution: powers of two).
 */
export function ackP99Between(before: string, after: string): { count: number; p99UpToUs: number } {
  const a = ackBuckets(before);
  const b = ackBuckets(after);
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const count = b.get(Infinity)! - (a.get(Infinity) ?? 0);
  const bound = bounds.find((le) => b.get(le)! - (a.get(le) ?? 0) >= 0.99 * count);
  return { count, p99UpToUs: bound ?? Infinity };
}

/** The counters these checks read (the JSON answer has more: docs/stats.md). */
const COUNTERS = [
  "kernelAcks",
  "kernelAdds",
  "kernelErrors",
  "kernelOverruns",
  "kernelSentPackets",
  "netSentPackets",
  "netReceivedPackets",
  "netDropped",
  "netSendFailures",
  "advertisements",
  "resyncAnswers",
  "resyncRequests",
  "controlDropped",
  "statsAnswers",
  "statsRefused",
  "authDropped",
  "replayDropped",
] as const;
type Counter = (typeof COUNTERS)[number];

/** What these checks read of a JSON stats answer. */
interface Counters {
  uptimeSeconds: number;
  counters: Record<Counter, number>;
  ackLatency: LatencyJson;
}

/**
 * Reads stats/NAME.json, our daemon's JSON answer, for the fields above
 * (the shape as a whole is checked by ours-stats).
 */
async function readCounters(outcome: Outcome, name: string): Promise<Counters> {
  const path = `${outcome.out}/stats/${name}.json`;
  const text = (await readText(path)) ?? "";
  assert.notEqual(text.trim(), "", `No JSON stats answer: ${path}`);
  const json = JSON.parse(text);
  for (const key of COUNTERS) {
    assert.ok(isCount(json.counters?.[key]), `${path}: counters.${key} is ${json.counters?.[key]}`);
  }
  assert.ok(isCount(json.uptimeSeconds), `${path}: uptimeSeconds`);
  checkLatency(json.ackLatency, `${path}: ackLatency`);
  return json as Counters;
}

/** A counter's change between two answers. */
function delta(before: Counters, after: Counters, key: Counter): number {
  return after.counters[key] - before.counters[key];
}

async function readJson(path: string): Promise<Record<string, number>> {
  const text = await readText(path);
  assert.ok(text !== undefined && text.trim() !== "", `Missing: ${path}`);
  return JSON.parse(text);
}

/** Checks a daemon's log is bounded; returns its line count for the report. */
async function checkLogBound(outcome: Outcome, node: string, uptimeSeconds: number) {
  const record = await daemonRecord(outcome, node);
  const lines = record.stderr.split("\n").filter((line) => line.trim() !== "");
  const limit = logLineLimit(uptimeSeconds);
  assert.ok(
    lines.length <= limit,
    `${node}'s daemon logged ${lines.length} lines in ${uptimeSeconds} s (limit ${limit}):\n` +
      lines.slice(0, 60).join("\n"),
  );
  return lines.length;
}

export async function checkFaultsFlood(outcome: Outcome): Promise<void> {
  const dir = `${outcome.out}/faults`;
  const stats = (node: string, fault: string, when: string) =>
    readCounters(outcome, `${node}.${fault}.${when}`);
  const report: string[] = [`Jool ${(await readText(`${dir}/jool.version`))?.trim()}`];

  // 1. The forged request: j2 answered it once, j1 refused the answer.
  const asking = new Map<string, number>();
  for (const node of ["j1", "j2"]) {
    asking.set(
      node,
      delta(
        await stats(node, "forge", "base"),
        await stats(node, "forge", "before"),
        "statsAnswers",
      ),
    );
  }
  const forged = async (node: string, key: Counter) =>
    delta(await stats(node, "forge", "before"), await stats(node, "forge", "after"), key) -
    (key === "statsAnswers" ? asking.get(node)! : 0);
  const forge = {
    j1Answers: await forged("j1", "statsAnswers"),
    j1Refused: await forged("j1", "statsRefused"),
    j2Answers: await forged("j2", "statsAnswers"),
    j2Refused: await forged("j2", "statsRefused"),
  };
  report.push(`forge: ${JSON.stringify(forge)} (answers beyond the counters' own queries)`);
  assert.equal(forge.j2Answers, 1, `j2 should answer the forged request once: ${report.at(-1)}`);
  assert.equal(forge.j1Answers, 0, `j1 answered j2's answer: ${report.at(-1)}`);
  assert.equal(forge.j1Refused, 1, `j1 should refuse j2's answer once: ${report.at(-1)}`);

  // 2. The stats and metrics flood during a burst: ACKs stay fast.
  const j1Stats = await stats("j1", "stats", "after");
  const page = async (name: string) =>
    (await readText(`${outcome.out}/stats/${name}.metrics`)) ?? "";
  const quiet = ackP99Between(await page("j1.quiet.before"), await page("j1.quiet.after"));
  const flooded = ackP99Between(await page("j1.quiet.after"), await page("j1.stats.after"));
  const json = await readJson(`${dir}/stats-udp.json`);
  const http = await readJson(`${dir}/stats-http.json`);
  const scrape = (await readText(`${dir}/stats-scrape.txt`))?.trim();
  report.push(
    `stats flood: g sent ${json.sent} json requests in ${json.durationMs} ms; j1 answered ` +
      `${delta(await stats("j1", "stats", "before"), j1Stats, "statsAnswers")}, refused ` +
      `${delta(await stats("j1", "stats", "before"), j1Stats, "statsRefused")}; metrics: ` +
      `${JSON.stringify(http)}; j2's scrape during the flood: ${scrape}; ` +
      `j1's ACKs: ${JSON.stringify(flooded)} during the flood's burst, ` +
      `${JSON.stringify(quiet)} during the same burst without a flood (p99 up to the ` +
      `bucket bound); since start ${JSON.stringify(j1Stats.ackLatency)}`,
  );

  // 3. 5,000 forged REQUESTs: at most one advertisement per 2 s interval.
  const requests = await readJson(`${dir}/requests.json`);
  const allowed = 1 + Math.ceil(requests.durationMs / 2000);
  for (const node of ["j1", "j2"]) {
    const before = await stats(node, "requests", "before");
    const after = await stats(node, "requests", "after");
    const advertised = delta(before, after, "advertisements");
    report.push(
      `requests: ${requests.sent} in ${requests.durationMs} ms; ${node} advertised ` +
        `${advertised} times (at most ${allowed}), answered ${
          delta(before, after, "resyncAnswers")
        }, dropped ${delta(before, after, "controlDropped")} control datagrams`,
    );
    assert.ok(advertised <= allowed, report.at(-1));
  }

  // 4. The garbage: dropped, none of it reached a kernel, the real burst did.
  const garbage = await readJson(`${dir}/garbage.json`);
  const j1Before = await stats("j1", "garbage", "before");
  const j1After = await stats("j1", "garbage", "after");
  for (const node of ["j1", "j2"]) {
    const before = await stats(node, "garbage", "before");
    const after = await stats(node, "garbage", "after");
    const lost = udpInErrors((await readText(`${dir}/${node}.snmp6.garbage.after`)) ?? "") -
      udpInErrors((await readText(`${dir}/${node}.snmp6.garbage.before`)) ?? "");
    const peer = node === "j1" ? j1After : after;
    const fromPeer = node === "j1" ? 0 : delta(j1Before, j1After, "netSentPackets");
    report.push(
      `garbage: g sent ${garbage.sent} in ${garbage.durationMs} ms from ${garbage.sourcePorts} ` +
        `ports; ${node} dropped ${delta(before, after, "netDropped")}, handed ` +
        `${delta(before, after, "kernelAdds")} to its kernel (the peer sent ${fromPeer}), ` +
        `kernel errors ${delta(before, after, "kernelErrors")}, ${lost} lost to a full ` +
        `socket buffer; ACK latency ${JSON.stringify(peer.ackLatency)}`,
    );
    assert.equal(delta(before, after, "kernelErrors"), 0, report.at(-1));
    if (node === "j2") assert.equal(delta(before, after, "kernelAdds"), fromPeer, report.at(-1));
  }

  // Logs stay bounded.
  for (const node of ["j1", "j2"]) {
    const last = await stats(node, "garbage", "after");
    const lines = await checkLogBound(outcome, node, last.uptimeSeconds);
    report.push(`${node} logged ${lines} lines in ${last.uptimeSeconds} s`);
  }
  console.log(`${outcome.name}:\n  ${report.join("\n  ")}`);
  // Every burst (each flood's included) on both nodes, and clean stops.
  await checkSync(outcome);
  // The issue's bar is 10 ms, a speed target: those are printed (above, and
  // in docs/operation.md), not asserted, since under TCG the same burst
  // without a flood has a p99 of 8 to 33 ms (a descheduled vCPU; the p99 of
  // some 32 ACKs is their slowest). What is asserted is what the flood must
  // never do: stall the loop (the finding: one wake-up of 3,070 ms) and lose
  // sessions (checkSync above).
  assert.ok(
    flooded.p99UpToUs <= FLOOD_STALL_LIMIT_US,
    `j1's ACK latency p99 under the stats and metrics flood is up to ${flooded.p99UpToUs} us ` +
      `(${quiet.p99UpToUs} us without one): a stalled loop:\n  ${report.join("\n  ")}`,
  );
  console.log(
    `${outcome.name}: j1's ACK p99 up to ${flooded.p99UpToUs} us under the flood, ` +
      `${quiet.p99UpToUs} us without (the issue's bar: ${FLOOD_ACK_P99_TARGET_US} us)`,
  );
}

/** Sessions of the sealed-flood scenario's burst (tests/e2e/scenarios/faults_sealed.sh). */
const SEALED_BURST = 10_000;
/** Its burst's first client port. */
const SEALED_BURST_FIRST_PORT = 20_000;

export async function checkFaultsSealed(outcome: Outcome): Promise<void> {
  const dir = `${outcome.out}/sealed`;
  const floods = [await readJson(`${dir}/flood1.json`), await readJson(`${dir}/flood2.json`)];
  const sent = floods.reduce((sum, flood) => sum + flood.sent, 0);
  const seconds = Math.max(...floods.map((flood) => flood.durationMs)) / 1000;
  const report = [
    `g sent ${sent} forged sealed datagrams of 1,400 bytes in ${seconds} s from two ` +
    `senders (${Math.round(sent / seconds)} a second)`,
  ];
  const overlapped = (await readText(`${dir}/flood.running_after_burst`))?.trim();
  report.push(`the flood went on after the burst was sent: ${overlapped}`);
  for (const node of ["j1", "j2"]) {
    const before = await readCounters(outcome, `${node}.flood.before`);
    const after = await readCounters(outcome, `${node}.flood.after`);
    report.push(
      `${node}: refused ${delta(before, after, "authDropped")} as not authentic and ` +
        `${delta(before, after, "replayDropped")} as replays, handed ` +
        `${delta(before, after, "kernelAdds")} batches to its kernel, kernel errors ` +
        `${delta(before, after, "kernelErrors")}, ${
          udpInErrors((await readText(`${dir}/${node}.snmp6.after`)) ?? "") -
          udpInErrors((await readText(`${dir}/${node}.snmp6.before`)) ?? "")
        } datagrams lost to a full socket buffer; ACK latency ${JSON.stringify(after.ackLatency)}`,
    );
    assert.equal(delta(before, after, "kernelErrors"), 0, report.join("\n  "));
    assert.ok(
      delta(before, after, "authDropped") > 0,
      `${node} saw none of the flood:\n  ${report.join("\n  ")}`,
    );
    const lines = await checkLogBound(outcome, node, after.uptimeSeconds);
    report.push(`${node} logged ${lines} lines in ${after.uptimeSeconds} s`);
  }
  console.log(`${outcome.name}:\n  ${report.join("\n  ")}`);
  assert.equal(
    overlapped,
    "yes",
    `The flood ended before the burst was sent:\n  ${report.join("\n  ")}`,
  );
  // Every session of the burst, on both nodes.
  const tables = await loadTables(outcome);
  for (const node of ["j1", "j2"]) {
    const burst = (tables.get(node) ?? []).filter((session) =>
      session.protocol === "UDP" && session.src6 === "2001:db8:1::2" &&
      session.src6Port >= SEALED_BURST_FIRST_PORT &&
      session.src6Port < SEALED_BURST_FIRST_PORT + SEALED_BURST
    );
    assert.equal(
      burst.length,
      SEALED_BURST,
      `${node} holds ${burst.length} of the burst's sessions`,
    );
  }
  await checkSync(outcome);
}

/** Sessions of each lossy-link case (tests/e2e/scenarios/lossy_link.sh). */
const LOSSY_BURST = 2_000;

/**
 * 10% loss each way on the sync link: with reliable delivery every session
 * of a burst reaches j2, clear and sealed; with it off some do not.
 */
export async function checkLossyLink(outcome: Outcome): Promise<void> {
  const report: string[] = [];
  const counts = new Map<string, { j1: number; j2: number }>();
  for (const name of ["clear", "off", "sealed"]) {
    const text = (await readText(`${outcome.out}/lossy/${name}.counts`)) ?? "";
    const values = new Map(
      text.trim().split("\n").map((line) => {
        const [node, count] = line.split(" ");
        return [node, Number(count)];
      }),
    );
    const count = { j1: values.get("j1") ?? NaN, j2: values.get("j2") ?? NaN };
    counts.set(name, count);
    const j2 = await readJsonStats(outcome, `${name}.j2`);
    const c = j2.counters as unknown as Record<string, number>;
    report.push(
      `${name}: j1 made ${count.j1}, j2 holds ${count.j2}; j2 saw ${c.syncGaps} gaps, sent ` +
        `${c.syncNacksSent} NACKs, took ${c.syncRepaired} resent datagrams, gave up ` +
        `${c.syncGapsUnrepaired}`,
    );
  }
  console.log(`${outcome.name}:\n  ${report.join("\n  ")}`);
  for (const name of ["clear", "off", "sealed"]) {
    assert.equal(counts.get(name)!.j1, LOSSY_BURST, `${name}: j1 made its burst\n  ${report}`);
  }
  for (const name of ["clear", "sealed"]) {
    assert.equal(
      counts.get(name)!.j2,
      LOSSY_BURST,
      `${name}: sessions lost\n  ${report.join("\n  ")}`,
    );
  }
  assert.ok(
    counts.get("off")!.j2 < LOSSY_BURST,
    `With reliable delivery off, 10% loss lost nothing: the link was not lossy\n  ${
      report.join("\n  ")
    }`,
  );
  await checkCleanStops(outcome);
}

/** Seconds a daemon may take to notice its kernel side went away: the watchdog's 1 s probe, under TCG. */
export const GONE_NOTICE_LIMIT_S = 5;
/** Seconds a restarted daemon may take to get what it missed (the resync scenarios' limit). */
export const CATCH_UP_LIMIT_S = 5;

/** faults/NODE.FAULT.caught_up: "SECONDS COUNT EXPECTED" or "never COUNT EXPECTED". */
async function caughtUp(outcome: Outcome, node: string, fault: string) {
  const text = ((await readText(`${outcome.out}/faults/${node}.${fault}.caught_up`)) ?? "").trim();
  const [seconds, count, expected] = text.split(" ");
  return { seconds: seconds === "never" ? Infinity : Number(seconds), count, expected, text };
}

export async function checkFaultsKernel(outcome: Outcome): Promise<void> {
  const gap = (after: string, from: string, to: string) => eventGap(outcome, after, from, to);
  const measured = {
    reloadJ1Exit: await gap("unloading", "unloaded", "j1 down"),
    reloadJ2Exit: await gap("unloading", "unloaded", "j2 down"),
    reloadJ1Back: await gap("loaded", "j1 instance created", "j1 up"),
    reloadJ2Back: await gap("loaded", "j2 instance created", "j2 up"),
    reloadJ2CaughtUp: await caughtUp(outcome, "j2", "reload"),
    instanceJ2Exit: await gap("removing j2's instance", "j2 instance removed", "j2 down"),
    instanceJ2Back: await gap("j2 instance removed", "j2 instance created", "j2 up"),
    instanceJ2CaughtUp: await caughtUp(outcome, "j2", "instance"),
  };
  const runs = { j1: await unitRuns(outcome, "j1"), j2: await unitRuns(outcome, "j2") };
  const report = [
    `module reload: j1's daemon exited ${measured.reloadJ1Exit} s and j2's ` +
    `${measured.reloadJ2Exit} s after the unload; back ${measured.reloadJ1Back} s (j1) and ` +
    `${measured.reloadJ2Back} s (j2) after their instance was re-created; j2 held j1's ` +
    `sessions ${measured.reloadJ2CaughtUp.text} (seconds after up, count, expected)`,
    `instance removed: j2's daemon exited ${measured.instanceJ2Exit} s after, came back ` +
    `${measured.instanceJ2Back} s after the instance was added again and held j1's sessions ` +
    `${measured.instanceJ2CaughtUp.text}`,
    `runs: ${JSON.stringify(runs)}`,
  ];
  const all = report.join("\n  ");
  console.log(`${outcome.name}:\n  ${all}`);
  for (const exit of [measured.reloadJ1Exit, measured.reloadJ2Exit, measured.instanceJ2Exit]) {
    assert.ok(exit <= GONE_NOTICE_LIMIT_S, `A daemon took ${exit} s to notice:\n  ${all}`);
  }
  for (const caught of [measured.reloadJ2CaughtUp, measured.instanceJ2CaughtUp]) {
    assert.ok(caught.seconds <= CATCH_UP_LIMIT_S, `j2 did not catch up:\n  ${all}`);
  }
  // Every run but the last ended with status 1 (gone, or not there yet at start); the last
  // was stopped by the harness (0).
  for (const [node, list] of Object.entries(runs)) {
    const statuses = list.map((run) => run.status);
    // j1: before the unload, after it; j2 also after its instance came back.
    const least = node === "j1" ? 2 : 3;
    assert.ok(
      statuses.length >= least,
      `${node} should have run ${least} times at least:\n  ${all}`,
    );
    assert.deepEqual(statuses.slice(0, -1), statuses.slice(0, -1).map(() => "1"), all);
    assert.equal(statuses.at(-1), "0", all);
    const record = await daemonRecord(outcome, node);
    const seconds = (list.at(-1)!.end ?? list.at(-1)!.start) - list[0].start;
    const lines = record.stderr.split("\n").filter((line) =>
      line.trim() !== "" && !line.startsWith("supervisor:")
    );
    // Each run's start-up lines, and the rate-limited ones for as long as they ran.
    const limit = logLineLimit(seconds) + 25 * list.length;
    assert.ok(lines.length <= limit, `${node} logged ${lines.length} lines (limit ${limit})`);
    // `modprobe -r jool` removes NAT64 Jool, then jool_common: a probe between the
    // two hears the kernel say so; one after both finds the family gone.
    assert.match(
      record.stderr,
      /The Jool kernel module went away|the kernel said: NAT64 Jool has not been modprobed/,
      `${node} did not say the module went away:\n${record.stderr}`,
    );
  }
  assert.match(
    (await daemonRecord(outcome, "j2")).stderr,
    /The Jool instance 'default' is gone/,
    "j2 did not say its instance went away",
  );
  await checkSync(outcome);
}

/**
 * Seconds from the first event `from` after the first `after` to the first
 * `to` after that (faults/events: "UPTIME EVENT" lines; pids ignored).
 */
async function eventGap(outcome: Outcome, after: string, from: string, to: string) {
  const text = (await readText(`${outcome.out}/faults/events`)) ?? "";
  const lines = text.split("\n").filter((line) => line.includes(" "));
  const names = lines.map((line) => line.slice(line.indexOf(" ") + 1).replace(/ pid \d+$/, ""));
  const times = lines.map((line) => Number(line.slice(0, line.indexOf(" "))));
  const a = names.indexOf(after);
  const f = a < 0 ? -1 : names.indexOf(from, a);
  const t = f < 0 ? -1 : names.indexOf(to, f);
  assert.ok(t >= 0, `No "${after}", "${from}", "${to}" in this order in faults/events:\n${text}`);
  return Math.round((times[t] - times[f]) * 100) / 100;
}

export async function checkFaultsPeer(outcome: Outcome): Promise<void> {
  const faults = ["stop", "kill", "interface", "overrun"] as const;
  const caught = new Map<string, Awaited<ReturnType<typeof caughtUp>>>();
  for (const fault of faults) caught.set(fault, await caughtUp(outcome, "j2", fault));
  const gap = (after: string, from: string, to: string) => eventGap(outcome, after, from, to);
  const j1 = await readCounters(outcome, "j1.overrun");
  const j1Before = await readCounters(outcome, "j1.interface");
  const j2 = await readCounters(outcome, "j2.overrun");
  const report = [
    `stop: j2 held j1's sessions ${caught.get("stop")!.text} (seconds after SIGCONT, count, ` +
    `expected)`,
    `kill: j2's daemon up ${await gap("j2 killed", "j2 killed", "j2 up")} s after SIGKILL ` +
    `(started again at once); held j1's sessions ${caught.get("kill")!.text} after up`,
    `interface: j2 held j1's sessions ${caught.get("interface")!.text} after sync0 came back`,
    `overrun: j1 counted ${delta(j1Before, j1, "kernelOverruns")} overruns, ` +
    `${delta(j1Before, j1, "advertisements")} advertisements; j2 held j1's sessions ` +
    `${caught.get("overrun")!.text} after SIGCONT`,
  ];
  for (const node of ["j1", "j2"]) {
    const last = node === "j1" ? j1 : j2;
    const lines = await checkLogBound(outcome, node, last.uptimeSeconds);
    report.push(`${node} logged ${lines} lines in ${last.uptimeSeconds} s`);
  }
  const all = report.join("\n  ");
  console.log(`${outcome.name}:\n  ${all}`);
  for (const fault of faults) {
    assert.ok(caught.get(fault)!.seconds <= CATCH_UP_LIMIT_S, `${fault}:\n  ${all}`);
  }
  assert.ok(delta(j1Before, j1, "kernelOverruns") > 0, `No overrun was forced:\n  ${all}`);
  const j2Log = (await daemonRecord(outcome, "j2")).stderr;
  assert.match(j2Log, /Sync interface sync0 went away/, "j2 did not notice sync0 go");
  assert.match(j2Log, /Sync interface sync0 is back .*: rejoined group/, "j2 did not rejoin");
  assert.match(
    (await daemonRecord(outcome, "j1")).stderr,
    /The kernel dropped session batches/,
    "j1 did not log the overrun",
  );
  await checkSync(outcome);
}

/** The fault-injection scenarios; CI runs them on the main Jool version. */
export const SCENARIOS: Scenario[] = [
  { name: "faults-kernel", ours: true, nodes: 2, ci: "main", check: checkFaultsKernel },
  { name: "faults-peer", ours: true, nodes: 2, ci: "main", check: checkFaultsPeer },
  { name: "faults-flood", ours: true, nodes: 2, ci: "main", check: checkFaultsFlood },
  { name: "faults-sealed", ours: true, nodes: 2, ci: "main", check: checkFaultsSealed },
  { name: "lossy-link", ours: true, nodes: 2, ci: "main", check: checkLossyLink },
];
