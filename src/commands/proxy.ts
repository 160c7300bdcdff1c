/**
 * `joold proxy` (docs/session_tools.md): the daemon, configured on the
 * command line of Jool 4.1.14/4.1.15's `jool session proxy` instead of the
 * two JSON files, with Jool's defaults (src/usr/argp/wargp/session.c at
 * v4.1.15), so that a unit written for Jool's proxy runs ours unchanged.
 *
 * @module
 */

import { type Print, runDaemon } from "./run.ts";
import { withLibc } from "./system.ts";
import { EXIT_USAGE } from "../exit_status.ts";
import {
  checkPortFlag,
  CommandLineError,
  instanceFlag,
  logLevelFlag,
  parseCommandLine,
} from "../command_line.ts";
import { systemEnvironment } from "../config/environment.ts";
import { ConfigError } from "../config/errors.ts";
import type { NetworkEnvironment } from "../config/environment.ts";
import {
  DEFAULT_INSTANCE,
  defaultModsocketConfig,
  type ModsocketResult,
} from "../config/modsocket.ts";
import { type NetsocketResult, parseNetsocketConfig } from "../config/netsocket.ts";
import type { Logger, LogLevel } from "../log.ts";
import { formatIp, parseIp } from "../net/ip.ts";
import type { Libc } from "../../ffi/libc.ts";
import { resolveUdp } from "../../ffi/resolve.ts";
import { ResolveError } from "../../ffi/errors.ts";
import { AF_INET6 } from "../../ffi/constants.ts";

/** `jool session proxy`'s default group port. */
export const PROXY_DEFAULT_PORT = "6400";
/** `jool session proxy`'s default TTL. */
export const PROXY_DEFAULT_TTL = 1;
/** `jool session proxy`'s stats port when only the address is given. */
export const PROXY_DEFAULT_STATS_PORT = "6401";

/** What names the file in messages about the flags. */
export const PROXY_SOURCE = "joold proxy";

/**
 * The options `joold proxy` takes: `jool session proxy`'s, whose `-i` is
 * `--net.dev.in` (the instance goes before the command, as in Jool), then
 * ours.
 */
export const PROXY_OPTIONS = {
  "net.dev.in": { type: "string", short: "i" },
  "net.dev.out": { type: "string", short: "o" },
  "net.mcast.port": { type: "string", short: "p" },
  "net.ttl": { type: "string", short: "t" },
  "stats.address": { type: "string" },
  "stats.port": { type: "string" },
  "control-port": { type: "string" },
  "metrics-port": { type: "string" },
  instance: { type: "string" },
  "log-level": { type: "string" },
  syslog: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** A checked `joold proxy` command line. */
export interface ProxyOptions {
  instance: string;
  /** MCAST_ADDRESS, as given. */
  group: string;
  /** Number or service name. */
  port: string;
  devIn: string | null;
  devOut: string | null;
  ttl: number;
  /** Stats server port (number or service name), or null for none. */
  statsPort: string | null;
  /**
   * The one address it serves (an address or, as Jool takes it, a host
   * name, resolved at start), or null for every address (`::`).
   */
  statsAddress: string | null;
  /** Resync control port, or null (the default) for none. */
  controlPort: string | null;
  metricsPort: string | null;
  logLevel: LogLevel;
  syslog: boolean;
  help: boolean;
}

/**
 * Parses `joold proxy`'s arguments (those after `proxy`); `instance` is the
 * one given before the command (`--instance` after it wins). Long options
 * may be shortened to an unambiguous prefix, as argp allows.
 *
 * @throws {CommandLineError} One line naming the flag, for an unknown
 * option, a missing or extra MCAST_ADDRESS, or a value of the wrong form.
 */
export function parseProxyArguments(
  args: readonly string[],
  instance: string = DEFAULT_INSTANCE,
): ProxyOptions {
  const { values, positionals } = parseCommandLine(args, PROXY_OPTIONS, { abbreviations: true });
  const help = values.help ?? false;
  if (positionals.length > 1) {
    throw new CommandLineError(`too many arguments: ${positionals.slice(1).join(" ")}`);
  }
  if (positionals.length === 0 && !help) {
    throw new CommandLineError("MCAST_ADDRESS is missing (the group, e.g. ff08::db8:64:64)");
  }
  const ttlText = values["net.ttl"];
  let ttl = PROXY_DEFAULT_TTL;
  if (ttlText !== undefined) {
    ttl = /^\d{1,3}$/.test(ttlText) ? Number(ttlText) : NaN;
    if (!(ttl <= 255)) {
      throw new CommandLineError(`--net.ttl: must be an integer from 0 to 255, got '${ttlText}'`);
    }
  }
  const statsAddressText = values["stats.address"];
  if (statsAddressText === "") throw new CommandLineError("--stats.address: must not be empty");
  for (const flag of ["net.mcast.port", "stats.port", "control-port", "metrics-port"] as const) {
    const text = values[flag];
    if (text === undefined) continue;
    checkPortFlag(flag, text, flag === "metrics-port" ? "number" : "number or name");
  }
  const level = logLevelFlag(values["log-level"] ?? "info");
  const statsWanted = values["stats.address"] !== undefined || values["stats.port"] !== undefined;
  return {
    instance: values.instance === undefined ? instance : instanceFlag(values.instance),
    group: positionals[0] ?? "",
    port: values["net.mcast.port"] ?? PROXY_DEFAULT_PORT,
    devIn: values["net.dev.in"] ?? null,
    devOut: values["net.dev.out"] ?? null,
    ttl,
    statsPort: statsWanted ? values["stats.port"] ?? PROXY_DEFAULT_STATS_PORT : null,
    statsAddress: statsAddressText === undefined || isUnspecified(statsAddressText)
      ? null
      : statsAddressText,
    controlPort: values["control-port"] ?? null,
    metricsPort: values["metrics-port"] ?? null,
    logLevel: level,
    syslog: values.syslog ?? false,
    help,
  };
}

/** `::` or `0.0.0.0`: every address, which a null stats address means. */
function isUnspecified(text: string): boolean {
  const bytes = parseIp(text);
  return bytes !== null && bytes.every((byte) => byte === 0);
}

/**
 * `--stats.address` as the daemon takes it: an address as given, or a host
 * name resolved to the first address getaddrinfo(3) gives (Jool binds that
 * one); null for every address.
 *
 * @throws {CommandLineError} If the name does not resolve.
 */
export function proxyStatsAddress(
  text: string | null,
  resolve: (name: string) => Uint8Array | string,
): string | null {
  if (text === null || parseIp(text) !== null) return text;
  const resolved = resolve(text);
  if (typeof resolved === "string") {
    throw new CommandLineError(`--stats.address: cannot resolve '${text}': ${resolved}`);
  }
  return resolved.every((byte) => byte === 0) ? null : formatIp(resolved);
}

/** The first address of `name` (AI_PASSIVE, any family), or why there is none. */
function resolveHost(libc: Libc, name: string): Uint8Array | string {
  if (name.includes("\0")) return "not a host name";
  try {
    const [first] = resolveUdp(libc, name, PROXY_DEFAULT_STATS_PORT, true, true);
    if (first === undefined) return "no address";
    // sockaddr_in: the address at offset 4; sockaddr_in6: at offset 8.
    return first.family === AF_INET6 ? first.sockaddr.slice(8, 24) : first.sockaddr.slice(4, 8);
  } catch (error) {
    if (error instanceof ResolveError) return error.description;
    throw error;
  }
}

/** Which flag each netsocket key comes from, to name it in messages. */
const FLAG_OF_KEY: Record<string, string> = {
  "multicast address": "MCAST_ADDRESS",
  "multicast port": "--net.mcast.port",
  "in interface": "--net.dev.in",
  "out interface": "--net.dev.out",
  "ttl": "--net.ttl",
  "control port": "--control-port",
};

/**
 * The netsocket configuration the flags describe, checked against the
 * machine (interfaces, service names) exactly as a netsocket file is.
 *
 * @throws {CommandLineError} One line naming the flag at the first problem.
 */
export function proxyNetsocket(
  options: Pick<ProxyOptions, "group" | "port" | "devIn" | "devOut" | "ttl" | "controlPort">,
  env: NetworkEnvironment,
): NetsocketResult {
  const file: Record<string, unknown> = {
    "multicast address": options.group,
    "multicast port": options.port,
    "ttl": options.ttl,
    "control port": options.controlPort ?? false,
  };
  if (options.devIn !== null) file["in interface"] = options.devIn;
  if (options.devOut !== null) file["out interface"] = options.devOut;
  try {
    return parseNetsocketConfig(JSON.stringify(file), PROXY_SOURCE, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const flag = error.key === null ? null : FLAG_OF_KEY[error.key] ?? error.key;
    throw new CommandLineError(flag === null ? error.problem : `${flag}: ${error.problem}`);
  }
}

/**
 * The modsocket configuration of `joold proxy`: the instance, with the
 * daemon's defaults otherwise (it turns ss-enabled on and raises the
 * kernel's queue while it runs, as `joold` with no MODSOCKET file does).
 */
export function proxyModsocket(options: ProxyOptions): ModsocketResult {
  const { config } = defaultModsocketConfig();
  return { config: { ...config, file: PROXY_SOURCE, instance: options.instance }, warnings: [] };
}

/**
 * Runs `joold proxy` until SIGINT or SIGTERM: checks the flags against the
 * machine (a bad one: `usage` gets one line, status 2), then runs the
 * daemon on them.
 */
export async function runProxyCommand(
  options: ProxyOptions,
  logger: Logger,
  print: Print,
  usage: (line: string) => void,
): Promise<number> {
  let netsocket: NetsocketResult | undefined;
  let statsAddress: string | null = null;
  const status = await withLibc(logger, (libc) => {
    try {
      const checked = proxyNetsocket(options, systemEnvironment(libc));
      statsAddress = proxyStatsAddress(options.statsAddress, (name) => resolveHost(libc, name));
      netsocket = checked;
      return 0;
    } catch (error) {
      if (!(error instanceof CommandLineError)) throw error;
      usage(error.message);
      return EXIT_USAGE;
    }
  });
  if (netsocket === undefined) return status;
  return await runDaemon(
    {
      netsocketFile: PROXY_SOURCE,
      modsocketFile: PROXY_SOURCE,
      statsPort: options.statsPort,
      statsAddress,
      metricsPort: options.metricsPort,
      stateDirectory: null,
      configs: { netsocket, modsocket: proxyModsocket(options) },
    },
    logger,
    print,
  );
}
