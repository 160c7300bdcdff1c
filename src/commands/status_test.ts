/**
 * `joold status` against fake daemon states: exit statuses, text and JSON,
 * table-driven; the command line; and a run on a real directory.
 */

import assert from "node:assert/strict";
import { type DaemonStatus, encodeDaemonStatus, statusFileName } from "../daemon/sync_state.ts";
import { readSystemLink } from "../../ffi/system_files.ts";
import { Libc } from "../../ffi/libc.ts";
import { CommandLineError } from "../command_line.ts";
import {
  assessStatus,
  formatStatusReport,
  parseStatusArguments,
  runStatusTool,
  statusReportJson,
  type StatusSources,
} from "./status.ts";

const NOW = Date.UTC(2026, 11, 7, 15, 0, 0);
/** CLOCK_MONOTONIC at NOW, in ms. */
const MONO = 1_000_000;

/** A daemon's file, in sync with one peer, its heartbeat 1 s old. */
function daemon(change: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    version: 1,
    pid: 4242,
    instance: "default",
    state: "in-sync",
    since: "2026-12-07T14:55:00.000Z",
    reason: "192.0.2.2:6465 sent its sessions",
    knownGaps: 0,
    peers: [
      { address: "192.0.2.2:6464", lastHeard: "2026-12-07T14:59:57.000Z", answeredResync: true },
    ],
    heartbeat: "2026-12-07T14:59:59.000Z",
    heartbeatMonotonicMs: MONO - 1000,
    ...change,
  };
}

function sources(
  files: (DaemonStatus | string | null)[],
  alive: number[] = [4242],
  directoryError: string | null = null,
): StatusSources {
  return {
    stateDirectory: "/run/joold",
    files: files.map((file, index) => ({
      path: `/run/joold/d${index}.net-1.status.json`,
      text: file === null ? null : typeof file === "string" ? file : encodeDaemonStatus(file),
      error: file === null ? "Permission denied (os error 13)" : null,
    })),
    directoryError,
    otherNamespaces: 0,
    processExists: (pid) => alive.includes(pid),
    monotonicMs: MONO,
    nowMs: NOW,
  };
}

Deno.test("joold status: exit statuses and text against fake daemon states", () => {
  const cases: [string, StatusSources, number, string][] = [
    [
      "running and in sync",
      sources([daemon()]),
      0,
      "joold (instance 'default', pid 4242) is running, in sync since 2026-12-07 14:55:00 UTC " +
      "(5 min ago): 192.0.2.2:6465 sent its sessions\n" +
      "  peer 192.0.2.2:6464: last heard 2026-12-07 14:59:57 UTC (3 s ago), answered our resync",
    ],
    [
      "alone: in sync (a lone survivor keeps the address)",
      sources([
        daemon({ state: "alone", reason: "no peer answered 3 resync requests", peers: [] }),
      ]),
      0,
      "joold (instance 'default', pid 4242) is running, alone since 2026-12-07 14:55:00 UTC " +
      "(5 min ago): no peer answered 3 resync requests\n  no peer heard yet",
    ],
    [
      "starting",
      sources([daemon({ state: "starting", reason: "opening the kernel link and the sockets" })]),
      1,
      "joold (instance 'default', pid 4242) is running, not in sync: starting since " +
      "2026-12-07 14:55:00 UTC (5 min ago): opening the kernel link and the sockets\n" +
      "  peer 192.0.2.2:6464: last heard 2026-12-07 14:59:57 UTC (3 s ago), answered our resync",
    ],
    [
      "resyncing",
      sources([daemon({ state: "resyncing", reason: "asking peers for their sessions" })]),
      1,
      "joold (instance 'default', pid 4242) is running, not in sync: resyncing since " +
      "2026-12-07 14:55:00 UTC (5 min ago): asking peers for their sessions\n" +
      "  peer 192.0.2.2:6464: last heard 2026-12-07 14:59:57 UTC (3 s ago), answered our resync",
    ],
    [
      "in sync but with known gaps",
      sources([daemon({ knownGaps: 3 })]),
      1,
      "joold (instance 'default', pid 4242) is running, not in sync: in sync since " +
      "2026-12-07 14:55:00 UTC (5 min ago): 3 known gaps in its peers' sessions\n" +
      "  peer 192.0.2.2:6464: last heard 2026-12-07 14:59:57 UTC (3 s ago), answered our resync",
    ],
    [
      "no status file",
      sources([]),
      3,
      "joold is not running: no status file of this network namespace in /run/joold",
    ],
    [
      "no status file here, one in another namespace",
      { ...sources([]), otherNamespaces: 1 },
      3,
      "joold is not running: no status file of this network namespace in /run/joold (1 of other " +
      "namespaces: run joold status in the daemon's, e.g. with ip netns exec)",
    ],
    [
      "its process gone (killed, crashed)",
      sources([daemon()], []),
      3,
      "joold (instance 'default', pid 4242) is not running: process 4242 is gone (it did not " +
      "stop cleanly); its last heartbeat was at 2026-12-07 14:59:59 UTC (1 s ago)",
    ],
    [
      "heartbeat stale: a stuck loop, or the pid reused",
      sources([daemon({ heartbeatMonotonicMs: MONO - 60_000, heartbeat: "2026-12-07T14:59:00Z" })]),
      3,
      "joold (instance 'default', pid 4242) is not running: its heartbeat is 60 s old: process " +
      "4242 is stuck, or is not joold any more; its last heartbeat was at 2026-12-07 14:59:00 UTC " +
      "(60 s ago)",
    ],
    [
      "a heartbeat 10 s old is still fresh",
      sources([daemon({ heartbeatMonotonicMs: MONO - 10_000 })]),
      0,
      "joold (instance 'default', pid 4242) is running, in sync since 2026-12-07 14:55:00 UTC " +
      "(5 min ago): 192.0.2.2:6465 sent its sessions\n" +
      "  peer 192.0.2.2:6464: last heard 2026-12-07 14:59:57 UTC (3 s ago), answered our resync",
    ],
    [
      "a file that is not a status file",
      sources(["{}"]),
      4,
      'joold\'s state is unknown: /run/joold/d0.net-1.status.json: "version" is undefined, not 1',
    ],
    [
      "a file it may not read",
      sources([null]),
      4,
      "joold's state is unknown: cannot read /run/joold/d0.net-1.status.json: Permission denied " +
      "(os error 13)",
    ],
    [
      "a directory it may not read",
      sources([], [], "Permission denied (os error 13)"),
      4,
      "joold is in an unknown state: cannot read /run/joold: Permission denied (os error 13)",
    ],
  ];
  for (const [name, input, exitStatus, text] of cases) {
    const report = assessStatus(input);
    assert.equal(report.exitStatus, exitStatus, name);
    assert.equal(formatStatusReport(report, NOW), text, name);
  }
});

Deno.test("joold status: several daemons, the worst decides", () => {
  const other = daemon({ pid: 5000, instance: "second", state: "resyncing" });
  const cases: [string, StatusSources, number][] = [
    ["both in sync", sources([daemon(), daemon({ pid: 5000 })], [4242, 5000]), 0],
    ["one resyncing", sources([daemon(), other], [4242, 5000]), 1],
    ["one gone", sources([daemon(), other], [4242]), 3],
    ["one unreadable, one resyncing", sources([null, other], [5000]), 4],
    ["one unreadable, one gone", sources([null, other], []), 3],
  ];
  for (const [name, input, exitStatus] of cases) {
    assert.equal(assessStatus(input).exitStatus, exitStatus, name);
  }
  const text = formatStatusReport(assessStatus(sources([daemon(), other], [4242, 5000])), NOW);
  assert.equal(text.split("\n\n").length, 2, "a paragraph each");
});

Deno.test("joold status --json: the verdict, the exit status and each daemon's file", () => {
  const parsed = JSON.parse(statusReportJson(assessStatus(sources([daemon()]))));
  assert.deepEqual(parsed, {
    verdict: "in-sync",
    exitStatus: 0,
    stateDirectory: "/run/joold",
    daemons: [{
      file: "/run/joold/d0.net-1.status.json",
      verdict: "in-sync",
      why: "192.0.2.2:6465 sent its sessions",
      processAlive: true,
      heartbeatAgeMs: 1000,
      ...daemon(),
    }],
  });
  const none = JSON.parse(statusReportJson(assessStatus(sources([]))));
  assert.deepEqual(none, {
    verdict: "not-running",
    exitStatus: 3,
    stateDirectory: "/run/joold",
    why: "no status file of this network namespace in /run/joold",
    daemons: [],
  });
});

Deno.test("joold status: its command line", () => {
  assert.deepEqual(parseStatusArguments([]), {
    stateDirectory: "/run/joold",
    instance: null,
    json: false,
    quiet: false,
    help: false,
  });
  assert.deepEqual(
    parseStatusArguments(["--state-directory", "/run/joold/a", "-i", "a", "--json", "-q"]),
    { stateDirectory: "/run/joold/a", instance: "a", json: true, quiet: true, help: false },
  );
  const bad: [string[], string][] = [
    [["--verbose"], "Unknown option '--verbose'"],
    [["extra"], "unexpected argument: extra"],
    [["--instance", "a-name-longer-than-fifteen"], "--instance: "],
    [["--state-directory"], "Option '--state-directory <value>' argument missing"],
  ];
  for (const [args, message] of bad) {
    assert.throws(
      () => parseStatusArguments(args),
      (error: Error) => error instanceof CommandLineError && error.message.startsWith(message),
      args.join(" "),
    );
  }
});

Deno.test("joold status on a real directory: ourselves in sync, -q silent, a bad option 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "joold-status-cmd-" });
  const libc = Libc.open();
  let netns: string;
  try {
    netns = readSystemLink(libc, "/proc/self/ns/net");
  } finally {
    libc.close();
  }
  const printed: string[] = [];
  const print = (text: string) => printed.push(text);
  try {
    assert.equal(await runStatusTool(["--state-directory", dir, "-q"], print), 3);
    assert.equal(await runStatusTool(["--state-directory", `${dir}/absent`], print), 3);
    // Our own process, with a heartbeat of now on CLOCK_MONOTONIC (/proc/uptime is close enough).
    const uptimeMs = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]) * 1000;
    const file = daemon({ pid: Deno.pid, heartbeatMonotonicMs: uptimeMs });
    Deno.writeTextFileSync(`${dir}/${statusFileName("default", netns)}`, encodeDaemonStatus(file));
    Deno.writeTextFileSync(`${dir}/${statusFileName("default", "net:[1]")}`, "another namespace's");
    assert.equal(await runStatusTool(["--state-directory", dir, "-q"], print), 0);
    assert.equal(await runStatusTool(["--state-directory", dir, "-i", "default", "-q"], print), 0);
    assert.equal(await runStatusTool(["--state-directory", dir, "-i", "other", "-q"], print), 3);
    assert.deepEqual(printed, [
      "joold is not running: no status file of this network namespace in " +
      `${dir}/absent`,
    ]);
    assert.equal(await runStatusTool(["--state-directory", dir, "--json"], print), 0);
    assert.equal(JSON.parse(printed.at(-1)!).daemons[0].pid, Deno.pid);
    assert.equal(await runStatusTool(["--bogus"], print), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
