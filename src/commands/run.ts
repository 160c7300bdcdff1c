/**
 * Running the daemon from parsed command-line options: load configs, print
 * the effective configuration, start, wait for a signal, stop.
 *
 * @module
 */

import type { Libc } from "../../ffi/libc.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { ConfigError } from "../config/errors.ts";
import { systemEnvironment } from "../config/environment.ts";
import {
  loadModsocketConfigOrDefault,
  type ModsocketConfig,
  type ModsocketResult,
} from "../config/modsocket.ts";
import {
  loadNetsocketConfig,
  type NetsocketConfig,
  type NetsocketResult,
  requireControlPortWhenSealed,
} from "../config/netsocket.ts";
import { Daemon, type DaemonConfig } from "../daemon.ts";
import { factLines, modsocketFacts, netsocketFacts } from "../config/describe.ts";
import { type KeyFileReader, loadKeyFile } from "../auth/key_file.ts";
import type { KeyRing } from "../auth/sealed_datagram.ts";
import { readJoolModuleVersion } from "../jool_module_version.ts";
import { type Logger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { errorText } from "../error_text.ts";
import { VERSION } from "../version.ts";
import { EXIT_CONFIG, EXIT_FAILURE } from "../exit_status.ts";
import { keyFileReader, withLibc } from "./system.ts";
import { forgetPrintedConfiguration, printConfigurationOnce } from "./printed_configuration.ts";
import { DEFAULT_STATE_DIRECTORY, instanceFileStem } from "../daemon/tuning_state.ts";
import { readSystemLink } from "../../ffi/system_files.ts";
import { formatIp, ipProblem, parseIp } from "../net/ip.ts";
import { parsePort, type ServiceLookup } from "../net/port.ts";
import { monotonicMicroseconds } from "../../ffi/process.ts";
import { systemClock } from "../daemon/clock.ts";
import {
  notifySettings,
  readNotifyEnvironment,
  ServiceNotifier,
} from "../daemon/service_notify.ts";

/** Options of `joold [NETSOCKET] [MODSOCKET] [PORT]`. */
export interface RunOptions {
  netsocketFile: string;
  modsocketFile: string;
  /** The PORT argument as given (number or service name), or null. */
  statsPort: string | null;
  /** `--metrics-port` as given (a TCP port number), or null for none. */
  metricsPort: string | null;
  /** `--stats-address` as given (an IPv4 or IPv6 address), or null for all. */
  statsAddress: string | null;
  /** `--metrics-address` as given (an IPv4 or IPv6 address), or null/absent for all. */
  metricsAddress?: string | null;
  /** `--state-directory` as given, or null for /run/joold. */
  stateDirectory: string | null;
  /**
   * True if MODSOCKET was not given: then a missing default file means the
   * man page's defaults (instance "default") rather than an error.
   */
  modsocketDefaulted?: boolean;
  /** Configurations already checked (`joold proxy`), used instead of the files. */
  configs?: { netsocket: NetsocketResult; modsocket: ModsocketResult };
}

/** Where the effective configuration is printed (stdout, as the reference does). */
export type Print = (text: string) => void;

/**
 * Runs the daemon until SIGINT or SIGTERM. Returns the process exit status;
 * every failure is logged as one line first. Runs on `libc` if given (its
 * caller closes it), else on a C library of its own.
 */
export function runDaemon(
  options: RunOptions,
  logger: Logger,
  print: Print,
  libc?: Libc,
): Promise<number> {
  if (libc !== undefined) return runWithLibc(libc, options, logger, print);
  return withLibc(logger, (opened) => runWithLibc(opened, options, logger, print));
}

async function runWithLibc(
  libc: Libc,
  options: RunOptions,
  logger: Logger,
  print: Print,
): Promise<number> {
  const environment = systemEnvironment(libc);
  let netsocket: NetsocketConfig;
  let modsocket: ModsocketConfig;
  let statsPort: number | null;
  let metricsPort: number | null;
  let statsAddress: Uint8Array | null;
  let metricsAddress: Uint8Array | null;
  let keys: KeyRing | null = null;
  try {
    const net = options.configs?.netsocket ??
      await loadNetsocketConfig(options.netsocketFile, environment);
    const mod = options.configs?.modsocket ?? await loadModsocketConfigOrDefault(
      options.modsocketFile,
      options.modsocketDefaulted ?? false,
    );
    for (const warning of [...net.warnings, ...mod.warnings]) logger.warning(warning);
    netsocket = net.config;
    modsocket = mod.config;
    requireControlPortWhenSealed(netsocket);
    if (netsocket.authKeyFile !== null) {
      keys = await loadKeyFile(
        netsocket.authKeyFile,
        netsocket.file,
        undefined,
        keyFileReader(libc),
      );
    }
    statsPort = options.statsPort === null
      ? null
      : parsePortArgument("PORT", options.statsPort, (name) => environment.resolveService(name));
    metricsPort = options.metricsPort === null
      ? null
      : parsePortArgument("--metrics-port", options.metricsPort, null);
    statsAddress = options.statsAddress === null ? null : parseStatsAddress(options.statsAddress);
    metricsAddress = (options.metricsAddress ?? null) === null
      ? null
      : parseListenAddress(options.metricsAddress!, "--metrics-address");
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error(error.message);
      return EXIT_CONFIG;
    }
    throw error;
  }

  const printedRecord = printedRecordPath(
    libc,
    options.stateDirectory ?? DEFAULT_STATE_DIRECTORY,
    modsocket.instance,
  );
  printConfigurationOnce(
    describeConfiguration(
      netsocket,
      modsocket,
      statsPort,
      metricsPort,
      statsAddress,
      metricsAddress,
    ),
    printedRecord,
    print,
    logger,
  );
  const kernelVersion = readJoolModuleVersion(libc, logger);

  const counters = new SyncCounters();
  const sockets = new Sockets(libc);
  const notifier = new ServiceNotifier(notifySettings(readNotifyEnvironment(), Deno.pid), {
    sockets,
    logger,
    clock: systemClock,
    counters,
  });
  // From now on: systemd may count the watchdog from the start, not from READY=1.
  notifier.startWatchdog();
  try {
    const status = await runDaemonWith(
      libc,
      { netsocket, modsocket, notifier, sockets, counters },
      {
        statsPort,
        statsAddress,
        metricsPort,
        metricsAddress,
        kernelVersion,
        keys,
        stateDirectory: options.stateDirectory ?? undefined,
      },
      logger,
    );
    // Stopped on a signal: the next start is a new one, printed whole; a failure is retried.
    if (status === 0) await forgetPrintedConfiguration(printedRecord);
    return status;
  } finally {
    notifier.close();
  }
}

/** Starts the daemon, tells the service manager, waits for a signal, stops. */
async function runDaemonWith(
  libc: Libc,
  parts: {
    netsocket: NetsocketConfig;
    modsocket: ModsocketConfig;
    notifier: ServiceNotifier;
    sockets: Sockets;
    counters: SyncCounters;
  },
  settings: Omit<DaemonConfig, "netsocket" | "modsocket">,
  logger: Logger,
): Promise<number> {
  const { netsocket, modsocket, notifier, sockets, counters } = parts;
  // The signals are caught from the start: a stop asked for while the daemon
  // starts (`systemctl stop` before READY=1) waits for it, so that the
  // globals it raised are put back, instead of killing it.
  let daemon: Daemon | null = null;
  let stopAsked = false;
  const stop = () => {
    logger.info("Stopping on signal");
    if (daemon === null) {
      stopAsked = true;
      return;
    }
    daemon.stop().catch((error) => logger.error(`Error while stopping: ${errorText(error)}`));
  };
  const keyFile = netsocket.authKeyFile;
  // SIGHUP's default action would end the daemon without putting the
  // instance's globals back: it is caught, and said to do nothing.
  const hangUp = () => {
    if (daemon === null) {
      logger.warning("SIGHUP while starting: ignored (the key file is read at start)");
      return;
    }
    // systemd waits for READY=1 after RELOADING=1: `systemctl reload` ends when the keys are in.
    notifier.reloading(() => monotonicMicroseconds(libc));
    if (keyFile !== null) {
      reloadKeyFile(daemon, keyFile, netsocket.file, logger, keyFileReader(libc))
        .finally(() => notifier.ready());
      return;
    }
    logger.warning(
      "SIGHUP: joold does not reload its configuration; restart it to apply changes",
    );
    notifier.ready();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGQUIT"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  Deno.addSignalListener("SIGHUP", hangUp);
  let started: Daemon;
  try {
    try {
      started = await Daemon.start({ netsocket, modsocket, ...settings }, {
        libc,
        sockets,
        logger,
        counters,
        notifier,
      });
    } catch (error) {
      logger.error(errorText(error));
      notifier.status(`failed: ${errorText(error)}`);
      return EXIT_FAILURE;
    }
    daemon = started;
    logger.info(`joold ${VERSION} is synchronising instance '${modsocket.instance}'`);
    if (stopAsked) stop();
    await started.done;
    await started.stop();
  } catch (error) {
    logger.error(`The daemon failed: ${errorText(error)}`);
    return EXIT_FAILURE;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    Deno.removeSignalListener("SIGHUP", hangUp);
  }
  if (started.failure !== null) {
    // Exiting is how joold resumes: the service manager starts it again,
    // and a new start resolves the family, probes the instance and resyncs.
    logger.error(
      `${started.failure}; exiting (status 1) so that the service manager restarts joold`,
    );
    return EXIT_FAILURE;
  }
  logger.info("Stopped");
  return 0;
}

/** Where the record of the printed configuration goes: beside the state file. */
function printedRecordPath(libc: Libc, directory: string, instance: string): string {
  let netns: string | null = null;
  try {
    netns = readSystemLink(libc, "/proc/self/ns/net");
  } catch {
    // An unknown namespace shares one record, as it shares one state file.
  }
  return `${directory}/${instanceFileStem(instance, netns)}.printed`;
}

/**
 * SIGHUP with "auth key file": reads the key file again and seals and
 * opens with its keys (a key rotation step); a bad file keeps the keys in use.
 * Resolves when it is done, either way.
 */
function reloadKeyFile(
  daemon: Daemon,
  keyFile: string,
  netsocketFile: string,
  logger: Logger,
  reader: KeyFileReader | null,
): Promise<void> {
  return loadKeyFile(keyFile, netsocketFile, undefined, reader).then((keys) => {
    daemon.reloadKeys(keys);
    logger.info(
      `SIGHUP: reloaded ${keyFile}: sending with key ${keys.current.id}, ` +
        `accepting ${[...keys.accepted.keys()].join(" and ")}`,
    );
  }, (error) => {
    logger.error(`SIGHUP: keeping the keys in use: ${errorText(error)}`);
  });
}

/**
 * A port flag or argument: `names` allows a UDP service name (resolved with
 * `lookup`). Throws ConfigError naming `flag`.
 */
export function parsePortArgument(
  flag: string,
  text: string,
  lookup: ServiceLookup | null,
): number {
  const port = parsePort(
    text,
    lookup === null ? "number" : "number or resolved name",
    `'${text}'`,
    lookup,
  );
  if (typeof port !== "number") throw new ConfigError("command line", flag, port.problem);
  return port;
}

/**
 * Parses `--stats-address`: the one IPv4 or IPv6 address the stats server
 * serves (as `jool session proxy --stats.address` of Jool 4.1.14).
 *
 * @throws {ConfigError} If it is not an address.
 */
export function parseStatsAddress(text: string): Uint8Array {
  return parseListenAddress(text, "--stats-address");
}

/**
 * Parses the address option `flag` (`--stats-address`, `--metrics-address`).
 *
 * @throws {ConfigError} If it is not an address.
 */
export function parseListenAddress(text: string, flag: string): Uint8Array {
  const address = parseIp(text);
  if (address !== null) return address;
  throw new ConfigError("command line", flag, ipProblem(`'${text}'`));
}

/** The effective configuration, as printed at start. */
export function describeConfiguration(
  netsocket: NetsocketConfig,
  modsocket: ModsocketConfig,
  statsPort: number | null,
  metricsPort: number | null,
  statsAddress: Uint8Array | null = null,
  metricsAddress: Uint8Array | null = null,
): string {
  return [
    `joold ${VERSION} configuration:`,
    ...factLines([
      { label: "netsocket file", value: netsocket.file, brief: null },
      ...netsocketFacts(netsocket),
      { label: "modsocket file", value: modsocket.file, brief: null },
      ...modsocketFacts(modsocket),
      {
        label: "stats port",
        value: statsPort === null
          ? "none"
          : statsAddress === null
          ? `${statsPort} (every address)`
          : `${statsPort} (${formatIp(statsAddress)} only)`,
        brief: null,
      },
      {
        label: "metrics port",
        value: metricsPort === null
          ? "none"
          : `${metricsPort} (HTTP, Prometheus at /metrics${
            metricsAddress === null ? "" : `, ${formatIp(metricsAddress)} only`
          })`,
        brief: null,
      },
    ]),
    "",
  ].join("\n");
}
