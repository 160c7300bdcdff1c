/**
 * Jool 4.1.14's session tools: `joold proxy` on `jool session
 * proxy`'s command line, syncing with Jool's own proxy both ways, and `joold
 * follow` printing every session of the traffic (text, JSON, CSV) next to
 * both daemons without disturbing them; and a cluster that mixes Jool
 * versions, two linked VMs, 4.1.9 and 4.1.15.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Scenario } from "../lib/harness.ts";
import { parseVersion } from "../../../src/jool/header.ts";
import { sessionEncodingFor } from "../../../src/jool/session.ts";
import {
  checkSync,
  daemonRecord,
  diffSessions,
  expectedSessions,
  formatDiff,
  inSync,
  type Outcome,
  parseSessionCsv,
  parseTraffic,
  PROTOCOLS,
  readText,
  type Session,
  sessionFromColumns,
  sessionKey,
  syncReport,
} from "../lib/checks.ts";

/** One session a follower printed, and where it said it came from. */
interface Followed {
  session: Session;
  origin: string;
}

function port(text: string, line: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`Bad port in follower line: ${line}`);
  }
  return value;
}

/** `ADDRESS#PORT`, the address possibly IPv6. */
function pair(text: string, line: string): [string, number] {
  const hash = text.lastIndexOf("#");
  if (hash < 0) throw new Error(`Bad address#port in follower line: ${line}`);
  return [text.slice(0, hash), port(text.slice(hash + 1), line)];
}

/** `joold follow`'s text lines: SOURCE PROTO SRC6 DST6 SRC4 DST4 STATE EXPIRES. */
function parseText(text: string): Followed[] {
  return text.split("\n").filter((line) => line !== "").map((line) => {
    const f = line.split(" ");
    if (f.length !== 8) throw new Error(`Malformed follower line: ${line}`);
    const [src6, src6Port] = pair(f[2], line);
    const [src4, src4Port] = pair(f[4], line);
    const [dst4, dst4Port] = pair(f[5], line);
    return {
      origin: f[0],
      session: { protocol: f[1], src6, src6Port, src4, src4Port, dst4, dst4Port },
    };
  });
}

/** `joold follow --json`: one object a line. */
function parseJson(text: string): Followed[] {
  return text.split("\n").filter((line) => line !== "").map((line) => {
    const o = JSON.parse(line);
    return {
      origin: o.source,
      session: {
        protocol: o.proto,
        src6: o.src6.address,
        src6Port: o.src6.port,
        src4: o.src4.address,
        src4Port: o.src4.port,
        dst4: o.dst4.address,
        dst4Port: o.dst4.port,
      },
    };
  });
}

/** `joold follow --csv`: Jool's display columns, then State and Source. */
function parseCsv(text: string): Followed[] {
  const lines = text.split("\n").filter((line) => line !== "");
  assert.match(lines[0] ?? "", /^Protocol,IPv6 Remote Address,/, "The CSV lacks its header");
  return lines.slice(1).map((line) => {
    const f = line.split(",");
    if (f.length !== 12) throw new Error(`Malformed follower CSV line: ${line}`);
    return { origin: f[11], session: sessionFromColumns(f, line) };
  });
}

/** Node N's sync address and port, as a follower names a peer. */
function peerName(node: string): string {
  return `[2001:db8:ff08::${node.slice(1)}]:6464`;
}

/** The node whose client (2001:db8:N::2) made the session. */
function creator(session: Session): string {
  const match = /^2001:db8:(\d+)::2$/.exec(session.src6);
  if (match === null) throw new Error(`A session from no client: ${sessionKey(session)}`);
  return `j${match[1]}`;
}

async function checkFollower(
  outcome: Outcome,
  name: string,
  node: string,
  parse: (text: string) => Followed[],
  expected: Session[],
): Promise<void> {
  const base = `${outcome.out}/tools/${name}`;
  const followed = parse((await readText(`${base}.stdout`)) ?? "");
  const seen = new Map<string, Set<string>>();
  for (const { session, origin } of followed) {
    const key = sessionKey(session);
    if (!seen.has(key)) seen.set(key, new Set());
    seen.get(key)!.add(origin);
  }
  const problems: string[] = [];
  for (const session of expected) {
    const key = sessionKey(session);
    const want = creator(session) === node ? "kernel" : peerName(creator(session));
    const origins = seen.get(key);
    if (origins === undefined) problems.push(`missing: ${key}`);
    else if (!origins.has(want)) problems.push(`${key} seen from ${[...origins]}, not ${want}`);
  }
  const expectedKeys = new Set(expected.map(sessionKey));
  for (const key of seen.keys()) {
    if (!expectedKeys.has(key)) problems.push(`unexpected: ${key}`);
  }
  assert.deepEqual(problems, [], `joold follow (${name}, in ${node}) printed other sessions`);
  assert.equal((await readText(`${base}.exit`))?.trim(), "0", `joold follow (${name}) on SIGINT`);
  const stderr = (await readText(`${base}.stderr`)) ?? "";
  // Each line is `TIME level: message` (its stderr is a file, not journald).
  const complaints = stderr.split("\n").filter((line) =>
    /^(\S+ )?(error|warning):|Ignoring/.test(line)
  );
  assert.deepEqual(complaints, [], `joold follow (${name}) complained`);
}

/** The value after `label` on a line of `text`. */
function valueAfter(text: string, label: RegExp): string | undefined {
  for (const line of text.split("\n")) {
    const match = label.exec(line);
    if (match !== null) return line.slice(match.index + match[0].length).trim();
  }
  return undefined;
}

async function checkDefaults(outcome: Outcome): Promise<void> {
  const ours = (await readText(`${outcome.out}/tools/defaults.ours`)) ?? "";
  // Ours prints one configuration per run: no stats, port 7000, 2001:db8::1.
  const runs = ours.split(/^joold \S+ configuration:$/m).slice(1);
  assert.equal(runs.length, 3, `joold proxy printed no configuration:\n${ours}`);
  assert.equal(valueAfter(runs[0], /multicast port:/), "6400");
  assert.equal(valueAfter(runs[0], /ttl:/), "1");
  assert.equal(valueAfter(runs[0], /stats port:/), "none");
  assert.equal(valueAfter(runs[1], /stats port:/), "7000 (every address)");
  assert.equal(valueAfter(runs[2], /stats port:/), "6401 (2001:db8::1 only)");
  const peer = (await readText(`${outcome.out}/tools/peer.txt`))?.trim();
  if (outcome.jool === "4.1.15") assert.equal(peer, "jool-session-proxy");
  if (peer !== "jool-session-proxy") return;
  // Jool's, the same three runs: the defaults ours must share.
  const jool = (await readText(`${outcome.out}/tools/defaults.jool`)) ?? "";
  const configs = jool.split(/^Config:$/m).slice(1);
  assert.equal(configs.length, 3, `jool session proxy printed no configuration:\n${jool}`);
  assert.equal(valueAfter(configs[0], /net\.mcast\.port:/), "6400");
  assert.equal(valueAfter(configs[0], /net\.ttl:/), "1");
  assert.equal(valueAfter(configs[0], /stats\.port:/), undefined, "Jool serves no stats here");
  assert.equal(valueAfter(configs[1], /stats\.addr:/), "::");
  assert.equal(valueAfter(configs[1], /stats\.port:/), "7000");
  assert.equal(valueAfter(configs[2], /stats\.addr:/), "2001:db8::1");
  assert.equal(valueAfter(configs[2], /stats\.port:/), "6401");
}

async function checkProxyFollow(outcome: Outcome): Promise<void> {
  // Ours (joold proxy) and Jool's proxy: every session on both nodes.
  await checkSync(outcome);
  const proxy = await daemonRecord(outcome, "j1");
  assert.ok(proxy.stopped, `joold proxy ended by itself (status ${proxy.exit}):\n${proxy.stderr}`);
  await checkDefaults(outcome);
  // The stats server `--stats.address`/`--stats.port` asked for answers.
  const stats = JSON.parse((await readText(`${outcome.out}/stats/j1.json`)) ?? "null");
  assert.ok(stats?.counters?.netSentPackets > 0, "joold proxy's stats server: nothing sent");

  const { diffs } = await syncReport(outcome);
  const expected = diffs[0].expected;
  await checkFollower(outcome, "text", "j1", parseText, expected);
  await checkFollower(outcome, "csv", "j1", parseCsv, expected);
  await checkFollower(outcome, "json", "j2", parseJson, expected);

  // `joold follow | head -n 1`: ended by itself once head had gone, status 0, silent.
  const status = (await readText(`${outcome.out}/tools/head.status`))?.trim();
  assert.equal(status, "0 0", "joold follow | head -n 1: the statuses of joold and head");
  const line = ((await readText(`${outcome.out}/tools/head.stdout`)) ?? "").trim();
  assert.match(line, /^kernel (TCP|UDP|ICMP) 2001:db8:1::2#/, "joold follow | head -n 1");
  // Only the start lines (its mode, what it follows): nothing about the closed pipe.
  const said = ((await readText(`${outcome.out}/tools/head.stderr`)) ?? "").split("\n");
  assert.deepEqual(
    said.filter((line) =>
      line !== "" && !/^\S+ info: (Listen-only mode|Following instance)/.test(line)
    ),
    [],
    "joold follow | head -n 1 said more than its start lines",
  );
}

/**
 * Two VMs, j1 on the first Jool version and j2 on the second (run_vm_pair.sh):
 * every session of both nodes' traffic on both, and each daemon converted
 * the other's datagrams (its peer entry counts them under the other's
 * encoding) and dropped none.
 */
async function checkMixedVersions(outcome: Outcome): Promise<void> {
  const sides = [["a", "j1"], ["b", "j2"]] as const;
  const tables = new Map<string, Session[]>();
  const flows = [];
  const versions: string[] = [];
  for (const [side, node] of sides) {
    const out = `${outcome.out}/${side}`;
    versions.push(((await readText(`${out}/jool_version.txt`)) ?? "").trim());
    const sessions: Session[] = [];
    for (const protocol of PROTOCOLS) {
      const text = await readText(`${out}/sessions/${node}.${protocol}.csv`);
      if (text === undefined) throw new Error(`No session dump of ${node} (${protocol})`);
      sessions.push(...parseSessionCsv(text));
    }
    tables.set(node, sessions);
    flows.push(...parseTraffic((await readText(`${out}/traffic.csv`)) ?? ""));
  }
  const [first, second] = outcome.jool.split("+");
  assert.deepEqual(versions.map((v) => v.replace(/\.0$/, "")), [first, second], "Jool versions");
  const { expected, problems } = expectedSessions(tables, flows);
  assert.deepEqual(
    problems,
    [],
    `The traffic did not create the sessions:\n${problems.join("\n")}`,
  );
  for (const protocol of ["TCP", "UDP", "ICMP"]) {
    for (const node of ["j1", "j2"]) {
      assert.ok(
        expected.some((s) => s.protocol === protocol && creator(s) === node),
        `No ${protocol} session made through ${node}`,
      );
    }
  }
  const diffs = diffSessions(tables, expected);
  assert.ok(inSync(diffs), `Sessions did not reach both VMs.\n${formatDiff(diffs)}`);
  for (const [side, node] of sides) {
    const peerNode = node === "j1" ? "j2" : "j1";
    const peerVersion = node === "j1" ? second : first;
    const text = (await readText(`${outcome.out}/${side}/stats/${node}.json`)) ?? "null";
    const stats = JSON.parse(text);
    const peer = stats?.peers?.[peerName(peerNode)];
    assert.ok(peer !== undefined, `${node}'s joold has no entry for ${peerNode}: ${text}`);
    const encoding = sessionEncodingFor(parseVersion(peerVersion) ?? 0);
    assert.ok(
      (peer.converted?.[encoding] ?? 0) > 0 && peer.converted[encoding] === peer.datagrams,
      `${node}'s joold converted not every ${encoding} datagram of ${peerNode}: ${
        JSON.stringify(peer)
      }`,
    );
    assert.equal(stats.counters.netDropped, 0, `${node}'s joold dropped datagrams`);
    assert.equal(stats.counters.kernelErrors, 0, `${node}'s kernel refused sessions`);
  }
}

/** This family's scenarios. */
/** A line of `jool session follow`: PROTO,SRC6,PORT,SRC4,PORT,DST4,PORT,EXPIRES. */
const JOOL_FOLLOW_LINE = /^(TCP|UDP|ICMP),[^,]+,\d+,[^,]+,\d+,[^,]+,\d+,[^,]+$/;
/** Sessions of the follow-alone scenario's bursts (tests/e2e/scenarios/tools_follow_alone.sh). */
const FOLLOW_BURST = 30_000;
const FOLLOW_SIDE_BY_SIDE = 2_000;

/** A counter of `jool stats display --all --csv`. */
function joolCounter(csv: string, name: string): number {
  const line = csv.split("\n").find((l) => l.startsWith(`${name},`));
  assert.ok(line !== undefined, `No ${name} in Jool's counters:\n${csv.slice(0, 300)}`);
  return Number(line.split(",")[1]);
}

/**
 * `joold session follow` where no daemon runs: it ACKs, so it sees every
 * session of a burst (none dropped by the kernel's queue), and its lines are
 * `jool session follow`'s, line for line.
 */
export async function checkFollowAlone(outcome: Outcome): Promise<void> {
  const dir = `${outcome.out}/follow`;
  const read = async (name: string) => (await readText(`${dir}/${name}`)) ?? "";
  const alone = (await read("alone.stdout")).split("\n").filter((line) => line !== "");
  const sessions = new Set(alone.map((line) => line.split(",").slice(0, 3).join(",")));
  const dropped = joolCounter(await read("stats.after"), "JSTAT_JOOLD_SSS_ENOSPC") -
    joolCounter(await read("stats.before"), "JSTAT_JOOLD_SSS_ENOSPC");
  const report = `alone: ${alone.length} lines, ${sessions.size} sessions of ${FOLLOW_BURST}; ` +
    `the kernel's queue dropped ${dropped}; stderr:\n${await read("alone.stderr")}`;
  console.log(report);
  assert.ok(alone.every((line) => JOOL_FOLLOW_LINE.test(line)), `Not jool's format: ${report}`);
  assert.equal(sessions.size, FOLLOW_BURST, report);
  assert.equal(dropped, 0, report);
  assert.match(await read("alone.stderr"), /ACK mode/, "the mode is not said");

  const ours = (await read("ours.stdout")).split("\n").filter((line) => line !== "");
  // Jool's prints two lines about syslog before the sessions.
  const jool = (await read("jool.stdout")).split("\n").filter((line) =>
    JOOL_FOLLOW_LINE.test(line)
  );
  const side = `side by side: ours ${ours.length} lines, jool's ${jool.length}, of ` +
    `${FOLLOW_SIDE_BY_SIDE} sessions made`;
  console.log(side);
  // Whether each session came is the run alone's check; here, that both print the same.
  assert.ok(ours.length >= 0.9 * FOLLOW_SIDE_BY_SIDE, side);
  assert.deepEqual(ours, jool, side);
}

export const SCENARIOS: Scenario[] = [
  { name: "tools-proxy-follow", ours: true, nodes: 2, ci: "main", check: checkProxyFollow },
  { name: "tools-follow-alone", ours: true, nodes: 1, ci: "main", check: checkFollowAlone },
  {
    name: "mixed-versions",
    ours: true,
    nodes: 2,
    ci: "main",
    pair: ["4.1.9", "4.1.15"],
    check: checkMixedVersions,
  },
];
