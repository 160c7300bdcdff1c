import assert from "node:assert/strict";
import { joolVersion } from "../../../src/jool/header.ts";
import {
  checkCounterRelations,
  diffSessions,
  expectedSessions,
  EXPIRY_MARGIN_MS,
  formatDiff,
  inSync,
  JSON_COUNTERS,
  type JsonStats,
  judgedTables,
  newLines,
  parseExpiresIn,
  parseJsonStats,
  parseKeyValues,
  parseSessionCsv,
  parseStats,
  parseTimedSessionCsv,
  parseTraffic,
  type Session,
  udpInErrors,
  versionOf,
} from "./records.ts";

const CSV = [
  "Protocol,IPv6 Remote Address,IPv6 Remote L4-ID,IPv6 Local Address,IPv6 Local L4-ID," +
  "IPv4 Local Address,IPv4 Local L4-ID,IPv4 Remote Address,IPv4 Remote L4-ID,Expires in",
  "TCP,2001:db8:1::2,40000,64:ff9b::c000:202,8080,192.0.2.1,61001,192.0.2.2,8080,00:01:59,V4_INIT",
  "UDP,2001:db8:1::2,5353,64:ff9b::c000:202,7777,192.0.2.1,61002,192.0.2.2,7777,00:04:59",
  "",
].join("\n");

const TCP: Session = {
  protocol: "TCP",
  src6: "2001:db8:1::2",
  src6Port: 40000,
  src4: "192.0.2.1",
  src4Port: 61001,
  dst4: "192.0.2.2",
  dst4Port: 8080,
};
const UDP: Session = { ...TCP, protocol: "UDP", src6Port: 5353, src4Port: 61002, dst4Port: 7777 };

Deno.test("parseSessionCsv(): Jool's CSV, header and TCP state optional; a bad line throws", () => {
  assert.deepEqual(parseSessionCsv(CSV), [TCP, UDP]);
  const bad = [
    "TCP,2001:db8:1::2,40000",
    "TCP,2001:db8:1::2,x,64:ff9b::c000:202,8080,192.0.2.1,61001,192.0.2.2,8080,00:01:59",
    "TCP,2001:db8:1::2,70000,64:ff9b::c000:202,8080,192.0.2.1,61001,192.0.2.2,8080,00:01:59",
  ];
  for (const line of bad) assert.throws(() => parseSessionCsv(line), /^Error: Malformed/, line);
});

Deno.test("parseExpiresIn(): Jool's H:MM:SS[.mmm]; anything else throws", () => {
  assert.equal(parseExpiresIn("0:00:00.344", "l"), 344);
  assert.equal(parseExpiresIn("00:04:59", "l"), 299_000);
  assert.equal(parseExpiresIn("1:02:03.4", "l"), 3_723_400);
  for (const bad of ["", "59", "0:0:59", "0:00:59.1234", "-0:00:01"]) {
    assert.throws(() => parseExpiresIn(bad, "l"), /^Error: Malformed expiration/, bad);
  }
});

// The ICMP sessions of a scenario's first pings, dumped 60 s later: the
// creator's copy expired just before its dump, its peers' just after theirs.
const ICMP_FRESH = "ICMP,2001:db8:3::2,899,64:ff9b::c000:202,899,192.0.2.1,61386,192.0.2.2," +
  "61386,0:00:52.488";
const ICMP_EXPIRING = "ICMP,2001:db8:3::2,591,64:ff9b::c000:202,591,192.0.2.1,63943,192.0.2.2," +
  "63943,0:00:00.344";

Deno.test("parseSessionCsv(): sessions about to expire are left out of the comparison, on request", () => {
  const margin = { expiringWithinMs: EXPIRY_MARGIN_MS };
  const tables = new Map([
    ["j1", parseSessionCsv([ICMP_FRESH, ICMP_EXPIRING].join("\n"), margin)],
    ["j3", parseSessionCsv(ICMP_FRESH, margin)],
  ]);
  const flows = parseTraffic("j3,ICMP,2001:db8:3::2,192.0.2.2,,ok\n");
  const { expected, problems } = expectedSessions(tables, flows);
  assert.deepEqual(problems, []);
  assert.ok(inSync(diffSessions(tables, expected)));
  // Control: judged with no margin, j1's expiring copy is a session nobody made.
  const unjudged = new Map([
    ["j1", parseSessionCsv([ICMP_FRESH, ICMP_EXPIRING].join("\n"))],
    ["j3", parseSessionCsv(ICMP_FRESH)],
  ]);
  const diffs = diffSessions(unjudged, expectedSessions(unjudged, flows).expected);
  assert.ok(!inSync(diffs));
  assert.equal(diffs[0].unexpected[0].src6Port, 591);
});

Deno.test("judgedTables(): a session whose copies straddle the margin is left out on every node", () => {
  // A first ping's session, dumped on each node a little later: its creator (j3) had 9.7 s left,
  // its peers 10.2 and 10.8 s, each copy on its own side of the 10 s margin.
  const copy = (left: string) =>
    "ICMP,2001:db8:3::2,569,64:ff9b::c000:202,569,192.0.2.1,61120,192.0.2.2,61120," + left;
  const timed = new Map([
    ["j1", parseTimedSessionCsv([ICMP_FRESH, copy("0:00:10.764")].join("\n"))],
    ["j2", parseTimedSessionCsv([ICMP_FRESH, copy("0:00:10.180")].join("\n"))],
    ["j3", parseTimedSessionCsv([ICMP_FRESH, copy("0:00:09.740")].join("\n"))],
  ]);
  const flows = parseTraffic("j3,ICMP,2001:db8:3::2,192.0.2.2,,ok\n");
  const tables = judgedTables(timed, EXPIRY_MARGIN_MS);
  assert.deepEqual([...tables.values()].map((t) => t.length), [1, 1, 1]);
  assert.ok(inSync(diffSessions(tables, expectedSessions(tables, flows).expected)));
  // Control: each node filtered on its own, j1 and j2 hold a session j3 did not count.
  const each = new Map(
    [...timed].map(([node, t]) => [
      node,
      t.filter((s) => s.expiresInMs >= EXPIRY_MARGIN_MS).map((s) => s.session),
    ]),
  );
  assert.ok(!inSync(diffSessions(each, expectedSessions(each, flows).expected)));
});

Deno.test("parseTraffic(): one flow a line, the port optional", () => {
  assert.deepEqual(
    parseTraffic(
      "j1,TCP,2001:db8:1::2,192.0.2.2,8080,ok\nj2,ICMP,2001:db8:1::3,192.0.2.2,,failed\n",
    ),
    [
      {
        node: "j1",
        protocol: "TCP",
        src6: "2001:db8:1::2",
        dst4: "192.0.2.2",
        dst4Port: 8080,
        ok: true,
      },
      {
        node: "j2",
        protocol: "ICMP",
        src6: "2001:db8:1::3",
        dst4: "192.0.2.2",
        dst4Port: undefined,
        ok: false,
      },
    ],
  );
  assert.throws(() => parseTraffic("j1,TCP"), /Malformed traffic line/);
});

Deno.test("expectedSessions() and diffSessions(): what each node lacks and has extra", () => {
  const tables = new Map([["j1", [TCP, UDP]], ["j2", [TCP]]]);
  const flows = parseTraffic(
    "j1,TCP,2001:db8:1::2,192.0.2.2,8080,ok\n" +
      "j1,UDP,2001:db8:1::2,192.0.2.2,7777,ok\n" +
      "j2,ICMP,2001:db8:1::9,192.0.2.2,,ok\n" +
      "j1,UDP,2001:db8:1::2,192.0.2.9,53,failed\n",
  );
  const { expected, problems } = expectedSessions(tables, flows);
  assert.deepEqual(expected, [TCP, UDP]);
  assert.deepEqual(problems, [
    "The ICMP flow from 2001:db8:1::9 to 192.0.2.2 through j2 left no session on j2.",
    "The UDP flow from 2001:db8:1::2 to 192.0.2.9#53 through j1 failed.",
  ]);
  const diffs = diffSessions(tables, expected);
  assert.equal(inSync(diffs), false);
  assert.deepEqual(diffs.map((d) => [d.node, d.missing, d.unexpected]), [
    ["j1", [], []],
    ["j2", [UDP], []],
  ]);
  const text = formatDiff(diffs);
  assert.match(text, /^j1: 2 expected, 2 present, in sync$/m);
  assert.match(text, /^j2: 2 expected, 1 present, 1 missing$/m);
  assert.match(text, /^ {2}- UDP {3}2001:db8:1::2#5353 /m);
  assert.equal(inSync(diffSessions(new Map([["j1", [UDP, TCP]]]), [TCP, UDP])), true);
});

Deno.test("parseStats(): exactly the reference's six lines", () => {
  const good = "KERNEL_SENT_PKTS,1\nKERNEL_SENT_BYTES,2\nNET_RCVD_PKTS,3\nNET_RCVD_BYTES,4\n" +
    "NET_SENT_PKTS,5\nNET_SENT_BYTES,6\n";
  assert.equal(parseStats(good).get("NET_SENT_BYTES"), 6);
  assert.throws(() => parseStats(good.replace("NET_SENT_BYTES,6\n", "")));
  assert.throws(() => parseStats(good.replace(",3", ",-3")));
});

/** A JSON stats answer with every counter 0 but those in `counters`. */
function jsonStats(counters: Partial<Record<(typeof JSON_COUNTERS)[number], number>> = {}) {
  const zero = { count: 0, p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0 };
  return {
    version: "1.0.0",
    instance: "default",
    uptimeSeconds: 3,
    lastSyncTime: null,
    counters: { ...Object.fromEntries(JSON_COUNTERS.map((name) => [name, 0])), ...counters },
    ackLatency: zero,
    relayLatency: zero,
    peers: {},
    delivery: {},
  } as unknown as JsonStats;
}

Deno.test("parseJsonStats(): the documented shape, and nothing else", () => {
  const stats = jsonStats();
  assert.deepEqual(parseJsonStats(JSON.stringify(stats)), stats);
  const bad: [string, unknown][] = [
    ["not JSON", "{"],
    ["a field missing", { ...stats, uptimeSeconds: undefined }],
    ["a negative counter", { ...stats, counters: { ...stats.counters, netDropped: -1 } }],
    ["an unknown counter", { ...stats, counters: { ...stats.counters, extra: 1 } }],
    ["percentiles out of order", {
      ...stats,
      ackLatency: { count: 2, p50Us: 9, p90Us: 5, p99Us: 9, maxUs: 9 },
    }],
    ["a time that is not ISO", { ...stats, lastSyncTime: "yesterday" }],
  ];
  for (const [name, value] of bad) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    assert.throws(() => parseJsonStats(text), Error, name);
  }
});

Deno.test("checkCounterRelations(): every batch ACKed and relayed, every datagram accounted for", () => {
  const relayed = jsonStats({
    kernelSentPackets: 2,
    kernelSentBytes: 100,
    kernelAcks: 2,
    netSentPackets: 2,
    netSentBytes: 100,
  });
  relayed.ackLatency = { count: 2, p50Us: 10, p90Us: 10, p99Us: 10, maxUs: 10 };
  relayed.relayLatency = { count: 2, p50Us: 10, p90Us: 10, p99Us: 10, maxUs: 10 };
  checkCounterRelations("j1", relayed);
  assert.throws(() =>
    checkCounterRelations("j1", { ...relayed, counters: { ...relayed.counters, kernelAcks: 1 } })
  );
  // A sealed daemon sends fewer datagrams than it got batches, never more.
  const sealed = { ...relayed, counters: { ...relayed.counters, netSentPackets: 1 } };
  assert.throws(() => checkCounterRelations("j1", sealed));
  checkCounterRelations("j1", sealed, { sealed: true });
});

Deno.test("parseKeyValues(), newLines(), versionOf(), udpInErrors()", () => {
  assert.deepEqual(
    [...parseKeyValues("a=1\nno equals\nb=x=y\n")],
    [["a", "1"], ["b", "x=y"]],
  );
  assert.deepEqual(newLines("one\ntwo\n", "one\ntwo\nthree\n\nfour\n"), ["three", "four"]);
  assert.equal(versionOf("4.1.9.0"), joolVersion(4, 1, 9));
  assert.equal(versionOf("not a version"), 0);
  assert.equal(udpInErrors("Udp6InDatagrams 10\nUdp6InErrors 3\nUdp6OutDatagrams 1\n"), 3);
  assert.throws(() => udpInErrors("Udp6InDatagrams 10\n"), /No Udp6InErrors/);
});
