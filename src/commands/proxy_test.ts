import assert from "node:assert/strict";
import { CommandLineError } from "../command_line.ts";
import type { NetworkEnvironment } from "../config/environment.ts";
import {
  parseProxyArguments,
  PROXY_SOURCE,
  proxyModsocket,
  proxyNetsocket,
  type ProxyOptions,
  proxyStatsAddress,
} from "./proxy.ts";

/** A machine with eth1 (index 3, 192.0.2.1) and the service "jool-sync" on 6464. */
const ENV: NetworkEnvironment = {
  interfaceIndex: (name) => name === "eth1" ? 3 : 0,
  interfaceAddresses: () => [{ name: "eth1", family: 2, address: Uint8Array.of(192, 0, 2, 1) }],
  resolveService: (name) => name === "jool-sync" ? 6464 : null,
};

const DEFAULTS: ProxyOptions = {
  instance: "default",
  group: "ff08::db8:64:64",
  port: "6400",
  devIn: null,
  devOut: null,
  ttl: 1,
  statsPort: null,
  statsAddress: null,
  controlPort: null,
  metricsPort: null,
  logLevel: "info",
  syslog: false,
  help: false,
};

Deno.test("joold proxy: jool session proxy's defaults (4.1.15)", () => {
  assert.deepEqual(parseProxyArguments(["ff08::db8:64:64"]), DEFAULTS);
});

Deno.test("joold proxy: every flag, long and short, = or separate", () => {
  const cases: [string[], Partial<ProxyOptions>][] = [
    [["-i", "eth1"], { devIn: "eth1" }],
    [["--instance=nat64a"], { instance: "nat64a" }],
    [["--net.dev.in=eth1"], { devIn: "eth1" }],
    [["--net.dev.in", "eth1"], { devIn: "eth1" }],
    [["--net.dev.out=eth1"], { devOut: "eth1" }],
    [["-o", "eth1"], { devOut: "eth1" }],
    [["--net.mcast.port=6464"], { port: "6464" }],
    [["-p", "jool-sync"], { port: "jool-sync" }],
    [["--net.ttl=0"], { ttl: 0 }],
    [["-t", "255"], { ttl: 255 }],
    // Either stats flag turns the stats server on; the other takes Jool's default.
    [["--stats.port=7000"], { statsPort: "7000", statsAddress: null }],
    [["--stats.address=192.0.2.1"], { statsPort: "6401", statsAddress: "192.0.2.1" }],
    [["--stats.address=::"], { statsPort: "6401", statsAddress: null }],
    [["--stats.address=2001:db8::1", "--stats.port=7"], {
      statsPort: "7",
      statsAddress: "2001:db8::1",
    }],
    [["--control-port=6500"], { controlPort: "6500" }],
    [["--metrics-port=9100"], { metricsPort: "9100" }],
    [["--log-level=debug"], { logLevel: "debug" }],
    [["--syslog"], { syslog: true }],
  ];
  for (const [flags, expected] of cases) {
    assert.deepEqual(
      parseProxyArguments([...flags, "ff08::db8:64:64"]),
      { ...DEFAULTS, ...expected },
      flags.join(" "),
    );
  }
  assert.equal(parseProxyArguments(["--help"]).help, true);
});

Deno.test("joold proxy: bad values are one line naming the flag", () => {
  const cases: [string[], string][] = [
    [[], "MCAST_ADDRESS is missing (the group, e.g. ff08::db8:64:64)"],
    [["ff08::1", "ff08::2"], "too many arguments: ff08::2"],
    [["--net.ttl=256", "ff08::1"], "--net.ttl: must be an integer from 0 to 255, got '256'"],
    [["--net.ttl=-1", "ff08::1"], "--net.ttl: must be an integer from 0 to 255, got '-1'"],
    [["-t", "x", "ff08::1"], "--net.ttl: must be an integer from 0 to 255, got 'x'"],
    [
      ["--net.mcast.port=0", "ff08::1"],
      "--net.mcast.port: must be a port number from 1 to 65535, got '0'",
    ],
    [
      ["--net.mcast.port=", "ff08::1"],
      "--net.mcast.port: must be a port number from 1 to 65535 or a service name, got ''",
    ],
    [
      ["--stats.port=70000", "ff08::1"],
      "--stats.port: must be a port number from 1 to 65535, got '70000'",
    ],
    [["--stats.address=", "ff08::1"], "--stats.address: must not be empty"],
    [
      ["--metrics-port=http", "ff08::1"],
      "--metrics-port: must be a port number from 1 to 65535, got 'http'",
    ],
    [
      ["--instance", "a-name-too-long-for-jool", "ff08::1"],
      "--instance: must be at most 15 characters long, got 24 ('a-name-too-long-for-jool')",
    ],
    [["--instance=", "ff08::1"], "--instance: must not be empty"],
    [
      ["--log-level=loud", "ff08::1"],
      "--log-level: must be error, warning, info or debug, got 'loud'",
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseProxyArguments(args),
      (error) => error instanceof CommandLineError && error.message === message,
      args.join(" "),
    );
    assert.ok(!message.includes("\n"));
  }
  assert.throws(
    () => parseProxyArguments(["--net.mcast.address=ff08::1"]),
    /^CommandLineError: Unknown option '--net.mcast.address'/,
  );
  assert.throws(
    () => parseProxyArguments(["--net.ttl"]),
    /Option '--net.ttl <value>' argument missing/,
  );
});

Deno.test("joold proxy: the flags make the netsocket a file would", () => {
  const { config } = proxyNetsocket(
    parseProxyArguments([
      "--net.dev.in=192.0.2.1",
      "--net.dev.out=192.0.2.1",
      "-p",
      "jool-sync",
      "-t",
      "3",
      "233.252.0.64",
    ]),
    ENV,
  );
  assert.equal(config.file, PROXY_SOURCE);
  assert.equal(config.family, "ipv4");
  assert.equal(config.address, "233.252.0.64");
  assert.equal(config.port, 6464);
  assert.deepEqual(config.inInterface?.kind, "address");
  assert.equal(config.inInterface?.kind === "address" && config.inInterface.name, "eth1");
  assert.equal(config.ttl, 3);
  assert.equal(config.controlPort, null);
  const ipv6 = proxyNetsocket(
    parseProxyArguments(["--net.dev.in=eth1", "--control-port=6401", "ff08::db8:64:64"]),
    ENV,
  ).config;
  assert.deepEqual(ipv6.inInterface, { kind: "name", text: "eth1", index: 3 });
  assert.equal(ipv6.port, 6400);
  assert.equal(ipv6.controlPort, 6401);
});

Deno.test("joold proxy: what the machine refuses is one line naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["192.0.2.1"], /^MCAST_ADDRESS: must be a multicast address/],
    [["ff08::1/64"], /^MCAST_ADDRESS: must be one address, not a prefix/],
    [["--net.dev.in=eth9", "ff08::1"], /^--net\.dev\.in: /],
    [["--net.dev.out=eth9", "ff08::1"], /^--net\.dev\.out: /],
    [["-p", "no-such-service", "ff08::1"], /^--net\.mcast\.port: /],
    [
      ["--control-port=6400", "ff08::1"],
      /^--control-port: must differ from "multicast port" \(6400\)$/,
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => proxyNetsocket(parseProxyArguments(args), ENV),
      (error) =>
        error instanceof CommandLineError && message.test(error.message) &&
        !error.message.includes("\n"),
      args.join(" "),
    );
  }
});

Deno.test("joold proxy: the instance, with the daemon's defaults", () => {
  const { config } = proxyModsocket(parseProxyArguments(["ff08::1"], "nat64b"));
  assert.equal(config.instance, "nat64b");
  assert.equal(config.enableSs, true);
});

Deno.test("joold proxy --stats.address: a host name is resolved, as Jool's getaddrinfo() does", () => {
  const hosts: Record<string, Uint8Array> = {
    localhost: Uint8Array.of(127, 0, 0, 1),
    anywhere: new Uint8Array(16),
  };
  const resolve = (name: string) => hosts[name] ?? "Name or service not known";
  assert.equal(proxyStatsAddress(null, resolve), null);
  assert.equal(proxyStatsAddress("2001:db8::1", resolve), "2001:db8::1");
  assert.equal(proxyStatsAddress("localhost", resolve), "127.0.0.1");
  assert.equal(proxyStatsAddress("anywhere", resolve), null, "the wildcard: every address");
  assert.throws(
    () => proxyStatsAddress("nosuchhost", resolve),
    (error) =>
      error instanceof CommandLineError &&
      error.message === "--stats.address: cannot resolve 'nosuchhost': Name or service not known",
  );
});
