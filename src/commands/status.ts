/**
 * `joold status`: is joold running in this network namespace, and is this
 * node in sync with its peers? One shot, for people (text), scripts
 * (`--json`) and keepalived's `vrrp_script` (`-q`, the exit status alone).
 *
 * It reads the status files the daemons publish in the state directory
 * (src/daemon/sync_state.ts): those of this network namespace, or the one
 * of `--instance`. A daemon is running if its process exists and its
 * heartbeat is fresh on CLOCK_MONOTONIC (a stuck event loop goes stale).
 * Several daemons: the worst verdict decides the exit status.
 *
 * @module
 */

import type { Libc } from "../../ffi/libc.ts";
import { monotonicMicroseconds, processExists } from "../../ffi/process.ts";
import { readSystemLink } from "../../ffi/system_files.ts";
import { CommandLineError, instanceFlag, parseCommandLine } from "../command_line.ts";
import {
  type DaemonStatus,
  decodeDaemonStatus,
  isStatusFileOf,
  STALE_AFTER_MS,
  statusFileName,
  type SyncStateName,
} from "../daemon/sync_state.ts";
import { DEFAULT_STATE_DIRECTORY } from "../daemon/tuning_state.ts";
import { errorText } from "../error_text.ts";
import {
  EXIT_SUCCESS,
  EXIT_USAGE,
  STATUS_NOT_IN_SYNC,
  STATUS_NOT_RUNNING,
  STATUS_UNKNOWN,
} from "../exit_status.ts";
import { usingLibc } from "./system.ts";

/** `joold status --help`. */
export const STATUS_USAGE = `Usage: joold status [OPTIONS]

Says whether joold runs in this network namespace and whether this node is
in sync with its peers (its start-up resync is done and it knows of no gap),
since when, and which peers it hears. For people, scripts (--json) and
keepalived's vrrp_script (-q: the exit status alone).

  --state-directory DIR  where the daemon publishes its state, as given to
                         the daemon (default /run/joold)
  -i, --instance NAME    only the daemon of Jool instance NAME (default:
                         every daemon of this network namespace)
  --json                 one JSON object instead of text
  -q, --quiet            print nothing
  -h, --help             show this help and exit

Exit status:
  0  running and in sync, or alone (no peer answered its resync: there was
     nothing to wait for)
  1  running, not in sync yet (starting, resyncing, or known gaps)
  2  bad command line
  3  not running (no status file, its process gone, or its heartbeat stale)
  4  unknown (a status file that cannot be read)
`;

/** What `joold status` was asked. */
export interface StatusOptions {
  stateDirectory: string;
  /** Only this instance's daemon, or null for every one of the namespace. */
  instance: string | null;
  json: boolean;
  quiet: boolean;
  help: boolean;
}

/**
 * Reads `joold status`'s command line (what follows `status`).
 *
 * @throws {CommandLineError} For an unknown option, a bad instance name or an operand.
 */
export function parseStatusArguments(args: readonly string[]): StatusOptions {
  const { values, positionals } = parseCommandLine(args, {
    "state-directory": { type: "string" },
    instance: { type: "string", short: "i" },
    json: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    help: { type: "boolean", short: "h" },
  });
  if (positionals.length > 0) {
    throw new CommandLineError(`unexpected argument: ${positionals.join(" ")}`);
  }
  return {
    stateDirectory: values["state-directory"] ?? DEFAULT_STATE_DIRECTORY,
    instance: values.instance === undefined ? null : instanceFlag(values.instance),
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    help: values.help ?? false,
  };
}

/** One status file as found: its text, or why it could not be read. */
export interface FoundFile {
  path: string;
  text: string | null;
  /** Why it could not be read (when `text` is null). */
  error: string | null;
}

/** Everything the verdict depends on, read from the machine (or made up by a test). */
export interface StatusSources {
  stateDirectory: string;
  /** The status files of this namespace (or of the instance asked for). */
  files: FoundFile[];
  /** Why the directory could not be listed, or null. */
  directoryError: string | null;
  /** Status files of daemons in other network namespaces (not looked at). */
  otherNamespaces: number;
  processExists(pid: number): boolean;
  /** CLOCK_MONOTONIC now, in milliseconds. */
  monotonicMs: number;
  /** The wall clock now (for "N s ago"). */
  nowMs: number;
}

/** The verdicts, best first; the worst of several daemons decides. */
const VERDICTS = ["in-sync", "not-in-sync", "unknown", "not-running"] as const;

/** One of {@link VERDICTS}. */
export type Verdict = typeof VERDICTS[number];

const EXIT_STATUS_OF: Readonly<Record<Verdict, number>> = {
  "in-sync": EXIT_SUCCESS,
  "not-in-sync": STATUS_NOT_IN_SYNC,
  unknown: STATUS_UNKNOWN,
  "not-running": STATUS_NOT_RUNNING,
};

/** What `joold status` says of one daemon. */
export interface DaemonReport {
  path: string;
  verdict: Verdict;
  /** Why the verdict, for people. */
  why: string;
  /** The file's content, or null if it could not be read. */
  status: DaemonStatus | null;
  /** Whether its process exists (null: unknown). */
  processAlive: boolean | null;
  /** How old its heartbeat is (null: unknown). */
  heartbeatAgeMs: number | null;
}

/** What `joold status` says. */
export interface StatusReport {
  verdict: Verdict;
  exitStatus: number;
  stateDirectory: string;
  /** Why, when there is no daemon to report on. */
  why: string | null;
  daemons: DaemonReport[];
}

/** The verdict on one file. */
export function assessDaemon(file: FoundFile, sources: StatusSources): DaemonReport {
  const report = (verdict: Verdict, why: string, rest: Partial<DaemonReport> = {}) => ({
    path: file.path,
    verdict,
    why,
    status: null,
    processAlive: null,
    heartbeatAgeMs: null,
    ...rest,
  });
  if (file.text === null) return report("unknown", `cannot read ${file.path}: ${file.error}`);
  const status = decodeDaemonStatus(file.text);
  if (typeof status === "string") return report("unknown", `${file.path}: ${status}`);
  const heartbeatAgeMs = sources.monotonicMs - status.heartbeatMonotonicMs;
  const processAlive = sources.processExists(status.pid);
  const facts = { status, processAlive, heartbeatAgeMs };
  if (!processAlive) {
    return report("not-running", `process ${status.pid} is gone (it did not stop cleanly)`, facts);
  }
  if (heartbeatAgeMs > STALE_AFTER_MS) {
    return report(
      "not-running",
      `its heartbeat is ${formatAge(heartbeatAgeMs)} old: process ${status.pid} is stuck, ` +
        "or is not joold any more",
      facts,
    );
  }
  if (status.knownGaps > 0) {
    return report("not-in-sync", `${status.knownGaps} known gaps in its peers' sessions`, facts);
  }
  const inSync: readonly SyncStateName[] = ["in-sync", "alone"];
  return report(inSync.includes(status.state) ? "in-sync" : "not-in-sync", status.reason, facts);
}

/** The verdict on every daemon found, and the exit status. */
export function assessStatus(sources: StatusSources): StatusReport {
  const daemons = sources.files.map((file) => assessDaemon(file, sources));
  let verdict: Verdict;
  let why: string | null = null;
  if (sources.directoryError !== null) {
    verdict = "unknown";
    why = `cannot read ${sources.stateDirectory}: ${sources.directoryError}`;
  } else if (daemons.length === 0) {
    verdict = "not-running";
    why = `no status file of this network namespace in ${sources.stateDirectory}`;
    if (sources.otherNamespaces > 0) {
      why += ` (${sources.otherNamespaces} of other namespaces: run joold status in the ` +
        "daemon's, e.g. with ip netns exec)";
    }
  } else {
    verdict = daemons.reduce<Verdict>(
      (worst, daemon) =>
        VERDICTS.indexOf(daemon.verdict) > VERDICTS.indexOf(worst) ? daemon.verdict : worst,
      "in-sync",
    );
  }
  return {
    verdict,
    exitStatus: EXIT_STATUS_OF[verdict],
    stateDirectory: sources.stateDirectory,
    why,
    daemons,
  };
}

/** `2026-12-07 14:00:02 UTC`. */
function formatTime(iso: string): string {
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** `5 s`, `3 min`, `2 h`, `4 d`. */
function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** `2026-12-07 14:00:02 UTC (5 s ago)`. */
function when(iso: string, nowMs: number): string {
  return `${formatTime(iso)} (${formatAge(nowMs - Date.parse(iso))} ago)`;
}

const STATE_WORDS: Readonly<Record<SyncStateName, string>> = {
  starting: "starting",
  resyncing: "resyncing",
  "in-sync": "in sync",
  alone: "alone",
};

/** The report for people: a paragraph per daemon. */
export function formatStatusReport(report: StatusReport, nowMs: number): string {
  if (report.daemons.length === 0) {
    return `joold is ${report.verdict === "unknown" ? "in an unknown state" : "not running"}: ` +
      `${report.why}`;
  }
  return report.daemons.map((daemon) => formatDaemon(daemon, nowMs)).join("\n\n");
}

function formatDaemon(daemon: DaemonReport, nowMs: number): string {
  const status = daemon.status;
  if (status === null) return `joold's state is unknown: ${daemon.why}`;
  const who = `(instance '${status.instance}', pid ${status.pid})`;
  if (daemon.verdict === "not-running") {
    return `joold ${who} is not running: ${daemon.why}; its last heartbeat was at ` +
      when(status.heartbeat, nowMs);
  }
  const verdict = daemon.verdict === "in-sync" ? "" : "not in sync: ";
  const lines = [
    `joold ${who} is running, ${verdict}${STATE_WORDS[status.state]} since ` +
    `${when(status.since, nowMs)}: ${daemon.why}`,
  ];
  if (status.peers.length === 0) lines.push("  no peer heard yet");
  for (const peer of status.peers) {
    const heard = peer.lastHeard === null
      ? "never heard"
      : `last heard ${when(peer.lastHeard, nowMs)}`;
    lines.push(
      `  peer ${peer.address}: ${heard}${peer.answeredResync ? ", answered our resync" : ""}`,
    );
  }
  return lines.join("\n");
}

/** The report for scripts. */
export function statusReportJson(report: StatusReport): string {
  return JSON.stringify(
    {
      verdict: report.verdict,
      exitStatus: report.exitStatus,
      stateDirectory: report.stateDirectory,
      ...(report.why === null ? {} : { why: report.why }),
      daemons: report.daemons.map((daemon) => ({
        file: daemon.path,
        verdict: daemon.verdict,
        why: daemon.why,
        processAlive: daemon.processAlive,
        heartbeatAgeMs: daemon.heartbeatAgeMs === null ? null : Math.round(daemon.heartbeatAgeMs),
        ...(daemon.status ?? {}),
      })),
    },
    null,
    2,
  );
}

/** Reads the state directory and the machine for {@link assessStatus}. */
export function readStatusSources(libc: Libc, options: StatusOptions): StatusSources {
  const directory = options.stateDirectory;
  let netns: string | null = null;
  try {
    netns = readSystemLink(libc, "/proc/self/ns/net");
  } catch {
    // The daemon names its file `.net-unknown` then too.
  }
  const names: string[] = [];
  let directoryError: string | null = null;
  let otherNamespaces = 0;
  if (options.instance !== null) {
    names.push(statusFileName(options.instance, netns));
  } else {
    try {
      for (const entry of Deno.readDirSync(directory)) {
        if (!entry.isFile || !isStatusFileOf(entry.name, null, true)) continue;
        if (isStatusFileOf(entry.name, netns)) names.push(entry.name);
        else otherNamespaces++;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) directoryError = errorText(error);
    }
  }
  const files: FoundFile[] = [];
  for (const name of names.sort()) {
    const path = `${directory}/${name}`;
    try {
      files.push({ path, text: Deno.readTextFileSync(path), error: null });
    } catch (error) {
      // Absent (asked by instance, or removed meanwhile by a stopping daemon): no daemon.
      if (error instanceof Deno.errors.NotFound) continue;
      files.push({ path, text: null, error: errorText(error) });
    }
  }
  return {
    stateDirectory: directory,
    files,
    directoryError,
    otherNamespaces,
    processExists: (pid) => {
      try {
        return processExists(libc, pid);
      } catch {
        // Cannot tell: the heartbeat alone decides.
        return true;
      }
    },
    monotonicMs: Number(monotonicMicroseconds(libc)) / 1000,
    nowMs: Date.now(),
  };
}

/**
 * Runs `joold status` (`args`: what follows `status`); `print` takes
 * stdout's text. Returns the exit status.
 */
export async function runStatusTool(
  args: readonly string[],
  print: (text: string) => void = (text) => console.log(text),
): Promise<number> {
  let options: StatusOptions;
  try {
    options = parseStatusArguments(args);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    console.error(`joold status: ${error.message}`);
    return EXIT_USAGE;
  }
  if (options.help) {
    print(STATUS_USAGE);
    return EXIT_SUCCESS;
  }
  let report: StatusReport;
  try {
    report = await usingLibc((libc) => assessStatus(readStatusSources(libc, options)));
  } catch (error) {
    console.error(`joold status: ${errorText(error)}`);
    return STATUS_UNKNOWN;
  }
  if (options.json) print(statusReportJson(report));
  else if (!options.quiet) print(formatStatusReport(report, Date.now()));
  return report.exitStatus;
}
