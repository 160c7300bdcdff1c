/**
 * The daemon as a process on the host, whose kernel has no Jool module:
 * it must name the missing module and exit non-zero; bad command lines and
 * configs exit non-zero with one clear line.
 */

import assert from "node:assert/strict";
import { joold, joolLoaded } from "./joold_process.ts";

/** The time at the start of a log line off journald (UTC, ISO 8601). */
const STAMP = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

async function withConfigs(
  netsocket: unknown,
  modsocket: unknown,
  use: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "joold-host-" });
  try {
    await Deno.writeTextFile(`${dir}/netsocket.json`, JSON.stringify(netsocket));
    await Deno.writeTextFile(`${dir}/modsocket.json`, JSON.stringify(modsocket));
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GOOD_NETSOCKET = {
  "multicast address": "ff08::db8:64:64",
  "multicast port": "6464",
  "in interface": "lo",
  ttl: 3,
};

Deno.test({
  name: "without the Jool module the daemon exits non-zero naming the missing module",
  ignore: joolLoaded() || Deno.build.os !== "linux",
  fn: async () => {
    await withConfigs(GOOD_NETSOCKET, { instance: "default" }, async (dir) => {
      // The record of what an earlier run here printed: with it, an unchanged configuration
      // is not printed again.
      const namespace = (await Deno.readLink("/proc/self/ns/net")).replace(/\D/g, "");
      await Deno.remove(`/run/joold/default.net-${namespace}.printed`).catch(() => {});
      const outcome = await joold(["netsocket.json", "modsocket.json", "45678"], dir);
      assert.equal(outcome.code, 1);
      assert.match(
        outcome.stderr,
        new RegExp(
          `^${STAMP} error: The Jool kernel module is not loaded in this network namespace: ` +
            "Generic Netlink has no 'Jool' family",
          "m",
        ),
      );
      // It printed its effective configuration first.
      assert.match(outcome.stdout, /multicast address: ff08::db8:64:64 \(IPv6\)/);
      assert.match(outcome.stdout, /instance: +default/);
      assert.match(outcome.stdout, /stats port: +45678/);
    });
  },
});

Deno.test("defaults: netsocket.json and modsocket.json in the working directory", async () => {
  await withConfigs({ ...GOOD_NETSOCKET, ttl: 300 }, {}, async (dir) => {
    const outcome = await joold([], dir);
    assert.equal(outcome.code, 78);
    // Off journald, each line starts with the time, not a priority.
    assert.match(
      outcome.stderr,
      new RegExp(
        `^${STAMP} error: netsocket\\.json: "ttl": must be an integer from 0 to 255, got 300\n$`,
      ),
    );
  });
});

Deno.test("a bad modsocket file is one line naming file and key", async () => {
  await withConfigs(GOOD_NETSOCKET, { instance: "a-name-longer-than-15" }, async (dir) => {
    const outcome = await joold(["netsocket.json", "modsocket.json"], dir);
    assert.equal(outcome.code, 78);
    assert.match(outcome.stderr, new RegExp(`^${STAMP} error: modsocket\\.json: "instance": .*15`));
    assert.equal(outcome.stderr.trim().split("\n").length, 1);
  });
});

Deno.test("a bad stats port is refused before anything starts", async () => {
  await withConfigs(GOOD_NETSOCKET, {}, async (dir) => {
    const outcome = await joold(["netsocket.json", "modsocket.json", "70000"], dir);
    assert.equal(outcome.code, 78);
    assert.match(
      outcome.stderr,
      new RegExp(
        `^${STAMP} error: command line: "PORT": must be a port number from 1 to 65535, got '70000'\n$`,
      ),
    );
  });
});

Deno.test("a bad metrics port is refused before anything starts", async () => {
  await withConfigs(GOOD_NETSOCKET, {}, async (dir) => {
    for (const bad of ["0", "http", "65536"]) {
      const outcome = await joold(["--metrics-port", bad, "netsocket.json", "modsocket.json"], dir);
      // A bad flag is a usage error, as joold(8) says: one line, status 2.
      assert.equal(outcome.code, 2, bad);
      assert.equal(
        outcome.stderr,
        `joold: --metrics-port: must be a port number from 1 to 65535, got '${bad}'\n`,
      );
    }
  });
});

Deno.test("a bad stats address is refused before anything starts", async () => {
  await withConfigs(GOOD_NETSOCKET, {}, async (dir) => {
    for (const bad of ["localhost", "192.0.2.300", "::g"]) {
      const args = ["--stats-address", bad, "netsocket.json", "modsocket.json", "45678"];
      const outcome = await joold(args, dir);
      assert.equal(outcome.code, 2, bad);
      assert.equal(
        outcome.stderr,
        `joold: --stats-address: must be an IPv4 or IPv6 address, got '${bad}'\n`,
      );
    }
  });
});

Deno.test("command line: --help, --version, unknown option, too many arguments", async () => {
  const help = await joold(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: joold \[OPTIONS\] \[NETSOCKET\] \[MODSOCKET\] \[PORT\]/);
  const version = await joold(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^joold \d+\.\d+\.\d+ \(compatible with Jool 4\.1\.14 joold/);
  const unknown = await joold(["--frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^joold: Unknown option '--frobnicate'/);
  const extra = await joold(["a", "b", "1", "extra"]);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /^joold: too many arguments: extra/);
  const level = await joold(["--log-level", "loud"]);
  assert.equal(level.code, 2);
  assert.match(level.stderr, /^joold: --log-level: must be error, warning, info or debug/);
});
