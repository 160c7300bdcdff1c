import assert from "node:assert/strict";
import { SAMPLE_SESSIONS } from "../../tests/support/session_entries.ts";
import { CommandLineError } from "../command_line.ts";
import { joolVersion } from "../jool/header.ts";
import { encodeSessions, type Session } from "../jool/session.ts";
import { parseIPv6 } from "../net/ip.ts";
import { decodeMessages } from "../netlink/message.ts";
import { FAKE_JOOL_FAMILY, FakeJool, sessionBatch } from "../../tests/support/fake_jool.ts";
import { FakeJooldQueue } from "../../tests/support/fake_joold_queue.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { JoolOperation } from "../jool/protocol.ts";
import {
  ackFlushNudge,
  ackRefusal,
  followTuningConfig,
  modeLine,
  silentGroupWarning,
  tuneForAck,
} from "./follow_run.ts";
import { defaultModsocketConfig, MODSOCKET_KEYS } from "../config/modsocket.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import { InstanceSetup } from "../daemon/instance_setup.ts";
import { TuningStateFile } from "../daemon/tuning_state.ts";
import { failingSetNow, syncHarness } from "../../tests/support/sync_harness.ts";
import { withStateDirectory } from "../../tests/support/state_directory.ts";
import type { DaemonReport } from "./status.ts";
import type { DaemonStatus } from "../daemon/sync_state.ts";
import {
  FOLLOW_CSV_HEADER,
  type FollowContext,
  type FollowOptions,
  formatSyncedSession,
  formatTimeout,
  groupListeners,
  KernelFollower,
  optOutFlag,
  optOutKey,
  parseFollowArguments,
  sessionsOfDatagram,
  sessionsOfKernelMessage,
  type SyncedSession,
  TUNING_OPT_OUT_FLAGS,
} from "./follow.ts";

const DEFAULTS: FollowOptions = {
  instance: "default",
  format: "text",
  headers: false,
  source: "kernel",
  group: null,
  port: "6400",
  portGiven: false,
  ack: false,
  untuned: [],
  devIn: null,
  logLevel: "warning",
  help: false,
};

Deno.test("joold follow: the command line", () => {
  const cases: [string[], Partial<FollowOptions>][] = [
    [[], {}],
    [["-i", "nat64a"], { instance: "nat64a" }],
    [["--json"], { format: "json" }],
    [["--csv"], { format: "csv", headers: true }],
    [["--csv", "--no-headers"], { format: "csv", headers: false }],
    [["ff08::db8:64:64"], { group: "ff08::db8:64:64", source: "both" }],
    [["--source=group", "-p", "6464", "--net.dev.in=eth1", "ff08::1"], {
      group: "ff08::1",
      source: "group",
      port: "6464",
      portGiven: true,
      devIn: "eth1",
    }],
    [["--format=jool"], { format: "jool" }],
    [["--format", "csv"], { format: "csv", headers: true }],
    [["--format=json", "--json"], { format: "json" }],
    [["--ack"], { ack: true }],
    [["--ack", "--no-ss-capacity"], { ack: true, untuned: ["ss capacity"] }],
    [["--ack", "--no-ss-flush-deadline", "--no-ss-max-payload"], {
      ack: true,
      untuned: ["ss max payload", "ss flush deadline"],
    }],
    [["--ack", "ff08::1"], { ack: true, group: "ff08::1", source: "both" }],
    [["--source", "kernel", "ff08::1"], { group: "ff08::1", source: "kernel" }],
    [["--log-level=info"], { logLevel: "info" }],
    [["-h"], { help: true }],
  ];
  for (const [args, expected] of cases) {
    assert.deepEqual(parseFollowArguments(args), { ...DEFAULTS, ...expected }, args.join(" "));
  }
  const bad: [string[], string][] = [
    [["--json", "--csv"], "--json and --csv exclude each other"],
    [["--no-headers"], "--no-headers only goes with --csv"],
    [["--source=peers", "ff08::1"], "--source: must be kernel, group or both, got 'peers'"],
    [["--source=group"], "--source=group needs MCAST_ADDRESS (the sync group)"],
    [["ff08::1", "ff08::2"], "too many arguments: ff08::2"],
    [
      ["-p", "0", "ff08::1"],
      "--net.mcast.port: must be a port number from 1 to 65535, got '0'",
    ],
    [
      ["-i", "0123456789abcdef"],
      "--instance: must be at most 15 characters long, got 16 ('0123456789abcdef')",
    ],
    [["--log-level=x"], "--log-level: must be error, warning, info or debug, got 'x'"],
    [["--format=xml"], "--format: must be text, json, csv or jool, got 'xml'"],
    [["--format=jool", "--csv"], "--format=jool and --csv exclude each other"],
    [["--format=jool", "--no-headers"], "--no-headers only goes with --csv"],
    [
      ["--ack", "--source=group", "ff08::1"],
      "--ack acknowledges the kernel's batches: not with --source=group",
    ],
    [["--no-ss-capacity"], "--no-ss-capacity only goes with --ack"],
  ];
  for (const [args, message] of bad) {
    assert.throws(
      () => parseFollowArguments(args),
      (error) => error instanceof CommandLineError && error.message === message,
      args.join(" "),
    );
  }
});

Deno.test("formatTimeout() prints as Jool's tools do", () => {
  assert.equal(formatTimeout(0), "0:00:00");
  assert.equal(formatTimeout(6000), "0:00:06");
  assert.equal(formatTimeout(7_200_000 + 61_005), "2:01:01.005");
  assert.equal(formatTimeout(299_999), "0:04:59.999");
});

const TCP: Session = SAMPLE_SESSIONS.tcp;
const UDP: Session = {
  proto: "UDP",
  src6: { address: "2001:db8::7", port: 5353 },
  src4: { address: "192.0.2.2", port: 61003 },
  dst4: { address: "198.51.100.8", port: 53 },
  state: 0,
  timer: 0,
  expirationMs: 300_000,
};

Deno.test("formatSyncedSession(): text, JSON lines and CSV", () => {
  const tcp: SyncedSession = { session: TCP, origin: "kernel", encoding: "nested-4.1.0" };
  const udp: SyncedSession = {
    session: UDP,
    origin: "[2001:db8::1]:6400",
    encoding: "raw36-4.1.13",
  };
  assert.equal(
    formatSyncedSession(tcp, "text"),
    "kernel TCP 2001:db8::5#40000 64:ff9b::cb00:7109#443 192.0.2.1#61001 203.0.113.9#443 V4_INIT 0:00:06",
  );
  assert.equal(
    formatSyncedSession(udp, "text"),
    "[2001:db8::1]:6400 UDP 2001:db8::7#5353 - 192.0.2.2#61003 198.51.100.8#53 - 0:05:00",
  );
  assert.deepEqual(JSON.parse(formatSyncedSession(udp, "json")), {
    source: "[2001:db8::1]:6400",
    encoding: "raw36-4.1.13",
    proto: "UDP",
    src6: { address: "2001:db8::7", port: 5353 },
    dst6: null,
    src4: { address: "192.0.2.2", port: 61003 },
    dst4: { address: "198.51.100.8", port: 53 },
    state: null,
    timer: 0,
    expirationMs: 300000,
  });
  assert.equal(JSON.parse(formatSyncedSession(tcp, "json")).state, "V4_INIT");
  assert.equal(FOLLOW_CSV_HEADER.split(",").length, 12);
  assert.equal(
    formatSyncedSession(tcp, "csv"),
    "TCP,2001:db8::5,40000,64:ff9b::cb00:7109,443,192.0.2.1,61001,203.0.113.9,443,0:00:06,V4_INIT,kernel",
  );
  assert.equal(
    formatSyncedSession(udp, "csv"),
    "UDP,2001:db8::7,5353,,,192.0.2.2,61003,198.51.100.8,53,0:05:00,,[2001:db8::1]:6400",
  );
});

const CONTEXT: FollowContext = { instance: "default", localEncoding: "raw36-4.1.13", pool6: null };

Deno.test("sessionsOfKernelMessage(): the followed instance's batches, in their kernel's encoding", () => {
  const batch = (instance: string, version: number, encoding: "nested-4.1.0" | "raw36-4.1.13") =>
    decodeMessages(sessionBatch(instance, encodeSessions([TCP], encoding), version))[0];
  const nested = sessionsOfKernelMessage(
    batch("DEFAULT", joolVersion(4, 1, 9), "nested-4.1.0"),
    FAKE_JOOL_FAMILY.id,
    CONTEXT,
  );
  assert.deepEqual(nested, [{ session: TCP, origin: "kernel", encoding: "nested-4.1.0" }]);
  const raw36 = sessionsOfKernelMessage(
    batch("default", joolVersion(4, 1, 15), "raw36-4.1.13"),
    FAKE_JOOL_FAMILY.id,
    { ...CONTEXT, pool6: { address: parseIPv6("64:ff9b::")!, length: 96 } },
  );
  // dst6 rebuilt from the pool6, as the kernel does.
  assert.deepEqual(raw36, [{ session: TCP, origin: "kernel", encoding: "raw36-4.1.13" }]);
  const other = batch("other", joolVersion(4, 1, 15), "raw36-4.1.13");
  assert.deepEqual(sessionsOfKernelMessage(other, FAKE_JOOL_FAMILY.id, CONTEXT), []);
  assert.deepEqual(sessionsOfKernelMessage(other, FAKE_JOOL_FAMILY.id + 1, CONTEXT), []);
});

Deno.test("sessionsOfDatagram(): any 4.1 encoding, the local one first; garbage named", () => {
  const { dst6: _, ...raw36Tcp } = TCP;
  for (const encoding of ["nested-4.1.0", "raw48-4.1.12", "raw36-4.1.13"] as const) {
    const sessions = sessionsOfDatagram(
      encodeSessions([TCP], encoding),
      "[2001:db8::1]:6400",
      CONTEXT,
    );
    assert.deepEqual(sessions, [{
      session: encoding === "raw36-4.1.13" ? raw36Tcp : TCP,
      origin: "[2001:db8::1]:6400",
      encoding,
    }]);
  }
  assert.equal(sessionsOfDatagram(new Uint8Array(0), "x", CONTEXT), "empty datagram");
  assert.match(
    sessionsOfDatagram(Uint8Array.of(1, 2, 3), "x", CONTEXT) as string,
    /^not a session batch in any Jool 4\.1 encoding/,
  );
});

Deno.test("KernelFollower: prints every batch of the instance and never ACKs nor sends to Jool", async () => {
  for (const version of [joolVersion(4, 1, 9), joolVersion(4, 1, 15)]) {
    const jool = new FakeJool({ version });
    const printed: SyncedSession[] = [];
    const problems: string[] = [];
    const follower = new KernelFollower(
      jool.kernel,
      CONTEXT,
      (sessions) => printed.push(...sessions),
      (problem) => problems.push(problem),
    );
    jool.kernel.connect((datagram) => follower.receive(datagram));
    assert.equal(await follower.resolve(), FAKE_JOOL_FAMILY.groups.joold);
    const encoding = version === joolVersion(4, 1, 9) ? "nested-4.1.0" : "raw36-4.1.13";
    jool.multicast(encodeSessions([TCP], encoding));
    jool.multicast(encodeSessions([TCP, TCP], encoding));
    jool.multicast(encodeSessions([TCP], encoding), "other");
    jool.kernel.inject(sessionBatch("default", Uint8Array.of(1, 2, 3), version));
    assert.equal(printed.length, 3);
    assert.ok(printed.every((event) => event.origin === "kernel" && event.encoding === encoding));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^Ignoring a kernel batch: /);
    // Not one message to the Jool family: no JOOLD_ACK, no JOOLD_ADD.
    assert.deepEqual(jool.commands(), []);
  }
});

Deno.test("formatSyncedSession(): --format=jool is jool session follow's line", () => {
  // Jool 4.1.15, src/usr/argp/joold/modsocket.c: "%s," proto, then "%s,%u," for
  // src6, src4 and dst4 (inet_ntop), then timeout2str(expiration) and "\n".
  const line = (session: Session) =>
    formatSyncedSession({ session, origin: "kernel", encoding: "raw36-4.1.13" }, "jool");
  assert.equal(line(UDP), "UDP,2001:db8::7,5353,192.0.2.2,61003,198.51.100.8,53,0:05:00");
  assert.equal(line(TCP), "TCP,2001:db8::5,40000,192.0.2.1,61001,203.0.113.9,443,0:00:06");
  const icmp: Session = {
    ...UDP,
    proto: "ICMP",
    src6: { address: "::102:304", port: 7 },
    expirationMs: 60_250,
  };
  // inet_ntop writes an IPv4-compatible address in dotted form.
  assert.equal(line(icmp), "ICMP,::1.2.3.4,7,192.0.2.2,61003,198.51.100.8,53,0:01:00.250");
});

Deno.test("KernelFollower --ack: alone, it sees every session of a burst; listening only, one batch", async () => {
  for (const ack of [true, false]) {
    const clock = new ManualClock();
    const jool = new FakeJool({ version: joolVersion(4, 1, 15) });
    const queue = new FakeJooldQueue(jool, clock);
    const printed: SyncedSession[] = [];
    const follower = new KernelFollower(
      jool.kernel,
      CONTEXT,
      (sessions) => printed.push(...sessions),
      () => {},
      ack,
    );
    jool.kernel.connect((datagram) => follower.receive(datagram));
    await follower.resolve();
    for (let i = 0; i < 3000; i++) {
      queue.add({ ...UDP, src6: { address: "2001:db8::7", port: 1 + i } });
    }
    // Let every batch and ACK go round (each a microtask).
    const settle = async () => {
      for (let i = 0; i < 2000; i++) await Promise.resolve();
    };
    await settle();
    if (ack) {
      // The last, partial batch leaves at the flush deadline.
      clock.advance(4100);
      await settle();
      assert.equal(printed.length, 3000, "every session, as jool session follow");
      assert.equal(follower.acks, queue.sent.length, "one ACK per batch");
      assert.ok(jool.commands().every((command) => command === JoolOperation.JOOLD_ACK));
    } else {
      assert.equal(queue.sent.length, 1, "one batch, then the kernel waits for an ACK");
      assert.equal(printed.length, queue.sent[0].sessions.length);
      assert.deepEqual(jool.commands(), []);
    }
  }
});

Deno.test("KernelFollower --ack: ACKs its instance's messages, bad ones too, not others'", async () => {
  const jool = new FakeJool({ version: joolVersion(4, 1, 15) });
  const follower = new KernelFollower(jool.kernel, CONTEXT, () => {}, () => {}, true);
  jool.kernel.connect((datagram) => follower.receive(datagram));
  await follower.resolve();
  jool.multicast(encodeSessions([TCP], "raw36-4.1.13"), "other");
  assert.equal(follower.acks, 0);
  jool.kernel.inject(sessionBatch("default", Uint8Array.of(1, 2, 3), joolVersion(4, 1, 15)));
  jool.multicast(encodeSessions([TCP], "raw36-4.1.13"));
  assert.equal(follower.acks, 2);
});

Deno.test("groupListeners(): the sockets in a Generic Netlink group, from /proc/net/netlink", () => {
  const table = [
    "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode",
    "000000002b06e7a2 0   0          00000000 0        0        0     2        0        4",
    "00000000aaaaaaaa 16  4242       00000040 0        0        0     2        0        100",
    "00000000bbbbbbbb 16  77         00000001 0        0        0     2        0        101",
    "00000000cccccccc 15  90         00000040 0        0        0     2        0        102",
  ].join("\n");
  assert.deepEqual(groupListeners(table, 7), [4242], "group 7 is bit 6; protocol 15 is not genl");
  assert.deepEqual(groupListeners(table, 1), [77]);
  assert.deepEqual(groupListeners(table, 8), []);
  assert.equal(groupListeners(table, 33), null, "the column holds groups 1 to 32 only");
});

Deno.test("joold follow says its mode, and warns when the listeners make it wrong", () => {
  const options = parseFollowArguments([]);
  const ack = parseFollowArguments(["--ack"]);
  assert.match(
    modeLine(ack, []).line,
    /^ACK mode: acknowledging every batch of instance 'default'/,
  );
  assert.equal(modeLine(ack, []).warning, null);
  assert.match(modeLine(ack, [4242]).warning!, /ACKs too.*run joold follow without --ack/);
  assert.match(modeLine(options, [4242]).line, /^Listen-only mode: no ACKs/);
  assert.equal(modeLine(options, [4242]).warning, null);
  assert.match(modeLine(options, []).warning!, /use --ack when no daemon runs$/);
  assert.equal(modeLine(options, null).warning, null, "unknown: nothing claimed");
});

Deno.test("joold follow on the default port beside a daemon of the examples (6464) says why it sees nothing", () => {
  const group = { address: "ff08::db8:64:64", port: 6400 };
  const defaulted = parseFollowArguments(["ff08::db8:64:64"]);
  assert.equal(
    silentGroupWarning(defaulted, group, 12, 0),
    "Nothing came on group ff08::db8:64:64 port 6400 in 10 s while the kernel sent 12 batches: " +
      "port 6400 is `jool session proxy`'s default; a daemon set up from the examples uses " +
      '"multicast port": 6464 (give -p 6464)',
  );
  assert.match(silentGroupWarning(defaulted, group, null, 0)!, /in 10 s: port 6400/);
  assert.equal(silentGroupWarning(defaulted, group, 12, 1), null, "the group spoke");
  assert.equal(
    silentGroupWarning(defaulted, group, 0, 0),
    null,
    "no traffic at all: nothing to say",
  );
  const given = parseFollowArguments(["-p", "6400", "ff08::db8:64:64"]);
  assert.equal(silentGroupWarning(given, group, 12, 0), null, "the port was chosen");
});

Deno.test("joold follow --ack is refused where a joold daemon of the instance runs (its status file)", () => {
  const status: DaemonStatus = {
    version: 1,
    pid: 4242,
    instance: "default",
    state: "in-sync",
    since: "2026-12-07T14:00:00.000Z",
    reason: "peers answered",
    knownGaps: 0,
    peers: [],
    heartbeat: "2026-12-07T14:00:02.000Z",
    heartbeatMonotonicMs: 1000,
  };
  const report = (verdict: DaemonReport["verdict"]): DaemonReport => ({
    path: "/run/joold/default.net-4026531840.status",
    verdict,
    why: "",
    status,
    processAlive: verdict !== "not-running",
    heartbeatAgeMs: 1000,
  });
  const ack = parseFollowArguments(["--ack"]);
  assert.equal(
    ackRefusal(ack, [report("in-sync")]),
    "--ack refused: joold process 4242 (/run/joold/default.net-4026531840.status) synchronises " +
      "instance 'default' here and ACKs its batches; a second ACK would let the kernel send " +
      "faster than the daemon takes them. Follow it with `joold follow` (no --ack)",
  );
  assert.match(ackRefusal(ack, [report("not-in-sync")])!, /^--ack refused/, "starting: ACKs too");
  assert.equal(ackRefusal(ack, [report("not-running")]), null, "a dead daemon's file");
  assert.equal(ackRefusal(ack, []), null);
  assert.equal(ackRefusal(parseFollowArguments([]), [report("in-sync")]), null, "listen-only");
});

const { JOOLD_CAPACITY, JOOLD_FLUSH_DEADLINE } = GlobalAttribute;
const JOOL_4_1_15 = joolVersion(4, 1, 15);
/** What `joold session follow` says, whatever --log-level, of each change on Jool 4.1.15. */
const FOLLOW_RAISED_CAPACITY =
  "said: Raised ss-capacity from 512 to 16384 sessions, so that bursts of sessions wait in " +
  "the kernel's queue instead of being dropped; it goes back to 512 at exit (give " +
  "--no-ss-capacity to prevent this)";
const FOLLOW_LOWERED_DEADLINE =
  "said: Lowered ss-flush-deadline from 2000 to 20 ms, so that a new session waits at most " +
  "that long in the kernel before it reaches the peers; it goes back to 2000 at exit (give " +
  "--no-ss-flush-deadline to prevent this)";

/** A follower's options on instance `default`. */
function followOptions(ack: boolean, untuned: string[] = []) {
  return { instance: "default", ack, untuned };
}

Deno.test("joold follow --no-KEY flags are the daemon's modsocket keys, and say false to them", () => {
  for (const flag of TUNING_OPT_OUT_FLAGS) {
    const key = optOutKey(flag);
    assert.ok(MODSOCKET_KEYS.includes(key), `${flag}: no modsocket key '${key}'`);
    assert.equal(optOutFlag(key), `--${flag}`);
  }
  assert.deepEqual(followTuningConfig(followOptions(true)), {
    ...defaultModsocketConfig().config,
    file: "joold follow's command line",
  });
  const kept = followTuningConfig(followOptions(true, ["ss capacity", "ss flush asap"]));
  assert.equal(kept.ssCapacity, null);
  assert.equal(kept.ssFlushAsap, false);
  assert.equal(kept.ssFlushDeadline, defaultModsocketConfig().config.ssFlushDeadline);
});

Deno.test("joold follow --ack raises the queue and lowers the deadline as the daemon does, says so, and puts them back", async () => {
  await withStateDirectory(async (directory) => {
    const { jool, link, logger, logs } = await syncHarness({ version: JOOL_4_1_15 });
    const store = new TuningStateFile(directory, "default", "net:[4026531840]");
    const said: string[] = [];
    const say = (line: string) => said.push(`said: ${line}`);
    const setup = await tuneForAck(followOptions(true), link, JOOL_4_1_15, logger, say, store);
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 16384);
    assert.equal(jool.globals.get(JOOLD_FLUSH_DEADLINE), 20);
    assert.deepEqual(said, [FOLLOW_RAISED_CAPACITY, FOLLOW_LOWERED_DEADLINE]);
    const recorded = JSON.parse(await Deno.readTextFile(store.path));
    assert.deepEqual(Object.keys(recorded.globals), ["ss-capacity", "ss-flush-deadline"]);
    setup!.restore();
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 512);
    assert.equal(jool.globals.get(JOOLD_FLUSH_DEADLINE), 2000);
    assert.deepEqual(said.slice(2), [
      "said: Put ss-capacity back to 512",
      "said: Put ss-flush-deadline back to 2000",
    ]);
    assert.deepEqual(logs, []);
    await assert.rejects(Deno.stat(store.path), Deno.errors.NotFound, "removed at a clean exit");
  });
});

Deno.test("joold follow --ack --no-ss-capacity leaves ss-capacity alone, and lowers the deadline", async () => {
  const { jool, link, logger } = await syncHarness({ version: JOOL_4_1_15 });
  const said: string[] = [];
  const options = followOptions(true, ["ss capacity"]);
  const setup = await tuneForAck(options, link, JOOL_4_1_15, logger, (line) => {
    said.push(`said: ${line}`);
  }, null);
  assert.equal(jool.globals.get(JOOLD_CAPACITY), 512);
  assert.equal(jool.globals.get(JOOLD_FLUSH_DEADLINE), 20);
  assert.deepEqual(said, [FOLLOW_LOWERED_DEADLINE]);
  setup!.restore();
  assert.equal(jool.globals.get(JOOLD_FLUSH_DEADLINE), 2000);
});

Deno.test("joold follow listening only touches nothing in the kernel: the daemon beside it owns the instance", async () => {
  await withStateDirectory(async (directory) => {
    const { jool, link, logger, logs } = await syncHarness({ version: JOOL_4_1_15 });
    const store = new TuningStateFile(directory, "default", "net:[4026531840]");
    const said: string[] = [];
    const setup = await tuneForAck(followOptions(false), link, JOOL_4_1_15, logger, (line) => {
      said.push(line);
    }, store);
    assert.equal(setup, null);
    assert.deepEqual(jool.commands(), [], "no request at all");
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 512);
    assert.deepEqual([said, logs], [[], []]);
    await assert.rejects(Deno.stat(store.path), Deno.errors.NotFound, "no state file");
  });
});

Deno.test("joold follow --ack: a value it cannot put back is one warning line naming who will", async () => {
  await withStateDirectory(async (directory) => {
    const { jool, link, logger, logs } = await syncHarness({ version: JOOL_4_1_15 });
    const store = new TuningStateFile(directory, "default", "net:[4026531840]");
    const failing = failingSetNow(link, "sendto: No buffer space available (ENOBUFS)");
    const options = followOptions(true, ["ss flush deadline"]);
    const setup = await tuneForAck(options, failing, JOOL_4_1_15, logger, () => {}, store);
    setup!.restore();
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 16384, "still raised");
    assert.deepEqual(logs, [
      "warning: Cannot put ss-capacity back to 512: sendto: No buffer space available " +
      `(ENOBUFS); the next joold start puts it back (${store.path} keeps it)`,
    ]);
    // Kept for the next start.
    const recorded = JSON.parse(await Deno.readTextFile(store.path));
    assert.deepEqual(recorded.globals["ss-capacity"], {
      type: JOOLD_CAPACITY,
      original: 512,
      raised: 16384,
    });
  });
});

Deno.test("joold follow --ack killed by SIGKILL: the next daemon's start and stop put the operator's values back", async () => {
  await withStateDirectory(async (directory) => {
    const { jool, link, logger, logs } = await syncHarness({ version: JOOL_4_1_15 });
    jool.globals.set(JOOLD_CAPACITY, 1000); // the operator's, not Jool's default
    const store = new TuningStateFile(directory, "default", "net:[4026531840]");
    await tuneForAck(followOptions(true), link, JOOL_4_1_15, logger, () => {}, store);
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 16384);
    // SIGKILL: no restore(). The daemon starts with its defaults, on the same state directory.
    const modsocket = { ...defaultModsocketConfig().config, file: "/etc/joold/modsocket.json" };
    const daemon = new InstanceSetup(link, modsocket, logger, store);
    await daemon.tune(JOOL_4_1_15);
    assert.deepEqual(logs, [
      "info: ss-capacity is 16384, set by a joold that did not stop cleanly; the operator's " +
      `1000 from ${store.path} goes back at exit`,
      "info: ss-flush-deadline is 20, set by a joold that did not stop cleanly; the " +
      `operator's 2000 from ${store.path} goes back at exit`,
    ]);
    daemon.restore();
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 1000, "the operator's value is back");
    assert.equal(jool.globals.get(JOOLD_FLUSH_DEADLINE), 2000);
    await assert.rejects(Deno.stat(store.path), Deno.errors.NotFound);
  });
});

Deno.test("joold follow --ack nudges the kernel a deadline after its last batch, where the daemon would", () => {
  const clock = new ManualClock();
  const nudges: number[] = [];
  const nudge = () => nudges.push(clock.monotonic());
  const nudger = ackFlushNudge(followOptions(true), JOOL_4_1_15, clock, nudge);
  nudger!.batchArrived();
  clock.advance(49);
  assert.deepEqual(nudges, []);
  clock.advance(1);
  assert.deepEqual(nudges, [50], "ss-flush-deadline (20 ms) and the daemon's margin");
  nudger!.stop();
  const none: [string, ReturnType<typeof followOptions>, number][] = [
    ["listening only", followOptions(false), JOOL_4_1_15],
    ["--no-ss-flush-deadline", followOptions(true, ["ss flush deadline"]), JOOL_4_1_15],
    ["Jool 4.1.12 (ss-flush-asap)", followOptions(true), joolVersion(4, 1, 12)],
  ];
  for (const [name, options, version] of none) {
    assert.equal(ackFlushNudge(options, version, clock, nudge), null, name);
  }
});
