/**
 * End-to-end tests against the real Jool kernel module: every scenario on
 * every Jool version users run (4.1.9, Debian 12; 4.1.13, Debian 13; 4.1.15,
 * Debian unstable), each version with its own C joold as the reference peer.
 *
 * Each scenario boots a QEMU VM (scripts/vm/run_vm.sh) running Debian's kernel
 * with one Jool version, builds several NAT64 nodes in network namespaces
 * (tests/e2e/lib/topology.sh), starts session-sync daemons on them (this
 * project's joold, bundled from main.ts, or Jool's C joold), makes traffic
 * through them and leaves what it saw in an out directory, which the checks
 * (tests/e2e/lib/checks.ts) then read. The scenarios come in families
 * (tests/e2e/families/*.ts); the selectors and what CI runs are in
 * tests/e2e/lib/harness.ts.
 *
 * Needs Linux and root; installs the Debian packages on first use
 * (scripts/vm/install_deps.sh) and the other Jool versions
 * (scripts/vm/jool_version.sh).
 *
 * @module
 */

import assert from "node:assert/strict";
import { joolVersion } from "../../src/jool/header.ts";
import { registerScenarios } from "./lib/harness.ts";
import {
  checkCounterRelations,
  diffSessions,
  expectedSessions,
  formatDiff,
  inSync,
  newLines,
  parseJsonStats,
  parseSessionCsv,
  parseStats,
  parseTraffic,
  type Session,
  STATS_NAMES,
  versionOf,
} from "./lib/checks.ts";
import { SCENARIOS as AUTH } from "./families/auth.ts";
import { SCENARIOS as CORE } from "./families/core.ts";
import { SCENARIOS as FAILOVER } from "./families/failover.ts";
import { SCENARIOS as FAULTS } from "./families/faults.ts";
import { SCENARIOS as KEEPALIVED } from "./families/keepalived.ts";
import {
  netemDropped,
  parseCounts,
  parseUnionCounts,
  SCENARIOS as LOSSLESS,
} from "./families/lossless.ts";
import { SCENARIOS as TOOLS } from "./families/tools.ts";
import { SCENARIOS as YOUNG } from "./families/young.ts";

// The families: one import each.
const ALL = [
  ...AUTH,
  ...CORE,
  ...FAILOVER,
  ...FAULTS,
  ...KEEPALIVED,
  ...LOSSLESS,
  ...TOOLS,
  ...YOUNG,
];
registerScenarios(ALL);

// ---------------------------------------------------------------------------
// The checks themselves, without a VM: a comparison that cannot fail proves nothing.

const HEADER = "Protocol,IPv6 Remote Address,IPv6 Remote L4-ID,IPv6 Local Address," +
  "IPv6 Local L4-ID,IPv4 Local Address,IPv4 Local L4-ID,IPv4 Remote Address,IPv4 Remote L4-ID," +
  "Expires in,State";
const TCP_J1 = "TCP,2001:db8:1::2,59674,64:ff9b::c000:202,8080,192.0.2.1,61859,192.0.2.2,8080," +
  "0:03:54.136,V4_FIN_V6_FIN_RCV";
const UDP_J1 = "UDP,2001:db8:1::2,37623,64:ff9b::c000:202,7777,192.0.2.1,63631,192.0.2.2,7777," +
  "0:04:54.684";
const ICMP_J2 = "ICMP,2001:db8:2::2,253,64:ff9b::c000:202,253,192.0.2.1,64007,192.0.2.2,64007," +
  "0:00:58.124";
const FLOWS = [
  "j1,TCP,2001:db8:1::2,192.0.2.2,8080,ok",
  "j1,UDP,2001:db8:1::2,192.0.2.2,7777,ok",
  "j2,ICMP,2001:db8:2::2,192.0.2.2,,ok",
].join("\n");

Deno.test("e2e checks: session CSV parsing", () => {
  const cases: { name: string; csv: string; want: Session[] | RegExp }[] = [
    { name: "header only", csv: `${HEADER}\n`, want: [] },
    {
      name: "TCP with state, UDP without",
      csv: `${HEADER}\n${TCP_J1}\n${UDP_J1}\n`,
      want: [
        {
          protocol: "TCP",
          src6: "2001:db8:1::2",
          src6Port: 59674,
          src4: "192.0.2.1",
          src4Port: 61859,
          dst4: "192.0.2.2",
          dst4Port: 8080,
        },
        {
          protocol: "UDP",
          src6: "2001:db8:1::2",
          src6Port: 37623,
          src4: "192.0.2.1",
          src4Port: 63631,
          dst4: "192.0.2.2",
          dst4Port: 7777,
        },
      ],
    },
    { name: "too few columns", csv: "UDP,2001:db8:1::2,1\n", want: /Malformed session line/ },
    { name: "port not a number", csv: TCP_J1.replace("59674", "x"), want: /Malformed port/ },
  ];
  for (const c of cases) {
    if (c.want instanceof RegExp) {
      assert.throws(() => parseSessionCsv(c.csv), c.want, c.name);
    } else {
      assert.deepEqual(parseSessionCsv(c.csv), c.want, c.name);
    }
  }
});

Deno.test("e2e checks: in sync when every node has every flow's session", () => {
  const all = parseSessionCsv([TCP_J1, UDP_J1, ICMP_J2].join("\n"));
  const tables = new Map([["j1", all], ["j2", [...all].reverse()]]);
  const { expected, problems } = expectedSessions(tables, parseTraffic(FLOWS));
  assert.deepEqual(problems, []);
  assert.equal(expected.length, 3);
  const diffs = diffSessions(tables, expected);
  assert.ok(inSync(diffs));
  assert.match(formatDiff(diffs), /^j2: 3 expected, 3 present, in sync$/m);
});

Deno.test("e2e checks: a missing session fails with a readable diff", () => {
  const tables = new Map([
    ["j1", parseSessionCsv([TCP_J1, UDP_J1].join("\n"))],
    ["j2", parseSessionCsv([TCP_J1, ICMP_J2].join("\n"))],
  ]);
  const { expected, problems } = expectedSessions(tables, parseTraffic(FLOWS));
  assert.deepEqual(problems, []);
  const diffs = diffSessions(tables, expected);
  assert.ok(!inSync(diffs));
  assert.equal(
    formatDiff(diffs),
    [
      "Session tables (protocol, IPv6 source, IPv4 source, IPv4 destination) per node;",
      "'-' expected but missing, '+' present but not expected:",
      "j1: 3 expected, 2 present, 1 missing",
      "  - ICMP  2001:db8:2::2#253             192.0.2.1#64007        192.0.2.2#64007",
      "    TCP   2001:db8:1::2#59674           192.0.2.1#61859        192.0.2.2#8080",
      "    UDP   2001:db8:1::2#37623           192.0.2.1#63631        192.0.2.2#7777",
      "j2: 3 expected, 2 present, 1 missing",
      "    ICMP  2001:db8:2::2#253             192.0.2.1#64007        192.0.2.2#64007",
      "    TCP   2001:db8:1::2#59674           192.0.2.1#61859        192.0.2.2#8080",
      "  - UDP   2001:db8:1::2#37623           192.0.2.1#63631        192.0.2.2#7777",
    ].join("\n"),
  );
});

Deno.test("e2e checks: a session nobody created is reported", () => {
  const forged = UDP_J1.replace("63631", "63632");
  const tables = new Map([
    ["j1", parseSessionCsv([TCP_J1, UDP_J1].join("\n"))],
    ["j2", parseSessionCsv([TCP_J1, UDP_J1, forged].join("\n"))],
  ]);
  const flows = parseTraffic(FLOWS.split("\n").slice(0, 2).join("\n"));
  const diffs = diffSessions(tables, expectedSessions(tables, flows).expected);
  assert.ok(!inSync(diffs));
  assert.match(formatDiff(diffs), /^j2: 2 expected, 3 present, 1 unexpected$/m);
  assert.match(formatDiff(diffs), /^ {2}\+ UDP {3}2001:db8:1::2#37623 .*#63632/m);
});

Deno.test("e2e checks: traffic that failed or left no session is a problem", () => {
  const tables = new Map([["j1", parseSessionCsv(TCP_J1)], ["j2", parseSessionCsv(TCP_J1)]]);
  const flows = parseTraffic(
    ["j1,TCP,2001:db8:1::2,192.0.2.2,8080,ok", "j1,UDP,2001:db8:1::2,192.0.2.2,7777,failed"]
      .concat("j1,ICMP,2001:db8:1::2,192.0.2.2,,ok").join("\n"),
  );
  assert.deepEqual(expectedSessions(tables, flows).problems, [
    "The UDP flow from 2001:db8:1::2 to 192.0.2.2#7777 through j1 failed.",
    "The ICMP flow from 2001:db8:1::2 to 192.0.2.2 through j1 left no session on j1.",
  ]);
});

Deno.test("e2e checks: stats answers", () => {
  const good = STATS_NAMES.map((name, i) => `${name},${i}`).join("\n") + "\n";
  assert.deepEqual([...parseStats(good).values()], [0, 1, 2, 3, 4, 5]);
  const cases: { name: string; text: string }[] = [
    { name: "empty", text: "" },
    { name: "wrong order", text: good.replace("NET_RCVD_PKTS", "NET_SENT_PKTS") },
    { name: "missing line", text: good.split("\n").slice(1).join("\n") },
    { name: "not a number", text: good.replace("KERNEL_SENT_PKTS,0", "KERNEL_SENT_PKTS,x") },
  ];
  for (const c of cases) assert.throws(() => parseStats(c.text), assert.AssertionError, c.name);
});

Deno.test("e2e checks: JSON stats answers", async () => {
  const { jsonStats } = await import("../../src/stats/report.ts");
  const { SyncCounters } = await import("../../src/stats/counters.ts");
  const { LatencyHistogram } = await import("../../src/stats/latency.ts");
  const { PeerTable } = await import("../../src/stats/peers.ts");
  const counters = new SyncCounters();
  counters.netReceivedPackets = 3;
  counters.netReceivedBytes = 420;
  counters.kernelAdds = 2;
  counters.netDropped = 1;
  const peers = new PeerTable();
  Object.assign(peers.get("[2001:db8:ff08::1]:6464"), {
    datagrams: 3,
    bytes: 420,
    dropped: 1,
    lastSeenMs: 1_800_000_000_000,
  });
  const ack = new LatencyHistogram();
  const good = JSON.stringify(jsonStats({
    counters,
    peers,
    ackLatency: ack,
    relayLatency: new LatencyHistogram(),
    startedMs: 1_799_999_990_000,
    lastSyncMs: () => 1_800_000_000_000,
    instance: "default",
    version: "0.1.0",
  }, 1_800_000_000_000));
  const parsed = parseJsonStats(good);
  assert.equal(parsed.uptimeSeconds, 10);
  checkCounterRelations("j1", parsed);

  // The edits break the documented shape on purpose: no type describes them.
  // deno-lint-ignore no-explicit-any
  const broken = (edit: (json: Record<string, any>) => void) => {
    const json = JSON.parse(good);
    edit(json);
    return JSON.stringify(json);
  };
  const cases: { name: string; text: string }[] = [
    { name: "not JSON", text: "KERNEL_SENT_PKTS,0\n" },
    { name: "missing counter", text: broken((j) => delete j.counters.netDropped) },
    { name: "negative counter", text: broken((j) => j.counters.kernelAcks = -1) },
    { name: "bad time", text: broken((j) => j.lastSyncTime = "yesterday") },
    { name: "percentiles", text: broken((j) => Object.assign(j.ackLatency, { p50Us: 8 })) },
    {
      name: "peer time",
      text: broken((j) => delete j.peers["[2001:db8:ff08::1]:6464"].lastSeenTime),
    },
    { name: "extra field", text: broken((j) => j.extra = 1) },
  ];
  for (const c of cases) assert.throws(() => parseJsonStats(c.text), assert.AssertionError, c.name);
  // Counters that do not add up.
  const lost = parseJsonStats(broken((j) => j.counters.kernelAdds = 1));
  assert.throws(() => checkCounterRelations("j1", lost), assert.AssertionError);
  // A sealed daemon sends one datagram for the batches of a few milliseconds.
  const gathered = parseJsonStats(broken((j) => {
    Object.assign(j.counters, { kernelSentPackets: 3, kernelAcks: 3, kernelSentBytes: 300 });
    Object.assign(j.counters, { netSentPackets: 1, netSentBytes: 300 });
    const latency = { count: 3, p50Us: 256, p90Us: 500, p99Us: 500, maxUs: 500 };
    j.ackLatency = latency;
    j.relayLatency = latency;
  }));
  checkCounterRelations("j1", gathered, { sealed: true });
  assert.throws(() => checkCounterRelations("j1", gathered), assert.AssertionError);
});

Deno.test("e2e checks: new kernel log lines", () => {
  assert.deepEqual(newLines("a\nb\n", "a\nb\nc\n"), ["c"]);
  assert.deepEqual(newLines("a\n", "a\n"), []);
  assert.equal(versionOf("4.1.9.0") < joolVersion(4, 1, 11), true);
});

Deno.test("e2e checks: every scenario has its guest script", async () => {
  for (const scenario of ALL) {
    const script = new URL(`scenarios/${scenario.name.replaceAll("-", "_")}.sh`, import.meta.url);
    const info = await Deno.stat(script);
    assert.ok(info.isFile, `${scenario.name}: no guest script ${script.pathname}`);
  }
});

Deno.test("e2e checks: the lossless scenarios' records", () => {
  assert.deepEqual(
    parseUnionCounts("j1 900 60\nj2 900 12\n"),
    new Map([["j1", { udp: 900, tcp: 60 }], ["j2", { udp: 900, tcp: 12 }]]),
  );
  assert.equal(parseUnionCounts("").size, 0);
  assert.deepEqual(
    parseCounts("j1 12\nj2-before 0\n\nseconds never\n"),
    new Map([["j1", "12"], ["j2-before", "0"], ["seconds", "never"]]),
  );
  assert.equal(parseCounts("").size, 0);
  const qdiscs = [
    // The bridge's own qdisc: its drops are not netem's.
    "qdisc noqueue 0: dev br0 root refcnt 2",
    " Sent 0 bytes 0 pkt (dropped 7, overlimits 0 requeues 0)",
    "qdisc netem 8001: dev port1 root refcnt 2 limit 1000 loss 2%",
    " Sent 91234 bytes 120 pkt (dropped 3, overlimits 0 requeues 0)",
    "qdisc netem 8002: dev port2 root refcnt 2 limit 1000 loss 2%",
    " Sent 91234 bytes 120 pkt (dropped 2, overlimits 0 requeues 0)",
  ].join("\n");
  assert.equal(netemDropped(qdiscs), 5);
  assert.equal(
    netemDropped(qdiscs.replaceAll("dropped 3", "dropped 0").replaceAll("dropped 2", "dropped 0")),
    0,
  );
});
