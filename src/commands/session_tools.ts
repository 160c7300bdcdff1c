/**
 * The entry of `joold proxy` and `joold follow`, the counterparts of Jool
 * 4.1.14's `jool session proxy` and `jool session follow`: their own
 * command lines (Jool's flags, not the daemon's), help, logger, and run.
 * A bad command line is one line on stderr and status 2.
 *
 * @module
 */

import { CommandLineError } from "../command_line.ts";
import { LevelLogger } from "../log.ts";
import { openStderrSink } from "../stderr_sink.ts";
import { openLogSink } from "../syslog_sink.ts";
import { parseFollowArguments } from "./follow.ts";
import { runFollowCommand } from "./follow_run.ts";
import { parseProxyArguments, runProxyCommand } from "./proxy.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../exit_status.ts";

/** `joold proxy --help`. */
export const PROXY_USAGE = `Usage: joold [-i NAME | -f FILE] proxy [OPTIONS] MCAST_ADDRESS
       joold [-i NAME | -f FILE] session proxy [OPTIONS] MCAST_ADDRESS

Runs the daemon with the command line of Jool 4.1.14+'s \`jool session proxy\`
instead of the NETSOCKET and MODSOCKET files; same options, same defaults.
The instance is named before the command, as in jool: -i/--instance NAME or
-f/--file FILE (Jool's instance file); default: default.

  -i, --net.dev.in DEV     where to join the group (IPv4: an address of the
                           interface; IPv6: its name)
  -o, --net.dev.out DEV    where to send to the group (same forms)
  -p, --net.mcast.port P   the group's UDP port, number or service (default 6400)
  -t, --net.ttl N          multicast TTL / hop limit, 0 to 255 (default 1)
      --stats.address A    serve the stats on address or host name A only (with
                           either stats flag the stats server runs: default ::
                           port 6401)
      --stats.port P       the stats server's UDP port (default 6401)
Our extras:
      --instance NAME      the instance, after the command
      --control-port P     resync with our other daemons on the group's port P
                           (default: none, as \`jool session proxy\`)
      --metrics-port N     Prometheus metrics over HTTP on TCP port N
      --log-level LEVEL    error, warning, info (default) or debug
      --syslog             log to syslog instead of stderr
  -h, --help               show this help and exit
Long options may be shortened while unambiguous (--net.t=2), as in jool.
`;

/** `joold follow --help`. */
export const FOLLOW_USAGE = `Usage: joold [-i NAME | -f FILE] follow [OPTIONS] [MCAST_ADDRESS]
       joold [-i NAME | -f FILE] session follow [OPTIONS]

Prints every session as it is synced, one line each, like Jool 4.1.14+'s
\`jool session follow\` and \`conntrack -E\`: from the local kernel's batches
and/or (with MCAST_ADDRESS) the peers' datagrams on the sync group. By
default it only listens (never ACKs nor sends): safe next to a running
joold. Alone, give --ack, or the kernel sends one batch per
ss-flush-deadline and drops the rest. \`session follow\` is \`jool session
follow\`: --ack --format=jool. The first line on stderr says the mode.

  -i, --instance NAME      the Jool instance (default: default, or the one
                           named before the command)
      --ack                acknowledge every kernel batch of the instance, as
                           \`jool session follow\` does (only without a daemon);
                           then, as the daemon does while it runs, raise
                           ss-capacity (ss-max-payload up to 4.1.10) and lower
                           ss-flush-deadline (turn ss-flush-asap on up to
                           4.1.12), saying so, and put them back at exit
      --no-ss-capacity     with --ack, leave that global alone, as the
      --no-ss-max-payload  daemon's modsocket key set to false does (each
      --no-ss-flush-asap   change's line names its flag)
      --no-ss-flush-deadline
      --format F           text (default), json, csv or jool (\`jool session
                           follow\`'s PROTO,SRC6,PORT,SRC4,PORT,DST4,PORT,EXPIRES)
      --json               --format=json: one JSON object per line
      --csv                --format=csv: \`jool session display --csv\`'s columns,
                           then State and Source
      --no-headers         CSV without its header line
      --source S           kernel, group or both (default: kernel, or both
                           with MCAST_ADDRESS)
  -p, --net.mcast.port P   the group's UDP port (default 6400, as jool session
                           proxy's; the example netsocket files use 6464)
      --net.dev.in DEV     where to join the group
      --log-level LEVEL    error, warning (default), info or debug (stderr)
  -h, --help               show this help and exit

Text lines: SOURCE PROTO SRC6#PORT DST6#PORT SRC4#PORT DST4#PORT STATE EXPIRES,
SOURCE being 'kernel' or the peer's address:port.
`;

/**
 * A tool's options, or the exit status if there is nothing to run: a bad
 * command line (one line through `usage`) or `--help`.
 */
function toolOptions<T extends { help: boolean }>(
  args: readonly string[],
  parse: (args: readonly string[], instance?: string) => T,
  instance: string | undefined,
  help: string,
  usage: (line: string) => void,
): T | number {
  try {
    const options = parse(args, instance);
    if (!options.help) return options;
    console.log(help);
    return 0;
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    usage(error.message);
    return EXIT_USAGE;
  }
}

/**
 * Runs `joold proxy` (`args`: what follows `proxy`; `instance`: the one
 * named before it); returns the exit status. `usage` says what is wrong
 * with an argument, in one line.
 */
export async function runProxyTool(
  args: readonly string[],
  instance: string | undefined,
  usage: (line: string) => void,
): Promise<number> {
  const options = toolOptions(args, parseProxyArguments, instance, PROXY_USAGE, usage);
  if (typeof options === "number") return options;
  const log = openLogSink(options.syslog, { nonBlocking: false, longRunning: true });
  if (log === null) return EXIT_FAILURE;
  try {
    const logger = new LevelLogger(options.logLevel, log.sink);
    return await runProxyCommand(options, logger, (text) => console.log(text), usage);
  } finally {
    log.close();
  }
}

/** Writes all of `bytes` to stdout. */
function writeStdout(bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.byteLength) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Runs `joold follow` as {@link runProxyTool} runs `joold proxy`. */
export async function runFollowTool(
  args: readonly string[],
  instance: string | undefined,
  usage: (line: string) => void,
): Promise<number> {
  const options = toolOptions(args, parseFollowArguments, instance, FOLLOW_USAGE, usage);
  if (typeof options === "number") return options;
  const sink = openStderrSink({ nonBlocking: false, longRunning: true });
  const logger = new LevelLogger(options.logLevel, sink);
  return await runFollowCommand(options, logger, writeStdout, usage, (line) => sink("info", line));
}
