import assert from "node:assert/strict";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { silentLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import type { ResyncOutcome } from "../sync/resync.ts";
import { StatusPublisher } from "./status_publisher.ts";
import {
  decodeDaemonStatus,
  encodeDaemonStatus,
  HEARTBEAT_MS,
  isStatusFileOf,
  SETTLE_MAX_MS,
  SETTLE_QUIET_MS,
  statusFileName,
  SyncState,
  type SyncStateName,
} from "./sync_state.ts";

const T0 = Date.UTC(2026, 11, 7, 14, 0, 0);
const NETNS = "net:[4026531840]";

Deno.test("SyncState: the start-up resync's outcome decides; later outcomes change nothing", () => {
  const cases: [string, (state: SyncState) => void, SyncStateName, string, boolean][] = [
    ["before setup", () => {}, "starting", "opening the kernel link and the sockets", false],
    [
      "request out",
      (state) => state.resyncing("asking peers for their sessions", T0 + 1),
      "resyncing",
      "asking peers for their sessions",
      false,
    ],
    [
      "sessions coming",
      (state) => {
        state.resyncing("asking", T0 + 1);
        state.resyncOutcome({ kind: "sessions", from: "192.0.2.2:6465" }, T0 + 2);
      },
      "resyncing",
      "receiving 192.0.2.2:6465's sessions",
      false,
    ],
    [
      "sessions came, then the answerer went quiet",
      (state) => {
        state.resyncing("asking", T0 + 1);
        state.resyncOutcome({ kind: "sessions", from: "192.0.2.2:6465" }, T0 + 2);
        state.settle(new Map(), T0 + 2 + SETTLE_QUIET_MS);
      },
      "in-sync",
      "192.0.2.2:6465 sent its sessions",
      true,
    ],
    [
      "answered, no sessions",
      (state) => {
        state.resyncing("asking", T0 + 1);
        state.resyncOutcome({ kind: "answered-empty", by: ["192.0.2.2:6465"] }, T0 + 2);
      },
      "in-sync",
      "192.0.2.2:6465 answered with no sessions",
      true,
    ],
    [
      "nobody answered",
      (state) => {
        state.resyncing("asking", T0 + 1);
        state.resyncOutcome({ kind: "unanswered", attempts: 3 }, T0 + 2);
      },
      "alone",
      "no peer answered 3 resync requests",
      true,
    ],
    [
      "no control port",
      (state) => state.noResync("no control port: this node does not resync", T0 + 1),
      "alone",
      "no control port: this node does not resync",
      true,
    ],
    [
      "a later request (the interface back) unanswered: still in sync",
      (state) => {
        state.resyncing("asking", T0 + 1);
        state.resyncOutcome({ kind: "sessions", from: "192.0.2.2:6465" }, T0 + 2);
        state.settle(new Map(), T0 + 5000);
        state.resyncOutcome({ kind: "unanswered", attempts: 3 }, T0 + 6000);
      },
      "in-sync",
      "192.0.2.2:6465 sent its sessions",
      true,
    ],
    [
      "known gaps: not in sync whatever the state",
      (state) => {
        state.resyncing("asking", T0 + 1);
        state.resyncOutcome({ kind: "sessions", from: "192.0.2.2:6465" }, T0 + 2);
        state.settle(new Map(), T0 + 5000);
        state.knownGaps = 2;
      },
      "in-sync",
      "192.0.2.2:6465 sent its sessions",
      false,
    ],
  ];
  for (const [name, steps, expected, reason, inSync] of cases) {
    const state = new SyncState(T0);
    steps(state);
    assert.equal(state.state, expected, name);
    assert.equal(state.inSync, inSync, name);
    const snapshot = state.snapshot({ pid: 7, instance: "default" }, new Map(), T0 + 9, 5);
    assert.equal(snapshot.reason, reason, name);
  }
});

Deno.test("SyncState: the answerer's table is in once it is quiet, or at the latest after SETTLE_MAX_MS", () => {
  const from = "[2001:db8::2]:6465";
  const start = () => {
    const state = new SyncState(T0);
    state.resyncing("asking", T0);
    state.resyncOutcome({ kind: "sessions", from }, T0 + 100);
    assert.equal(state.settling, true);
    return state;
  };
  // Still sending 900 ms ago (another port of the same host: its sync socket): not yet.
  const quiet = start();
  const heard = (ms: number) =>
    new Map([["[2001:db8::2]:6464", ms], ["192.0.2.9:6464", T0 + 9999]]);
  assert.equal(quiet.settle(heard(T0 + 1200), T0 + 2100), false);
  assert.equal(quiet.state, "resyncing");
  assert.equal(quiet.settle(heard(T0 + 1200), T0 + 1200 + SETTLE_QUIET_MS), true);
  assert.equal(quiet.state, "in-sync");
  assert.equal(quiet.settling, false);
  assert.equal(quiet.describe(new Map()), `in sync: ${from} sent its sessions; 0 peers heard`);
  // Never quiet (its live traffic): in sync at the cap, said so.
  const busy = start();
  const endMs = T0 + 100 + SETTLE_MAX_MS;
  for (let ms = T0 + 200; ms < endMs; ms += 100) assert.equal(busy.settle(heard(ms), ms), false);
  assert.equal(busy.settle(heard(endMs), endMs), true);
  assert.equal(
    busy.describe(new Map()),
    `in sync: ${from} sent its sessions (still sending after 10 s: its live traffic); 0 peers heard`,
  );
  // A second outcome while settling changes nothing.
  const twice = start();
  twice.resyncOutcome({ kind: "unanswered", attempts: 3 }, T0 + 200);
  assert.equal(twice.state, "resyncing");
  assert.equal(twice.settling, true);
});

Deno.test("SyncState: STATUS= lines, and the snapshot's peers with who answered", () => {
  const state = new SyncState(T0);
  const peers = new Map([["192.0.2.2:6464", T0 + 1500], ["[2001:db8::3]:6464", 0]]);
  assert.equal(
    state.describe(new Map()),
    "starting: opening the kernel link and the sockets; 0 peers heard",
  );
  state.resyncing("asking peers for their sessions", T0 + 1000);
  assert.equal(state.describe(peers), "resyncing: asking peers for their sessions; 2 peers heard");
  const outcome: ResyncOutcome = { kind: "sessions", from: "192.0.2.2:6465" };
  state.resyncOutcome(outcome, T0 + 1000);
  state.settle(new Map(), T0 + 2000);
  state.knownGaps = 1;
  assert.equal(
    state.describe(new Map([["192.0.2.2:6464", T0]])),
    "in sync: 192.0.2.2:6465 sent its sessions; 1 known gaps; 1 peer heard",
  );
  assert.deepEqual(state.snapshot({ pid: 4242, instance: "default" }, peers, T0 + 3000, 123.5), {
    version: 1,
    pid: 4242,
    instance: "default",
    state: "in-sync",
    since: "2026-12-07T14:00:02.000Z",
    reason: "192.0.2.2:6465 sent its sessions",
    knownGaps: 1,
    peers: [
      { address: "192.0.2.2:6464", lastHeard: "2026-12-07T14:00:01.500Z", answeredResync: true },
      { address: "[2001:db8::3]:6464", lastHeard: null, answeredResync: false },
    ],
    heartbeat: "2026-12-07T14:00:03.000Z",
    heartbeatMonotonicMs: 123.5,
  });
});

Deno.test("status file: names per instance and namespace; a round trip; what is wrong, named", () => {
  assert.equal(statusFileName("default", NETNS), "default.net-4026531840.status.json");
  assert.equal(isStatusFileOf("default.net-4026531840.status.json", NETNS), true);
  assert.equal(isStatusFileOf("a.net-1.status.net-4026531840.status.json", NETNS), true);
  assert.equal(isStatusFileOf("default.net-4026531840.json", NETNS), false, "the tuning state");
  assert.equal(isStatusFileOf("default.net-1.status.json", NETNS), false, "another namespace");
  assert.equal(isStatusFileOf("default.net-1.status.json", null, true), true, "any namespace");
  assert.equal(isStatusFileOf("default.net-1.json", null, true), false, "any, the tuning state");

  const state = new SyncState(T0);
  const status = state.snapshot({ pid: 9, instance: "x" }, new Map([["a:1", T0]]), T0, 1);
  assert.deepEqual(decodeDaemonStatus(encodeDaemonStatus(status)), status);
  const text = (change: Record<string, unknown>) => JSON.stringify({ ...status, ...change });
  const cases: [string, string, string][] = [
    ["not JSON", "{", "not JSON"],
    ["a list", "[]", "not a JSON object"],
    ["another version", text({ version: 2 }), '"version" is 2, not 1'],
    ["no pid", text({ pid: 0 }), '"pid" is not a pid'],
    ["unknown state", text({ state: "synced" }), '"state" is not one of starting, resyncing'],
    ["bad time", text({ since: "yesterday" }), '"since" is not a time'],
    ["negative gaps", text({ knownGaps: -1 }), '"knownGaps" is not a count'],
    ["no heartbeat", text({ heartbeatMonotonicMs: "1" }), '"heartbeatMonotonicMs" is not'],
    ["bad peer", text({ peers: [{ address: 1 }] }), '"peers" is not a list of'],
  ];
  for (const [name, input, problem] of cases) {
    const decoded = decodeDaemonStatus(input);
    assert.equal(typeof decoded, "string", name);
    assert.ok((decoded as string).startsWith(problem), `${name}: ${decoded}`);
  }
});

Deno.test("StatusPublisher: the file on change and every heartbeat, STATUS= on a new line, removed at stop", async () => {
  const dir = await Deno.makeTempDir({ prefix: "joold-status-" });
  const path = `${dir}/sub/default.net-1.status.json`;
  const clock = new ManualClock();
  const state = new SyncState(clock.now());
  const statusLines: string[] = [];
  let monotonic = 1000;
  const counters = new SyncCounters();
  const publisher = new StatusPublisher({
    state,
    path,
    identity: { pid: 77, instance: "default" },
    peers: () => new Map(),
    knownGaps: () => 0,
    monotonicMs: () => monotonic,
    notifier: { status: (line) => statusLines.push(line) },
    clock,
    logger: silentLogger,
    counters,
  });
  const read = () => decodeDaemonStatus(Deno.readTextFileSync(path));
  try {
    publisher.start();
    assert.equal((Deno.statSync(path).mode ?? 0) & 0o777, 0o644, "readable by keepalived's user");
    assert.deepEqual(statusLines, [
      "starting: opening the kernel link and the sockets; 0 peers heard",
    ]);
    state.resyncing("asking", clock.now());
    publisher.publish();
    assert.equal((read() as { state: string }).state, "resyncing");
    monotonic = 3000;
    clock.advance(HEARTBEAT_MS);
    assert.equal((read() as { heartbeatMonotonicMs: number }).heartbeatMonotonicMs, 3000);
    assert.equal(statusLines.length, 2, "the same line is not sent again");
    publisher.stop();
    assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
    clock.advance(10 * HEARTBEAT_MS);
    assert.throws(() => Deno.statSync(path), Deno.errors.NotFound, "no heartbeat after stop");
    assert.equal(counters.statusFileFailures, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StatusPublisher: a directory it cannot write is a warning per interval and a count", () => {
  const clock = new ManualClock();
  const lines: string[] = [];
  const counters = new SyncCounters();
  const publisher = new StatusPublisher({
    state: new SyncState(clock.now()),
    path: "/proc/joold-cannot-write/x.status.json",
    identity: { pid: 1, instance: "default" },
    peers: () => new Map(),
    knownGaps: () => 0,
    monotonicMs: () => 0,
    notifier: null,
    clock,
    logger: { ...silentLogger, warning: (line: string) => lines.push(line) },
    counters,
  });
  publisher.start();
  clock.advance(3 * HEARTBEAT_MS);
  publisher.stop();
  assert.equal(counters.statusFileFailures, 4);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(
    lines[0],
    /^Cannot write the status file \/proc\/joold-cannot-write\/x\.status\.json: /,
  );
});

Deno.test("StatusPublisher: a peer's known gap makes an in-sync node not in sync until it closes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "joold-status-" });
  const path = `${dir}/default.net-1.status.json`;
  const clock = new ManualClock();
  const state = new SyncState(clock.now());
  let gaps = 0;
  const lines: string[] = [];
  const publisher = new StatusPublisher({
    state,
    path,
    identity: { pid: 77, instance: "default" },
    peers: () => new Map(),
    knownGaps: () => gaps,
    monotonicMs: () => 0,
    notifier: { status: (line) => lines.push(line) },
    clock,
    logger: silentLogger,
    counters: new SyncCounters(),
  });
  const read = () => decodeDaemonStatus(Deno.readTextFileSync(path)) as { knownGaps: number };
  try {
    state.noResync("no control port", clock.now());
    publisher.start();
    assert.ok(state.inSync, "alone: in sync");
    gaps = 1;
    clock.advance(HEARTBEAT_MS);
    assert.equal(read().knownGaps, 1);
    assert.ok(!state.inSync, "a known gap: not in sync");
    assert.match(lines.at(-1)!, /1 known gaps/);
    gaps = 0;
    clock.advance(HEARTBEAT_MS);
    assert.equal(read().knownGaps, 0);
    assert.ok(state.inSync, "the gap closed: in sync again");
    publisher.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
