import assert from "node:assert/strict";
import {
  describeCase,
  failuresAfterFailover,
  parseTimeline,
  reportCase,
  reportYoung,
  sideBySide,
  survivalProblems,
  youngProblems,
} from "./failover_timeline.ts";

// flows-up at 1000, on j2 from 5000 to 9000, back on j1 from 9500 to 12000.
const TIMELINE = [
  "900 case-start",
  "1000 flows-up",
  "1100 synced",
  "4000 failover",
  "5000 on-j2",
  "9000 failback",
  "9500 on-j1",
  "12000 case-end",
].join("\n");

/** A client log echoing at every ms of `at`, plus the extra lines, then `end`. */
function client(at: number[], extra: string[] = [], sent = at.length): string {
  const lines = ["990 tcp-connected 40000", ...at.map((ms, i) => `${ms} tcp-echo ${i + 1}`)];
  return [...lines, ...extra, `12100 end sent=${sent} echoed=${at.length}`].join("\n");
}

/** A server log with one datagram per [ms, IPv4 source port]. */
function server(datagrams: [number, number][]): string {
  return [
    "100 server-ready 8080 7777",
    ...datagrams.map(([ms, port], i) => `${ms} udp-received 192.0.2.1 ${port} ${i + 1}`),
  ].join("\n");
}

const PING = [
  "1001 PING 64:ff9b::192.0.2.2 (64:ff9b::c000:202): 56 data bytes",
  "2000 64 bytes from 64:ff9b::c000:202: seq=0 ttl=63 time=1.0 ms",
  "6000 64 bytes from 64:ff9b::c000:202: seq=20 ttl=63 time=1.0 ms",
  "10000 64 bytes from 64:ff9b::c000:202: seq=40 ttl=63 time=1.0 ms",
].join("\n");

const STEADY = [1500, 3000, 3900, 5200, 6000, 8000, 9600, 11000, 11900];
const SAME_PORT = server([[2000, 63853], [6000, 63853], [10000, 63853]]);

Deno.test("failover timeline: the marks must all be there, in order", () => {
  assert.equal(parseTimeline(TIMELINE)["on-j2"], 5000);
  assert.throws(() => parseTimeline(TIMELINE.replace("5000 on-j2", "")), /lacks the mark: on-j2/);
  assert.throws(
    () => parseTimeline(TIMELINE.replace("9000 failback", "4500 failback")),
    /out of order: failback/,
  );
});

Deno.test("failover timeline: what survives and what does not", () => {
  const cases: { name: string; client: string; server: string; problems: string[] }[] = [
    { name: "survived", client: client(STEADY), server: SAME_PORT, problems: [] },
    {
      name: "timed out on j2 and reconnected",
      client: client(STEADY, [
        "8000 tcp-timeout 4000",
        "8001 tcp-reconnect",
        "8300 tcp-connected 1",
      ]),
      server: SAME_PORT,
      problems: ["the client connected 2 times (reconnected)", "TCP timeout 4000"],
    },
    {
      name: "reset",
      client: client(STEADY, ["5100 tcp-reset"]),
      server: SAME_PORT,
      problems: ["TCP reset"],
    },
    {
      name: "no echo through j2",
      client: client([1500, 3000, 9600, 11000]),
      server: SAME_PORT,
      problems: ["no TCP echo through j2"],
    },
    {
      name: "the UDP flow got a new port on j2",
      client: client(STEADY),
      server: server([[2000, 63853], [6000, 61234], [10000, 63853]]),
      problems: ["the server saw the UDP flow from ports 63853, 61234"],
    },
    {
      name: "lines lost",
      client: client(STEADY, [], STEADY.length + 5),
      server: SAME_PORT,
      problems: ["5 of 14 TCP lines never came back"],
    },
  ];
  for (const c of cases) {
    const report = reportCase(TIMELINE, c.client, c.server, PING);
    assert.deepEqual(survivalProblems(report), c.problems, c.name);
  }
});

Deno.test("failover timeline: a report counts per phase and finds the longest silence", () => {
  const report = reportCase(TIMELINE, client(STEADY), SAME_PORT, PING);
  assert.deepEqual(report.echoes, { j1: 3, j2: 3, "j1 again": 3 });
  assert.deepEqual(report.pingReplies, { j1: 1, j2: 1, "j1 again": 1 });
  assert.deepEqual(report.udpPorts, { j1: [63853], j2: [63853], "j1 again": [63853] });
  assert.equal(report.longestSilenceMs, 2000); // 6000 -> 8000
  assert.equal(report.connections, 1);
});

Deno.test("failover timeline: the control's failures are those after the failover", () => {
  const extra = ["3000 tcp-error early", "7000 tcp-timeout 4000", "7001 tcp-reconnect"];
  const report = reportCase(TIMELINE, client([1500, 3000], extra), SAME_PORT, PING);
  assert.deepEqual(failuresAfterFailover(TIMELINE, report).map((f) => f.event), ["tcp-timeout"]);
  const story = describeCase(TIMELINE, report);
  assert.ok(story.includes("  6.0 s  TCP LOST (no echo for 4000 ms): reconnect"), story.join("\n"));
});

Deno.test("failover timeline: two columns", () => {
  assert.deepEqual(sideBySide(["a", "bbb"], ["x", "y", "z"]), ["a      x", "bbb    y", "       z"]);
});

Deno.test("failover timeline: the young connection, opened just before the failover", () => {
  const survived = [
    "3700 tcp-connected 40001",
    "3850 tcp-echo 1",
    "5200 tcp-echo 2",
    "6000 tcp-echo 3",
  ]
    .join("\n");
  const young = reportYoung(TIMELINE, survived);
  assert.deepEqual(young, { ageAtFailoverMs: 300, connections: 1, failures: [], echoesOnJ2: 2 });
  assert.deepEqual(youngProblems(young), []);
  const story = describeCase(
    TIMELINE,
    reportCase(TIMELINE, client(STEADY), SAME_PORT, PING),
    young,
  );
  assert.deepEqual(story.slice(-2), [
    "young TCP connection, opened 0.3 s before j1 died:",
    "  went on via j2 (2 echoes), no reconnect",
  ]);
  // Its session was still in j1's kernel: j2 drops the packets, the client gives up.
  const lost = reportYoung(
    TIMELINE,
    [
      "3700 tcp-connected 40001",
      "3850 tcp-echo 1",
      "8000 tcp-timeout 4000",
      "8001 tcp-connected 40002",
    ]
      .join("\n"),
  );
  assert.deepEqual(youngProblems(lost), [
    "the young client connected 2 times (reconnected)",
    "young TCP timeout 4000",
    "no young TCP echo through j2",
  ]);
  assert.deepEqual(youngProblems(reportYoung(TIMELINE, "")), [
    "the young connection never connected",
  ]);
});
