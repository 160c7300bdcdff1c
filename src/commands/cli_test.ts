import assert from "node:assert/strict";
import {
  ADVERTISE_USAGE,
  CHECK_USAGE,
  COMMANDS,
  DAEMON_USAGE,
  findCommand,
  KEYGEN_USAGE,
  parseDaemonArguments,
  runJoold,
} from "./cli.ts";
import { parseJoolPrefix, resolveInstance } from "./jool_prefix.ts";
import { parseProxyArguments, type ProxyOptions } from "./proxy.ts";
import { FOLLOW_USAGE, PROXY_USAGE } from "./session_tools.ts";
import { STATUS_USAGE } from "./status.ts";
import { CommandLineError } from "../command_line.ts";

/**
 * What `jool session proxy G` means in Jool 4.1.15 (src/usr/argp/wargp/session.c):
 * proxy_test.ts checks that these are Jool's defaults.
 */
const JOOL_DEFAULTS: ProxyOptions = parseProxyArguments(["ff08::db8:64:64"]);

/** The proxy options of a whole joold command line, on the path runJoold takes. */
async function proxyOptionsOf(args: string[]): Promise<ProxyOptions> {
  const prefix = parseJoolPrefix(args);
  const command = findCommand(prefix.rest);
  assert.equal(command?.name, "proxy", args.join(" "));
  const instance = prefix.instance === null ? undefined : await resolveInstance(prefix.instance);
  return parseProxyArguments(command!.args, instance);
}

Deno.test("every option of jool session proxy (jool(8) 4.1.15), before and after the command, means what it means in jool", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    // Jool's instance file: its "instance" member, the key matched without regard to case.
    await Deno.writeTextFile(
      file,
      '{ "comment": "x", "INSTANCE": "fromfile", "framework": "netfilter", "global": {} }',
    );
    const G = "ff08::db8:64:64";
    const cases: [string[], Partial<ProxyOptions>][] = [
      // <argp1>, before the mode: --instance or --file (getopt_long "+?Vi:f:").
      [["-i", "nat64a", "session", "proxy", G], { instance: "nat64a" }],
      [["-inat64a", "session", "proxy", G], { instance: "nat64a" }],
      [["--instance", "nat64a", "session", "proxy", G], { instance: "nat64a" }],
      [["--instance=nat64a", "session", "proxy", G], { instance: "nat64a" }],
      [["--inst=nat64a", "session", "proxy", G], { instance: "nat64a" }],
      [["-f", file, "session", "proxy", G], { instance: "fromfile" }],
      [[`-f${file}`, "session", "proxy", G], { instance: "fromfile" }],
      [["--file", file, "session", "proxy", G], { instance: "fromfile" }],
      [[`--file=${file}`, "session", "proxy", G], { instance: "fromfile" }],
      [["-i", "a", "-i", "b", "session", "proxy", G], { instance: "b" }],
      [["-f", file, "-i", "b", "session", "proxy", G], { instance: "b" }],
      [["-i", "b", "-f", file, "session", "proxy", G], { instance: "fromfile" }],
      // The mode and operation by unambiguous prefix, as jool matches them.
      [["-i", "nat64a", "ses", "prox", G], { instance: "nat64a" }],
      // After `session proxy`: its own options (argp: -i is --net.dev.in).
      [["session", "proxy", "-i", "eth1", G], { devIn: "eth1" }],
      [["session", "proxy", "-ieth1", G], { devIn: "eth1" }],
      [["session", "proxy", "--net.dev.in=eth1", G], { devIn: "eth1" }],
      [["session", "proxy", "--net.dev.in", "eth1", G], { devIn: "eth1" }],
      [["session", "proxy", "-o", "eth2", G], { devOut: "eth2" }],
      [["session", "proxy", "-oeth2", G], { devOut: "eth2" }],
      [["session", "proxy", "--net.dev.out=eth2", G], { devOut: "eth2" }],
      [["session", "proxy", "--net.dev.out", "eth2", G], { devOut: "eth2" }],
      [["session", "proxy", "-p", "6464", G], { port: "6464" }],
      [["session", "proxy", "-p6464", G], { port: "6464" }],
      [["session", "proxy", "--net.mcast.port=6464", G], { port: "6464" }],
      [["session", "proxy", "--net.mcast.port", "jool-sync", G], { port: "jool-sync" }],
      [["session", "proxy", "-t", "3", G], { ttl: 3 }],
      [["session", "proxy", "-t3", G], { ttl: 3 }],
      [["session", "proxy", "--net.ttl=0", G], { ttl: 0 }],
      [["session", "proxy", "--net.ttl", "255", G], { ttl: 255 }],
      // Either stats option turns the stats server on, the other at its default (:: and 6401).
      [["session", "proxy", "--stats.address=192.0.2.1", G], {
        statsAddress: "192.0.2.1",
        statsPort: "6401",
      }],
      [["session", "proxy", "--stats.address", "2001:db8::1", G], {
        statsAddress: "2001:db8::1",
        statsPort: "6401",
      }],
      // A host name, as getaddrinfo() takes it: resolved at start.
      [["session", "proxy", "--stats.address=localhost", G], {
        statsAddress: "localhost",
        statsPort: "6401",
      }],
      [["session", "proxy", "--stats.address=::", G], { statsAddress: null, statsPort: "6401" }],
      [["session", "proxy", "--stats.port=7000", G], { statsPort: "7000" }],
      [["session", "proxy", "--stats.port", "7000", G], { statsPort: "7000" }],
      // argp: long options shortened, options after the operand, `--`.
      [["session", "proxy", "--net.t=2", "--stats.a=192.0.2.1", G], {
        ttl: 2,
        statsAddress: "192.0.2.1",
        statsPort: "6401",
      }],
      [["session", "proxy", G, "-p", "6464"], { port: "6464" }],
      [["session", "proxy", "--", G], {}],
      // Everything at once, and joold's own spelling of the same line.
      [[
        "-i",
        "nat64a",
        "session",
        "proxy",
        "-i",
        "eth1",
        "-o",
        "eth2",
        "-p",
        "6464",
        "-t",
        "2",
        "--stats.address=::1",
        "--stats.port=7000",
        G,
      ], {
        instance: "nat64a",
        devIn: "eth1",
        devOut: "eth2",
        port: "6464",
        ttl: 2,
        statsAddress: "::1",
        statsPort: "7000",
      }],
      [["-i", "nat64a", "proxy", "-i", "eth1", G], { instance: "nat64a", devIn: "eth1" }],
      [["proxy", "--instance=nat64a", "-i", "eth1", G], { instance: "nat64a", devIn: "eth1" }],
      [["-f", file, "proxy", G], { instance: "fromfile" }],
    ];
    for (const [args, meaning] of cases) {
      assert.deepEqual(
        await proxyOptionsOf(args),
        { ...JOOL_DEFAULTS, ...meaning },
        args.join(" "),
      );
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("Jool's forms: session follow is jool's (ACKs, jool lines); other modes are named", () => {
  assert.deepEqual(findCommand(["session", "follow"]), {
    name: "follow",
    args: ["--ack", "--format=jool"],
  });
  assert.deepEqual(findCommand(["follow", "--json"]), { name: "follow", args: ["--json"] });
  assert.deepEqual(findCommand(["session", "advertise"]), { name: "advertise", args: [] });
  assert.deepEqual(findCommand(["joold", "advertise"]), { name: "advertise", args: [] });
  assert.equal(findCommand(["netsocket.json"]), null);
  assert.throws(
    () => findCommand(["session", "display"]),
    (error) =>
      error instanceof CommandLineError &&
      error.message === "session display: joold has session proxy, session follow and " +
          "session advertise",
  );
});

/** Runs joold in this process; returns its status, stdout and stderr. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => out.push(parts.join(" ") + "\n");
  console.error = (...parts: unknown[]) => err.push(parts.join(" ") + "\n");
  try {
    const code = await runJoold(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("every bad argument, of joold and of each command, is one line naming it, status 2", async () => {
  const cases: [string[], string][] = [
    [["--frobnicate"], "joold: Unknown option '--frobnicate'."],
    [["-x"], "joold: Unknown option '-x'."],
    [["a", "b", "1", "extra"], "joold: too many arguments: extra"],
    [["--log-level", "loud"], "joold: --log-level: must be error, warning, info or debug"],
    [["--metrics-port", "0"], "joold: --metrics-port: must be a port number from 1 to 65535"],
    [["--metrics-port", "http"], "joold: --metrics-port: must be a port number"],
    [["--stats-address", "localhost"], "joold: --stats-address: must be an IPv4 or IPv6"],
    [["--metrics-address", "::g"], "joold: --metrics-address: must be an IPv4 or IPv6"],
    [["-i", "nat64a"], "joold: -i/--instance and -f/--file go before advertise, proxy, follow or"],
    [["-i"], "joold: Option '--instance <value>' argument missing"],
    [["session", "display"], "joold: session display: joold has session proxy"],
    [["check", "--bogus"], "joold check: Unknown option '--bogus'."],
    [["check", "a", "b", "c"], "joold check: too many arguments: c"],
    [["check", "--log-level=x"], "joold check: --log-level: must be error, warning, info or debug"],
    [["-i", "x", "check"], "joold check: -i/--instance and -f/--file do not go with this command"],
    [["advertise", "--bogus"], "joold advertise: Unknown option '--bogus'."],
    [["advertise", "a", "b"], "joold advertise: too many arguments: b"],
    [["advertise", "-i", "x", "mod.json"], "joold advertise: the instance is MODSOCKET's"],
    [["advertise", "-i", "0123456789abcdef"], "joold advertise: --instance: must be at most 15"],
    [["-f", "/nonexistent/instance.json", "advertise"], "joold advertise: --file: "],
    [["keygen"], "joold keygen: FILE is required"],
    [["keygen", "a", "b"], "joold keygen: too many arguments: b"],
    [["keygen", "--bogus", "a"], "joold keygen: Unknown option '--bogus'."],
    [["proxy", "--bogus", "ff08::1"], "joold proxy: Unknown option '--bogus'."],
    [["proxy", "--net.ttl=300", "ff08::1"], "joold proxy: --net.ttl: must be an integer"],
    [["session", "proxy"], "joold proxy: MCAST_ADDRESS is missing"],
    [["follow", "--bogus"], "joold follow: Unknown option '--bogus'."],
    [["status", "--bogus"], "joold status: Unknown option '--bogus'."],
    [["status", "extra"], "joold status: unexpected argument: extra"],
    [["keygen", "--group"], "joold keygen: Option '--group <value>' argument missing"],
    [["--group", "daemon", "net.json"], "joold: --group is an option of joold keygen only"],
    [["follow", "--format=xml"], "joold follow: --format: must be text, json, csv or jool"],
  ];
  for (const [args, start] of cases) {
    const { code, stdout, stderr } = await run(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "", args.join(" "));
    assert.equal(stderr.split("\n").length, 2, `${args.join(" ")}: one line, got ${stderr}`);
    assert.ok(stderr.startsWith(start), `${args.join(" ")}: ${stderr}`);
  }
});

Deno.test("each command's --help is its own", async () => {
  const helps: [string[], string][] = [
    [["--help"], DAEMON_USAGE],
    [["-h"], DAEMON_USAGE],
    [["check", "--help"], CHECK_USAGE],
    [["check", "-h"], CHECK_USAGE],
    [["advertise", "--help"], ADVERTISE_USAGE],
    [["-i", "x", "advertise", "-h"], ADVERTISE_USAGE],
    [["keygen", "--help"], KEYGEN_USAGE],
    [["proxy", "--help"], PROXY_USAGE],
    [["session", "proxy", "-h"], PROXY_USAGE],
    [["follow", "--help"], FOLLOW_USAGE],
    [["status", "--help"], STATUS_USAGE],
    [["--log-level", "debug", "check", "--help"], CHECK_USAGE],
  ];
  for (const [args, usage] of helps) {
    const { code, stdout, stderr } = await run(args);
    assert.equal(code, 0, args.join(" "));
    assert.equal(stderr, "", args.join(" "));
    assert.equal(stdout, `${usage}\n`, args.join(" "));
  }
  for (const [name, command] of Object.entries(COMMANDS)) {
    assert.ok(command.usage.split("\n")[0].includes(` ${name} `), name);
  }
});

Deno.test("the daemon's flags are checked when parsed, not when the daemon starts", () => {
  const parsed = parseDaemonArguments([
    "--metrics-port=9100",
    "--stats-address",
    "192.0.2.1",
    "--metrics-address=::1",
    "net.json",
    "mod.json",
    "45678",
  ]);
  assert.equal(parsed.metricsPort, "9100");
  assert.equal(parsed.statsAddress, "192.0.2.1");
  assert.equal(parsed.metricsAddress, "::1");
  assert.deepEqual(parsed.operands, ["net.json", "mod.json", "45678"]);
  assert.equal(parsed.level, "info");
});

/** The options a --help lists: `-x` and `--long` at the start of its lines. */
function helpOptions(usage: string): string[] {
  const options = new Set<string>();
  for (const line of usage.split("\n")) {
    const match = line.match(/^\s+((?:-[a-zA-Z], )?--[a-z][a-z0-9.-]*)/);
    if (match === null) continue;
    for (const option of match[1].split(", ")) options.add(option);
  }
  return [...options];
}

/** Whether `text` names `option` (`-i` is not found in `--instance`). */
function mentions(text: string, option: string): boolean {
  const escaped = option.replaceAll(".", "\\.");
  return new RegExp(`(^|[^-a-z.])${escaped}(?![a-z0-9.-])`, "m").test(text);
}

/** The man page as text: roff's `\-` as `-`, fonts and quotes dropped. */
async function manPageText(): Promise<string> {
  const roff = await Deno.readTextFile(new URL("../../packaging/joold.8", import.meta.url));
  return roff.replaceAll("\\-", "-").replaceAll(/\\f[BIRP]/g, "").replaceAll('"', "");
}

/** The paragraph of joold(8) about `command`: from its `.BI/.B command` to the next one. */
function commandSection(man: string, command: string): string {
  const lines = man.slice(man.indexOf("\n.SH COMMANDS")).split("\n");
  const start = lines.findIndex((line) => new RegExp(`^\\.BI? ${command}\\b`).test(line));
  assert.notEqual(start, -1, `joold(8) has no paragraph on ${command}`);
  // It ends at the next paragraph of its level: `.RS`/`.RE` hold the command's own items.
  let depth = 0;
  let end = start + 1;
  for (; end < lines.length; end++) {
    if (lines[end].startsWith(".RS")) depth++;
    else if (lines[end].startsWith(".RE")) depth--;
    else if (depth === 0 && /^\.(TP|SH)/.test(lines[end])) break;
  }
  return lines.slice(start, end).join("\n");
}

Deno.test("joold(8) documents every option that each --help shows", async () => {
  const man = await manPageText();
  const options = man.slice(man.indexOf("\n.SH OPTIONS"), man.indexOf("\n.SH LOGGING"));
  for (const option of helpOptions(DAEMON_USAGE)) {
    const [short, long] = option.includes(", ") ? option.split(", ") : [null, option];
    assert.ok(mentions(options, long), `joold(8) OPTIONS lacks ${long}`);
    if (short !== null) assert.ok(mentions(options, short), `joold(8) OPTIONS lacks ${short}`);
  }
  for (const [name, command] of Object.entries(COMMANDS)) {
    const section = commandSection(man, name);
    for (const option of helpOptions(command.usage)) {
      assert.ok(
        mentions(section, option) || mentions(options, option),
        `joold(8) on ${name} (or its OPTIONS) lacks ${option}`,
      );
    }
  }
  assert.ok(helpOptions(FOLLOW_USAGE).includes("-i"));
  assert.ok(helpOptions(FOLLOW_USAGE).includes("--log-level"));
});
