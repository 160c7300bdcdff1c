/**
 * `joold [NETSOCKET] [MODSOCKET] [PORT]`: the Jool session-synchronisation
 * daemon, and its operator commands (`joold check`, `joold status`, ...).
 * This file only parses the command line and hands over.
 *
 * @module
 */

import { runDaemon } from "./src/commands/run.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "./src/exit_status.ts";
import { logLevelFlag, parseCommandLine } from "./src/command_line.ts";
import { runAdvertiseCommand } from "./src/commands/advertise.ts";
import { runCheckCommand } from "./src/commands/check.ts";
import { runFollowTool, runProxyTool } from "./src/commands/session_tools.ts";
import { runKeygenCommand } from "./src/commands/keygen.ts";
import { runStatusTool } from "./src/commands/status.ts";
import { LevelLogger, type LogLevel } from "./src/log.ts";
import { errorText } from "./src/error_text.ts";
import { openLogSink } from "./src/syslog_sink.ts";
import { REFERENCE_VERSION, VERSION } from "./src/version.ts";

const USAGE = `Usage: joold [OPTIONS] [NETSOCKET] [MODSOCKET] [PORT]
       joold check [OPTIONS] [NETSOCKET] [MODSOCKET]
       joold advertise [OPTIONS] [MODSOCKET]
       joold proxy [OPTIONS] MCAST_ADDRESS
       joold follow [OPTIONS] [MCAST_ADDRESS]
       joold keygen [--group GROUP] FILE
       joold status [OPTIONS]

Synchronises the sessions of a Jool NAT64 instance with its peers over UDP
multicast (wire-compatible with Jool ${REFERENCE_VERSION}'s joold). Peers may run
another Jool 4.1 version: their sessions are converted to the local kernel's
encoding.

Arguments:
  NETSOCKET  network socket configuration file (default: netsocket.json)
  MODSOCKET  kernel socket configuration file (default: modsocket.json;
             if that default file is absent, instance "default")
  PORT       if given, UDP port (number or service name) of the stats server

Commands:
  check      check both files, the Jool module, the instance, session sync
             and the multicast sockets, one verdict per line; exit status 0
             if nothing failed, 1 otherwise
  advertise  make the instance multicast its whole session table to the
             joold group, for a running joold to send to its peers
  proxy      the daemon, on \`jool session proxy\`'s command line (Jool
             4.1.14+) instead of the files; see joold proxy --help
  follow     print every session as it is synced (kernel and/or group),
             text, --json or --csv; see joold follow --help
  keygen     write a new key file for "auth key file" (an existing FILE
             is never replaced): group GROUP (default joold, the units'
             group) and mode 0640, or mode 0600 if there is no group joold
  status     is joold running here, and is this node in sync with its
             peers? exit status 0 if so (for keepalived's vrrp_script);
             see joold status --help

Options:
  --log-level LEVEL  error, warning, info or debug (default: info for the
                     daemon, warning for the commands)
  --syslog           log to syslog (facility daemon, ident joold) instead of
                     stderr
  --metrics-port N   the daemon also serves Prometheus metrics over HTTP on
                     TCP port N (GET /metrics), IPv4 and IPv6
  --stats-address A  the stats server (PORT) serves only address A (IPv4 or
                     IPv6) instead of every address
  --metrics-address A
                     the metrics port listens on address A only (IPv4 or
                     IPv6) instead of every address
  --state-directory DIR
                     where the values of the globals joold raises are kept,
                     to put back after a crash (default /run/joold)
  --group GROUP      keygen only: the group that may read the key file
  -h, --help         show this help and exit
  -V, --version      show the version and exit
`;

/** Operator commands, given as the first argument, and how many arguments follow. */
const COMMANDS = { check: 2, advertise: 1, keygen: 1 } as const;

function usageError(message: string): number {
  console.error(`joold: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}

async function main(args: string[]): Promise<number> {
  // Jool's session tools have Jool's flags, not the daemon's.
  if (args[0] === "proxy") return await runProxyTool(args.slice(1));
  if (args[0] === "follow") return await runFollowTool(args.slice(1));
  if (args[0] === "status") return await runStatusTool(args.slice(1));
  let parsed;
  try {
    parsed = parseCommandLine(args, {
      "log-level": { type: "string" },
      syslog: { type: "boolean" },
      "metrics-port": { type: "string" },
      "stats-address": { type: "string" },
      "metrics-address": { type: "string" },
      "state-directory": { type: "string" },
      group: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    });
  } catch (error) {
    return usageError(errorText(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(
      `joold ${VERSION} (compatible with Jool ${REFERENCE_VERSION} joold; Deno ${Deno.version.deno})`,
    );
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, positionals[0] ?? "")
    ? positionals[0] as keyof typeof COMMANDS
    : null;
  const operands = command === null ? positionals : positionals.slice(1);
  const maxOperands = command === null ? 3 : COMMANDS[command];
  let level: LogLevel;
  try {
    level = logLevelFlag(values["log-level"] ?? (command === null ? "info" : "warning"));
  } catch (error) {
    console.error(`joold: ${errorText(error)}`);
    return EXIT_USAGE;
  }
  if (values.group !== undefined && command !== "keygen") {
    return usageError("--group is an option of joold keygen only");
  }
  if (operands.length > maxOperands) {
    return usageError(`too many arguments: ${operands.slice(maxOperands).join(" ")}`);
  }

  // The daemon's stderr does not block (a command's output must not be cut short by a slow reader).
  const log = openLogSink(values.syslog ?? false, command === null);
  if (log === null) return EXIT_FAILURE;
  const logger = new LevelLogger(level, log.sink);
  const print = command === null ? printFromDaemon : (text: string) => console.log(text);
  const netsocketFile = operands[0] ?? "netsocket.json";
  const modsocketFile = (command === "advertise" ? operands[0] : operands[1]) ?? "modsocket.json";
  const modsocketDefaulted = (command === "advertise" ? operands[0] : operands[1]) === undefined;
  try {
    if (command === "check") {
      return await runCheckCommand(
        { netsocketFile, modsocketFile, modsocketDefaulted },
        logger,
        print,
      );
    }
    if (command === "keygen") {
      if (operands[0] === undefined) return usageError("keygen: FILE is required");
      return runKeygenCommand(operands[0], logger, print, 1, values.group ?? null);
    }
    if (command === "advertise") {
      return await runAdvertiseCommand({ modsocketFile, modsocketDefaulted }, logger, print);
    }
    return await runDaemon(
      {
        netsocketFile,
        modsocketFile,
        statsPort: operands[2] ?? null,
        metricsPort: values["metrics-port"] ?? null,
        statsAddress: values["stats-address"] ?? null,
        metricsAddress: values["metrics-address"] ?? null,
        stateDirectory: values["state-directory"] ?? null,
        modsocketDefaulted,
      },
      logger,
      print,
    );
  } catch (error) {
    logger.error(
      `Unexpected failure: ${error instanceof Error ? error.stack ?? error.message : error}`,
    );
    return EXIT_FAILURE;
  } finally {
    log.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

/**
 * The daemon's stdout (its configuration at start): it may share the open
 * file description that openStderrSink made non-blocking (journald's
 * socket), so a full one costs the text, not the daemon.
 */
function printFromDaemon(text: string): void {
  try {
    console.log(text);
  } catch {
    // Would block: journald is behind; the log says the same in a moment.
  }
}
