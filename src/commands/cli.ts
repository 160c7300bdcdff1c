/**
 * joold's command line: the daemon and one table of commands, each with
 * its own options and `--help`. Every bad argument is one line naming it
 * (`joold CMD: ...`) and exit status 2. Jool's forms are accepted too:
 * `-i NAME` or `-f FILE` before the command, and `session proxy|follow|
 * advertise` (`joold -i nat64a session proxy -i eth0 ff08::db8:64:64`
 * means what the same `jool` line means).
 *
 * @module
 */

import { runDaemon } from "./run.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../exit_status.ts";
import {
  checkPortFlag,
  CommandLineError,
  flagValue,
  instanceFlag,
  logLevelFlag,
  type OptionSpecs,
  parseCommandLine,
} from "../command_line.ts";
import { runAdvertiseCommand } from "./advertise.ts";
import { runCheckCommand } from "./check.ts";
import { FOLLOW_USAGE, PROXY_USAGE, runFollowTool, runProxyTool } from "./session_tools.ts";
import { runKeygenCommand } from "./keygen.ts";
import { runStatusTool, STATUS_USAGE } from "./status.ts";
import { LevelLogger, type LogLevel } from "../log.ts";
import { openLogSink } from "../syslog_sink.ts";
import { Libc } from "../../ffi/libc.ts";
import { REFERENCE_VERSION, VERSION } from "../version.ts";
import { ipProblem, parseIp } from "../net/ip.ts";
import {
  type InstanceSource,
  matchKeyword,
  parseJoolPrefix,
  resolveInstance,
} from "./jool_prefix.ts";

/** `joold --help`. */
export const DAEMON_USAGE = `Usage: joold [OPTIONS] [NETSOCKET] [MODSOCKET] [PORT]
       joold check [OPTIONS] [NETSOCKET] [MODSOCKET]
       joold advertise [OPTIONS] [MODSOCKET]
       joold [-i NAME | -f FILE] proxy [OPTIONS] MCAST_ADDRESS
       joold [-i NAME | -f FILE] follow [OPTIONS] [MCAST_ADDRESS]
       joold keygen [--group GROUP] [OPTIONS] FILE
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

Commands (each has its own --help):
  check      check both files, the Jool module, the instance, session sync
             and the multicast sockets, one verdict per line
  advertise  make the instance multicast its whole session table to the
             joold group, for a running joold to send to its peers
  proxy      the daemon, on \`jool session proxy\`'s command line (see
             joold proxy --help)
  follow     print every session as it is synced (see joold follow --help)
  keygen     write a new key file for "auth key file" (group GROUP, default
             joold, the units' group, and mode 0640; 0600 without it)
  status     is joold running here, and is this node in sync with its
             peers? exit status 0 if so (for keepalived's vrrp_script)
As in jool, -i/--instance NAME or -f/--file FILE (Jool's instance file) before
advertise, proxy or follow names the instance, and \`session proxy\`,
\`session follow\` and \`session advertise\` are accepted for them.

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
  -h, --help         show this help and exit
  -V, --version      show the version and exit
`;

/** `joold check --help`. */
export const CHECK_USAGE = `Usage: joold check [OPTIONS] [NETSOCKET] [MODSOCKET]

Checks both files, the Jool module, the instance, session sync and the
multicast sockets, one verdict per line (ok, warn, FAIL, skip); exit status
0 if nothing failed, 1 otherwise. Arguments as the daemon's.

      --log-level LEVEL    error, warning (default), info or debug
      --syslog             log to syslog instead of stderr
  -h, --help               show this help and exit
`;

/** `joold advertise --help`. */
export const ADVERTISE_USAGE = `Usage: joold advertise [OPTIONS] [MODSOCKET]
       joold [-i NAME | -f FILE] advertise [OPTIONS]

Makes the instance multicast its whole session table to the joold group
(JOOLD_ADVERTISE, as \`jool session advertise\`), for a running joold to send
to its peers. The instance is MODSOCKET's, or the one -i or -f names.

  -i, --instance NAME      the Jool instance
  -f, --file FILE          Jool's instance file (its "instance" member)
      --log-level LEVEL    error, warning (default), info or debug
      --syslog             log to syslog instead of stderr
  -h, --help               show this help and exit
`;

/** `joold keygen --help`. */
export const KEYGEN_USAGE = `Usage: joold keygen [OPTIONS] FILE

Writes a new key file for "auth key file" (an existing FILE is never
replaced): group GROUP and mode 0640, or mode 0600 if there is no group
joold and no --group.

      --group GROUP        the group that may read the key file (default
                           joold, the units' group)
      --log-level LEVEL    error, warning (default), info or debug
      --syslog             log to syslog instead of stderr
  -h, --help               show this help and exit
`;

/** What every command is given. */
export interface CommandInput {
  /** The words after the command. */
  args: string[];
  /** `-i`/`-f` given before the command, or null. */
  instance: InstanceSource | null;
  /** Reports a bad argument: one line, `joold CMD: line`. */
  usage: (line: string) => void;
}

/** One command of the table. */
export interface Command {
  /** Its `--help`. */
  usage: string;
  /** Whether `-i`/`-f` before it name its instance (else they are refused). */
  takesInstance: boolean;
  run(input: CommandInput): Promise<number>;
}

const OPERATOR_OPTIONS = {
  "log-level": { type: "string" },
  syslog: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const KEYGEN_OPTIONS = {
  ...OPERATOR_OPTIONS,
  group: { type: "string" },
} as const;

const ADVERTISE_OPTIONS = {
  ...OPERATOR_OPTIONS,
  instance: { type: "string", short: "i" },
  file: { type: "string", short: "f" },
} as const;

/** Options of one command, which the daemon names when it is given them. */
const COMMAND_ONLY_OPTIONS: Readonly<Record<string, string>> = { "--group": "keygen" };

/** The daemon's options. */
export const DAEMON_OPTIONS = {
  ...OPERATOR_OPTIONS,
  "metrics-port": { type: "string" },
  "stats-address": { type: "string" },
  "metrics-address": { type: "string" },
  "state-directory": { type: "string" },
  version: { type: "boolean", short: "V" },
} as const;

/** Every command, by name. */
export const COMMANDS: Record<string, Command> = {
  check: {
    usage: CHECK_USAGE,
    takesInstance: false,
    run: (input) =>
      runOperator(input, OPERATOR_OPTIONS, CHECK_USAGE, 2, async (_values, operands, logger) => {
        return await runCheckCommand(
          {
            netsocketFile: operands[0] ?? "netsocket.json",
            modsocketFile: operands[1] ?? "modsocket.json",
            modsocketDefaulted: operands[1] === undefined,
          },
          logger,
          print,
        );
      }),
  },
  advertise: {
    usage: ADVERTISE_USAGE,
    takesInstance: true,
    run: (input) =>
      runOperator(
        input,
        ADVERTISE_OPTIONS,
        ADVERTISE_USAGE,
        1,
        async (values, operands, logger) => {
          const given: InstanceSource | null = values.instance !== undefined
            ? { kind: "name", name: instanceFlag(values.instance) }
            : values.file !== undefined
            ? { kind: "file", path: values.file }
            : input.instance;
          if (given !== null && operands[0] !== undefined) {
            throw new CommandLineError(
              "the instance is MODSOCKET's or the one -i or -f names, not both",
            );
          }
          return await runAdvertiseCommand(
            {
              modsocketFile: operands[0] ?? "modsocket.json",
              modsocketDefaulted: operands[0] === undefined,
              instance: given === null ? null : await resolveInstance(given),
            },
            logger,
            print,
          );
        },
      ),
  },
  keygen: {
    usage: KEYGEN_USAGE,
    takesInstance: false,
    run: (input) =>
      runOperator(input, KEYGEN_OPTIONS, KEYGEN_USAGE, 1, async (values, operands, logger) => {
        if (operands[0] === undefined) throw new CommandLineError("FILE is required");
        return await runKeygenCommand(operands[0], logger, print, 1, values.group ?? null);
      }),
  },
  proxy: {
    usage: PROXY_USAGE,
    takesInstance: true,
    run: async (input) =>
      await runProxyTool(input.args, await instanceOf(input.instance), input.usage),
  },
  status: {
    usage: STATUS_USAGE,
    takesInstance: true,
    run: async (input) =>
      await runStatusTool(
        input.instance === null
          ? input.args
          : ["--instance", await resolveInstance(input.instance), ...input.args],
      ),
  },
  follow: {
    usage: FOLLOW_USAGE,
    takesInstance: true,
    run: async (input) =>
      await runFollowTool(input.args, await instanceOf(input.instance), input.usage),
  },
};

/**
 * What Jool's form of a command adds: `session follow` is `jool session
 * follow`, which ACKs and prints Jool's lines.
 */
const JOOL_FORM_ARGS: Readonly<Record<string, readonly string[]>> = {
  follow: ["--ack", "--format=jool"],
};

/** Jool's `session` operations that joold has. */
const SESSION_OPERATIONS = ["proxy", "follow", "advertise"] as const;

/** Jool's modes that hold them: `jool session ...`, and 4.1's older `jool joold advertise`. */
const JOOL_MODES = ["session", "joold"] as const;

/**
 * The command of a command line and the words after it: `proxy ...`, or
 * Jool's `session proxy ...` (modes and operations by unambiguous prefix,
 * as jool matches them); null for the daemon.
 *
 * @throws {CommandLineError} For a Jool mode without an operation joold has.
 */
export function findCommand(words: readonly string[]): { name: string; args: string[] } | null {
  const first = words[0] ?? "";
  if (Object.hasOwn(COMMANDS, first)) return { name: first, args: words.slice(1) };
  const mode = matchKeyword(first, JOOL_MODES);
  if (mode === null) return null;
  const operation = matchKeyword(
    words[1] ?? "",
    mode === "session" ? SESSION_OPERATIONS : ["advertise"] as const,
  );
  if (operation === null) {
    throw new CommandLineError(
      `${mode} ${words[1] ?? ""}`.trim() + ": joold has " +
        (mode === "session" ? "session proxy, session follow and session advertise" : "advertise"),
    );
  }
  return { name: operation, args: [...JOOL_FORM_ARGS[operation] ?? [], ...words.slice(2)] };
}

/** Runs joold with `args` (Deno.args); returns the exit status. */
export async function runJoold(args: readonly string[]): Promise<number> {
  let prefix;
  let command;
  try {
    prefix = parseJoolPrefix(args);
    command = findCommand(prefix.rest);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    return usageError("joold", error.message);
  }
  if (command === null) {
    if (prefix.instance !== null) {
      return usageError(
        "joold",
        "-i/--instance and -f/--file go before advertise, proxy, follow or status; the " +
          "daemon takes its instance from MODSOCKET",
      );
    }
    // Options before the command word (`joold --log-level debug check`) are the command's.
    const word = prefix.rest.findIndex((arg) => Object.hasOwn(COMMANDS, arg));
    const daemon = word < 0 ? null : tryParse(() => parseDaemonArguments(prefix.rest));
    if (daemon === null || daemon.operands[0] !== prefix.rest[word]) {
      return await runDaemonCommand(prefix.rest);
    }
    command = { name: prefix.rest[word], args: prefix.rest.toSpliced(word, 1) };
  }
  const entry = COMMANDS[command.name];
  const label = `joold ${command.name}`;
  if (prefix.instance !== null && !entry.takesInstance) {
    return usageError(label, "-i/--instance and -f/--file do not go with this command");
  }
  try {
    return await entry.run({
      args: command.args,
      instance: prefix.instance,
      usage: (line) => console.error(`${label}: ${line}`),
    });
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    return usageError(label, error.message);
  }
}

function tryParse<T>(parse: () => T): T | null {
  try {
    return parse();
  } catch {
    return null;
  }
}

function usageError(label: string, message: string): number {
  console.error(`${label}: ${message}`);
  return EXIT_USAGE;
}

async function instanceOf(source: InstanceSource | null): Promise<string | undefined> {
  return source === null ? undefined : await resolveInstance(source);
}

type Values<O extends OptionSpecs> = ReturnType<typeof parseCommandLine<O>>["values"];

/**
 * check, advertise, keygen: parse, `--help`, at most `maxOperands`, a
 * logger; `body` may throw CommandLineError for a bad argument.
 */
async function runOperator<O extends typeof OPERATOR_OPTIONS>(
  input: CommandInput,
  options: O,
  usage: string,
  maxOperands: number,
  body: (values: Values<O>, operands: string[], logger: LevelLogger) => Promise<number>,
): Promise<number> {
  const { values, positionals } = parseCommandLine(input.args, options);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length > maxOperands) {
    throw new CommandLineError(`too many arguments: ${positionals.slice(maxOperands).join(" ")}`);
  }
  const common = values as Values<typeof OPERATOR_OPTIONS>;
  const level = logLevelFlag(common["log-level"] ?? "warning");
  const log = openLogSink(common.syslog ?? false);
  if (log === null) return EXIT_FAILURE;
  try {
    return await body(values, positionals, new LevelLogger(level, log.sink));
  } catch (error) {
    if (error instanceof CommandLineError) throw error;
    console.error(`joold: Unexpected failure: ${error instanceof Error ? error.stack : error}`);
    return EXIT_FAILURE;
  } finally {
    log.close();
  }
}

/** The daemon's checked options. */
export interface DaemonCommandLine {
  level: LogLevel;
  syslog: boolean;
  operands: string[];
  metricsPort: string | null;
  statsAddress: string | null;
  metricsAddress: string | null;
  stateDirectory: string | null;
  help: boolean;
  version: boolean;
}

/**
 * Parses the daemon's command line; every value the flags take is checked
 * here, so that a bad one is a usage error (status 2), not a configuration
 * one.
 *
 * @throws {CommandLineError} One line naming the flag.
 */
export function parseDaemonArguments(args: readonly string[]): DaemonCommandLine {
  let parsed;
  try {
    parsed = parseCommandLine(args, DAEMON_OPTIONS);
  } catch (error) {
    const option = error instanceof CommandLineError ? error.unknownOption : null;
    const command = option === null ? undefined : COMMAND_ONLY_OPTIONS[option];
    if (command === undefined) throw error;
    throw new CommandLineError(`${option} is an option of joold ${command} only`);
  }
  const { values, positionals } = parsed;
  if (!values.help && !values.version && positionals.length > 3) {
    throw new CommandLineError(`too many arguments: ${positionals.slice(3).join(" ")}`);
  }
  const metricsPort = values["metrics-port"] ?? null;
  if (metricsPort !== null) checkPortFlag("metrics-port", metricsPort, "number");
  for (const flag of ["stats-address", "metrics-address"] as const) {
    const text = values[flag];
    if (text !== undefined && parseIp(text) === null) {
      flagValue(flag, { problem: ipProblem(`'${text}'`) });
    }
  }
  return {
    level: logLevelFlag(values["log-level"] ?? "info"),
    syslog: values.syslog ?? false,
    operands: positionals,
    metricsPort,
    statsAddress: values["stats-address"] ?? null,
    metricsAddress: values["metrics-address"] ?? null,
    stateDirectory: values["state-directory"] ?? null,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

async function runDaemonCommand(args: string[]): Promise<number> {
  let parsed: DaemonCommandLine;
  try {
    parsed = parseDaemonArguments(args);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    return usageError("joold", error.message);
  }
  if (parsed.help) {
    console.log(DAEMON_USAGE);
    return 0;
  }
  if (parsed.version) {
    console.log(
      `joold ${VERSION} (compatible with Jool ${REFERENCE_VERSION} joold; Deno ${Deno.version.deno})`,
    );
    return 0;
  }
  // One C library for the log and the daemon: each dlopen binds every symbol (7 ms of a start).
  let libc: Libc | undefined;
  try {
    libc = Libc.open();
  } catch {
    // runDaemon tries again, and says why it cannot.
  }
  // The daemon's stderr does not block (a slow reader must not stall the sync).
  const log = openLogSink(parsed.syslog, { nonBlocking: true, longRunning: true }, libc);
  if (log === null) {
    libc?.close();
    return EXIT_FAILURE;
  }
  const logger = new LevelLogger(parsed.level, log.sink);
  const [netsocketFile, modsocketFile, statsPort] = parsed.operands;
  try {
    return await runDaemon(
      {
        netsocketFile: netsocketFile ?? "netsocket.json",
        modsocketFile: modsocketFile ?? "modsocket.json",
        statsPort: statsPort ?? null,
        metricsPort: parsed.metricsPort,
        statsAddress: parsed.statsAddress,
        metricsAddress: parsed.metricsAddress,
        stateDirectory: parsed.stateDirectory,
        modsocketDefaulted: modsocketFile === undefined,
      },
      logger,
      printFromDaemon,
      libc,
    );
  } catch (error) {
    logger.error(
      `Unexpected failure: ${error instanceof Error ? error.stack ?? error.message : error}`,
    );
    return EXIT_FAILURE;
  } finally {
    log.close();
    libc?.close();
  }
}

function print(text: string): void {
  console.log(text);
}

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
