/**
 * `joold check` on fake machines: each kind of failure gives its own line,
 * makes the items that depend on it `skip`, and exit status 1.
 */

import assert from "node:assert/strict";
import { ssEnableCommand } from "../jool/cli_hint.ts";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import { parseKeyFile } from "../auth/key_file.ts";
import { parseNetsocketConfig } from "../config/netsocket.ts";
import { JoolModuleMissingError, KernelRefusalError } from "../sync/kernel_errors.ts";
import { check, type CheckOptions, type CheckProbes, formatCheckItem } from "./check.ts";
import { fakeEnvironment, fakeModsocketLoader } from "../../tests/support/fake_environment.ts";

const NETSOCKET = JSON.stringify({
  "multicast address": "ff08::db8:64:64",
  "multicast port": "6464",
  "in interface": "eth0",
  "out interface": "eth0",
  "ttl": 3,
});

const SS_DISABLED = "Session sync is disabled on this instance.";

/** What differs from a machine where everything works. */
interface Machine {
  netsocket?: string;
  /** Modsocket file text; null: the file is absent. */
  modsocket?: string | null;
  netAdmin?: boolean | null;
  moduleLoaded?: boolean;
  instanceExists?: boolean | Error;
  probeError?: Error;
  /** Ports whose multicast socket cannot be opened. */
  socketErrors?: Map<number, Error>;
  /** The key file's text, if "auth key file" is set. */
  keyFile?: string;
  /** Unicast peers (as written) that have a route, and the local address towards them. */
  routes?: Map<string, string>;
}

interface Run {
  code: number;
  lines: string[];
  /** Kernel links opened and closed, for leak checks. */
  opened: number;
  closed: number;
}

const OPTIONS: CheckOptions = {
  netsocketFile: "netsocket.json",
  modsocketFile: "modsocket.json",
  modsocketDefaulted: false,
};

async function runOn(machine: Machine, options = OPTIONS): Promise<Run> {
  const env = fakeEnvironment();
  let opened = 0;
  let closed = 0;
  const probes: CheckProbes = {
    loadNetsocket: (file) =>
      Promise.resolve().then(() => parseNetsocketConfig(machine.netsocket ?? NETSOCKET, file, env)),
    loadModsocket: fakeModsocketLoader(
      machine.modsocket === undefined ? '{ "instance": "default" }' : machine.modsocket,
    ),
    netAdmin: () => Promise.resolve(machine.netAdmin === undefined ? true : machine.netAdmin),
    openKernel: () => {
      if (machine.moduleLoaded === false) return Promise.reject(new JoolModuleMissingError());
      opened++;
      return Promise.resolve({
        familyId: 33,
        instanceExists: () => {
          const exists = machine.instanceExists ?? true;
          return exists instanceof Error ? Promise.reject(exists) : Promise.resolve(exists);
        },
        probe: () =>
          machine.probeError === undefined ? Promise.resolve() : Promise.reject(machine.probeError),
        close: () => {
          closed++;
        },
      });
    },
    openMulticast: (_config, port) => {
      const error = machine.socketErrors?.get(port);
      if (error !== undefined) throw error;
    },
    openUnicast: (_config, port) => {
      const error = machine.socketErrors?.get(port);
      if (error !== undefined) throw error;
    },
    loadKeys: (keyFile) =>
      machine.keyFile === undefined
        ? Promise.reject(new Error("no key file in this test"))
        : Promise.resolve().then(() => parseKeyFile(machine.keyFile!, keyFile)),
    routeTo: (_config, peer) => {
      const route = machine.routes?.get(peer.text);
      if (route === undefined) {
        throw new SyscallError(
          `connect(${peer.text})`,
          Errno.ENETUNREACH,
          "Network is unreachable",
        );
      }
      return route;
    },
  };
  const printed: string[] = [];
  const code = await check(options, probes, (text) => printed.push(text));
  assert.equal(printed.length, 1);
  return { code, lines: printed[0].split("\n"), opened, closed };
}

const ALL_OK = [
  "ok    netsocket: netsocket.json: ff08::db8:64:64 port 6464, in eth0, out eth0, ttl 3, control port 6465",
  "ok    modsocket: modsocket.json: instance 'default'",
  "ok    privileges: CAP_NET_ADMIN is in effect",
  "ok    Jool module: loaded (Generic Netlink family Jool, id 33)",
  "ok    instance 'default': exists in this network namespace",
  "ok    session sync: ss-enabled is on: the instance accepts sessions",
  "ok    multicast socket: joined ff08::db8:64:64 port 6464",
  "ok    control socket: joined ff08::db8:64:64 port 6465",
];

/** ALL_OK with some lines replaced (by index) and the closing line. */
function expect(replacements: Record<number, string>, summary: string): string[] {
  return [...ALL_OK.map((line, i) => replacements[i] ?? line), summary];
}

Deno.test("check: a machine where everything works exits 0", async () => {
  const run = await runOn({});
  assert.deepEqual(run.lines, [...ALL_OK, "no problems found"]);
  assert.equal(run.code, 0);
  assert.deepEqual([run.opened, run.closed], [1, 1]);
});

Deno.test("check: each failure kind gives its own line, skips what depends on it, exits 1", async () => {
  const table: Array<[string, Machine, string[]]> = [
    [
      "missing module",
      { moduleLoaded: false },
      expect({
        3: "FAIL  Jool module: not loaded in this network namespace (try `modprobe jool`)",
        4: "skip  instance 'default': needs the Jool module",
        5: "skip  session sync: needs the instance",
      }, "1 problem found"),
    ],
    [
      "missing instance",
      { instanceExists: false },
      expect({
        4: "FAIL  instance 'default': does not exist in this network namespace " +
          "(create it with `jool instance add`, or run joold in the instance's network namespace)",
        5: "skip  session sync: needs the instance",
      }, "1 problem found"),
    ],
    [
      "SS off and the daemon told not to enable it",
      {
        modsocket: '{ "instance": "default", "enable ss": false }',
        probeError: new KernelRefusalError("Checking the Jool instance", 22, SS_DISABLED),
      },
      expect({
        1: `ok    modsocket: modsocket.json: instance 'default', "enable ss": false`,
        5: `FAIL  session sync: the kernel says "${SS_DISABLED}"; enable it with ` +
          '`jool global update ss-enabled true`, or set "enable ss": true in modsocket.json ' +
          "to let the daemon do it",
      }, "1 problem found"),
    ],
    [
      "bad interface",
      { netsocket: NETSOCKET.replace('"in interface":"eth0"', '"in interface":"eth9"') },
      expect({
        0: 'FAIL  netsocket: netsocket.json: "in interface": ' +
          'no interface in this network namespace is called "eth9"',
        6: "skip  multicast socket: needs a valid netsocket file",
        7: "skip  control socket: needs a valid netsocket file",
      }, "1 problem found"),
    ],
    [
      "no CAP_NET_ADMIN",
      { netAdmin: false },
      expect({
        2: "FAIL  privileges: CAP_NET_ADMIN is not in effect, and Jool refuses session sync " +
          "requests without it (run as root, or with AmbientCapabilities=CAP_NET_ADMIN under systemd)",
      }, "1 problem found"),
    ],
    [
      "the kernel refuses the instance look-up",
      { instanceExists: new KernelRefusalError("Looking up the Jool instance", 1, "Nope.") },
      expect({
        4: "FAIL  instance 'default': the kernel says: Nope. (error 1)",
        5: "skip  session sync: needs the instance",
      }, "1 problem found"),
    ],
    [
      "the kernel refuses sessions for another reason",
      {
        probeError: new KernelRefusalError(
          "Checking the Jool instance",
          95,
          "SIIT has no sessions.",
        ),
      },
      expect({
        5: "FAIL  session sync: the kernel says: SIIT has no sessions. (error 95)",
      }, "1 problem found"),
    ],
    [
      "the multicast sockets cannot be opened",
      {
        socketErrors: new Map([
          [6464, new SyscallError("bind(ff08::db8:64:64 port 6464)", 99, "Cannot assign")],
          [6465, new SyscallError("setsockopt(IPV6_ADD_MEMBERSHIP)", 19, "No such device")],
        ]),
      },
      expect({
        6: "FAIL  multicast socket: bind(ff08::db8:64:64 port 6464) failed: " +
          "EADDRNOTAVAIL (Cannot assign)",
        7: "FAIL  control socket: setsockopt(IPV6_ADD_MEMBERSHIP) failed: ENODEV (No such device)",
      }, "2 problems found"),
    ],
    [
      "a bad modsocket file",
      { modsocket: '{ "instance": 7 }' },
      expect({
        1: 'FAIL  modsocket: modsocket.json: "instance": must be a string, got a number',
        4: "skip  instance: needs a valid modsocket file",
        5: "skip  session sync: needs the instance",
      }, "1 problem found"),
    ],
    [
      "an absent explicit modsocket file",
      { modsocket: null },
      expect({
        1: "FAIL  modsocket: modsocket.json: cannot read the file: No such file or directory",
        4: "skip  instance: needs a valid modsocket file",
        5: "skip  session sync: needs the instance",
      }, "1 problem found"),
    ],
  ];
  for (const [name, machine, lines] of table) {
    const run = await runOn(machine);
    assert.deepEqual(run.lines, lines, name);
    assert.equal(run.code, 1, name);
    assert.equal(run.closed, run.opened, `${name}: every kernel link is closed`);
  }
});

Deno.test("check: what is worth knowing but no problem exits 0", async () => {
  const table: Array<[string, Machine, CheckOptions, string[]]> = [
    [
      "SS off, and the daemon enables it",
      { probeError: new KernelRefusalError("Checking the Jool instance", 22, SS_DISABLED) },
      OPTIONS,
      expect({
        5: `warn  session sync: the kernel says "${SS_DISABLED}"; the daemon turns ss-enabled on ` +
          'when it starts ("enable ss" is true)',
      }, "no problems found"),
    ],
    [
      "resync disabled, kernel-chosen interfaces",
      {
        netsocket: JSON.stringify({
          "multicast address": "233.252.0.64",
          "multicast port": "joold-sync",
          "control port": false,
        }),
      },
      OPTIONS,
      expect({
        0: "ok    netsocket: netsocket.json: 233.252.0.64 port 6464, in chosen by the kernel, " +
          "out chosen by the kernel, ttl 1, no control port",
        6: "ok    multicast socket: joined 233.252.0.64 port 6464",
        7: 'skip  control socket: "control port" is false: no resync between our daemons',
      }, "no problems found"),
    ],
    [
      "an IPv4 group with interface addresses",
      {
        netsocket: JSON.stringify({
          "multicast address": "233.252.0.64",
          "multicast port": 6464,
          "in interface": "192.0.2.1",
          "control port": 7000,
        }),
      },
      OPTIONS,
      expect({
        0: "ok    netsocket: netsocket.json: 233.252.0.64 port 6464, in 192.0.2.1 (eth0), " +
          "out 192.0.2.1 (eth0), ttl 1, control port 7000",
        6: "ok    multicast socket: joined 233.252.0.64 port 6464",
        7: "ok    control socket: joined 233.252.0.64 port 7000",
      }, "no problems found"),
    ],
    [
      "unknown keys, no modsocket file by default, capabilities unknown",
      { netsocket: NETSOCKET.replace("{", '{"tll": 3,'), modsocket: null, netAdmin: null },
      { ...OPTIONS, modsocketDefaulted: true },
      [
        ALL_OK[0],
        'warn  netsocket: netsocket.json: unknown key "tll" ignored (did you mean "ttl"?)',
        "ok    modsocket: no modsocket.json, so the default instance 'default'",
        "skip  privileges: cannot read the capabilities from /proc/self/status",
        ...ALL_OK.slice(3),
        "no problems found",
      ],
    ],
  ];
  for (const [name, machine, options, lines] of table) {
    const run = await runOn(machine, options);
    assert.deepEqual(run.lines, lines, name);
    assert.equal(run.code, 0, name);
  }
});

Deno.test("check: a non-default instance is named, and selected in the SS hint", async () => {
  const run = await runOn({
    modsocket: '{ "instance": "nat64 b", "enable ss": false }',
    probeError: new KernelRefusalError("Checking the Jool instance", 22, SS_DISABLED),
  });
  assert.equal(
    run.lines[5],
    `FAIL  session sync: the kernel says "${SS_DISABLED}"; enable it with ` +
      "`jool -i 'nat64 b' global update ss-enabled true`, or set \"enable ss\": true in " +
      "modsocket.json to let the daemon do it",
  );
  assert.equal(run.lines[4], "ok    instance 'nat64 b': exists in this network namespace");
  assert.equal(ssEnableCommand("default"), "jool global update ss-enabled true");
  assert.equal(ssEnableCommand("alpha"), "jool -i alpha global update ss-enabled true");
  assert.equal(ssEnableCommand("it's"), "jool -i 'it'\\''s' global update ss-enabled true");
});

Deno.test("formatCheckItem: the verdict takes six columns", () => {
  assert.equal(formatCheckItem({ verdict: "ok", subject: "a", detail: "b" }), "ok    a: b");
  assert.equal(formatCheckItem({ verdict: "FAIL", subject: "a", detail: "b" }), "FAIL  a: b");
  assert.equal(formatCheckItem({ verdict: "skip", subject: "a", detail: "b" }), "skip  a: b");
  assert.equal(formatCheckItem({ verdict: "warn", subject: "a", detail: "b" }), "warn  a: b");
});

Deno.test("check: the key file and each unicast peer get a line; no route is a problem", async () => {
  const netsocket = JSON.stringify({
    "multicast address": "233.252.0.64",
    "multicast port": 6464,
    "auth key file": "/etc/joold/keys",
    "unicast peers": ["192.0.2.2", "192.0.2.3:7000"],
  });
  const key = "key 1 " + "ab".repeat(32);
  const good = await runOn({
    netsocket,
    keyFile: `${key} current\nkey 2 ${"cd".repeat(32)} next\n`,
    routes: new Map([["192.0.2.2", "192.0.2.1"], ["192.0.2.3:7000", "192.0.2.1"]]),
  });
  assert.deepEqual(good.lines.slice(0, 1).concat(good.lines.slice(3, 6), good.lines.slice(9)), [
    "ok    netsocket: netsocket.json: 233.252.0.64 port 6464, in chosen by the kernel, " +
    "out chosen by the kernel, ttl 1, control port 6465, unicast to 192.0.2.2, 192.0.2.3:7000, " +
    "authenticated",
    "ok    auth key file: /etc/joold/keys: sends with key 1, accepts keys 1 and 2",
    "ok    unicast peer 192.0.2.2: reachable from 192.0.2.1, port 6464",
    "ok    unicast peer 192.0.2.3:7000: reachable from 192.0.2.1, port 7000",
    "ok    multicast socket: bound port 6464 for the unicast peers (the group is not joined)",
    "ok    control socket: bound port 6465 for the unicast peers (the group is not joined)",
    "no problems found",
  ]);
  assert.equal(good.code, 0);

  const bad = await runOn({
    netsocket,
    keyFile: "key 1 abcd\n",
    routes: new Map([["192.0.2.2", "192.0.2.1"]]),
  });
  assert.deepEqual(bad.lines.filter((line) => line.startsWith("FAIL")), [
    "FAIL  auth key file: /etc/joold/keys:1: key 1: too short (2 bytes, needs 32: 64 hex digits; " +
    "make one with joold keygen)",
    "FAIL  unicast peer 192.0.2.3:7000: connect(192.0.2.3:7000) failed: " +
    "ENETUNREACH (Network is unreachable)",
  ]);
  assert.equal(bad.code, 1);
});

Deno.test("check: a sealed configuration without a control port fails its key file line", async () => {
  const result = await runOn({
    netsocket: JSON.stringify({
      "multicast address": "233.252.0.64",
      "multicast port": 6464,
      "control port": false,
      "auth key file": "/etc/joold/keys",
    }),
    keyFile: `key 1 ${"ab".repeat(32)}\n`,
  });
  assert.deepEqual(result.lines.filter((line) => line.startsWith("FAIL")), [
    'FAIL  auth key file: netsocket.json: "auth key file": needs the control port (peers prove ' +
    'over it that they are live); drop "control port": false',
  ]);
  assert.equal(result.code, 1);
});
