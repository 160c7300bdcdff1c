/**
 * `joold [NETSOCKET] [MODSOCKET] [PORT]`: the Jool session-synchronisation
 * daemon. This file only parses the command line and starts the daemon.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { EXIT_FAILURE, runDaemon } from "./src/app.ts";
import { isLogLevel, LevelLogger, type LogLevel, stderrSink } from "./src/log.ts";
import { REFERENCE_VERSION, VERSION } from "./src/version.ts";

const USAGE = `Usage: joold [OPTIONS] [NETSOCKET] [MODSOCKET] [PORT]

Synchronises the sessions of a Jool NAT64 instance with its peers over UDP
multicast (wire-compatible with Jool ${REFERENCE_VERSION}'s joold).

Arguments:
  NETSOCKET  network socket configuration file (default: netsocket.json)
  MODSOCKET  kernel socket configuration file (default: modsocket.json;
             if that default file is absent, instance "default")
  PORT       if given, UDP port (number or service name) of the stats server

Options:
  --log-level LEVEL  error, warning, info (default) or debug
  -h, --help         show this help and exit
  -V, --version      show the version and exit
`;

/** Exit status for a bad command line. */
const EXIT_USAGE = 2;

async function main(args: string[]): Promise<number> {
  const logToStderr = (bytes: Uint8Array) => {
    Deno.stderr.writeSync(bytes);
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "log-level": { type: "string", default: "info" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (error) {
    console.error(`joold: ${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    return EXIT_USAGE;
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
  const level = values["log-level"];
  if (!isLogLevel(level)) {
    console.error(`joold: --log-level: must be error, warning, info or debug, got '${level}'`);
    return EXIT_USAGE;
  }
  if (positionals.length > 3) {
    console.error(`joold: too many arguments: ${positionals.slice(3).join(" ")}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const logger = new LevelLogger(
    level as LogLevel,
    stderrSink(logToStderr, !Deno.stderr.isTerminal()),
  );
  return await runDaemon(
    {
      netsocketFile: positionals[0] ?? "netsocket.json",
      modsocketFile: positionals[1] ?? "modsocket.json",
      statsPort: positionals[2] ?? null,
      modsocketDefaulted: positionals[1] === undefined,
    },
    logger,
    (text) => console.log(text),
  ).catch((error) => {
    logger.error(
      `Unexpected failure: ${error instanceof Error ? error.stack ?? error.message : error}`,
    );
    return EXIT_FAILURE;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
