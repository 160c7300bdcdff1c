/**
 * `joold check` and `joold advertise` as processes on the host, whose
 * kernel has no Jool module, and the commands' kernel link against the
 * host's real Generic Netlink.
 */

import assert from "node:assert/strict";
import { openRequestLink, withSystem } from "../../src/commands/system.ts";
import { silentLogger } from "../../src/log.ts";
import { JoolModuleMissingError } from "../../src/sync/kernel_errors.ts";
import { joold, joolLoaded } from "./joold_process.ts";

const hostWithoutJool = !joolLoaded() && Deno.build.os === "linux";
if (!hostWithoutJool) console.error("host command tests skipped: they need Linux without Jool");

async function inDirectory(
  files: Record<string, unknown>,
  use: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "joold-check-" });
  try {
    for (const [name, content] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, JSON.stringify(content));
    }
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const NETSOCKET = {
  "multicast address": "ff08::db8:64:64",
  "multicast port": 46464,
  "in interface": "lo",
  ttl: 3,
};

Deno.test({
  name: "check on the host: the Jool module FAILs, its dependants skip, exit 1",
  ignore: !hostWithoutJool,
  fn: async () => {
    await inDirectory({ "netsocket.json": NETSOCKET }, async (dir) => {
      const outcome = await joold(["check"], dir);
      assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
      const lines = outcome.stdout.trimEnd().split("\n");
      assert.equal(
        lines[0],
        "ok    netsocket: netsocket.json: ff08::db8:64:64 port 46464, in lo, out lo, ttl 3, " +
          "control port 46465",
      );
      assert.equal(
        lines[1],
        "ok    modsocket: no modsocket.json, so the default instance 'default'",
      );
      assert.ok(
        lines.includes(
          "FAIL  Jool module: not loaded in this network namespace (try `modprobe jool`)",
        ),
        outcome.stdout,
      );
      // Run with the executable's flags, under which Deno refuses /proc: read through libc.
      if (Deno.uid() === 0) {
        assert.ok(lines.includes("ok    privileges: CAP_NET_ADMIN is in effect"), outcome.stdout);
      }
      assert.ok(lines.includes("skip  instance 'default': needs the Jool module"));
      assert.ok(lines.includes("skip  session sync: needs the instance"));
      assert.ok(lines.includes("ok    multicast socket: joined ff08::db8:64:64 port 46464"));
      assert.ok(lines.includes("ok    control socket: joined ff08::db8:64:64 port 46465"));
      assert.match(lines.at(-1)!, /^\d+ problems? found$/);
      assert.equal(outcome.stderr, "");
    });
  },
});

Deno.test({
  name: "check on the host: a bad interface FAILs the netsocket line",
  ignore: !hostWithoutJool,
  fn: async () => {
    await inDirectory({
      "net.json": { ...NETSOCKET, "in interface": "joold-nope0" },
      "mod.json": { instance: "alpha" },
    }, async (dir) => {
      const outcome = await joold(["check", "net.json", "mod.json"], dir);
      assert.equal(outcome.code, 1);
      const lines = outcome.stdout.trimEnd().split("\n");
      assert.equal(
        lines[0],
        'FAIL  netsocket: net.json: "in interface": ' +
          'no interface in this network namespace is called "joold-nope0"',
      );
      assert.equal(lines[1], "ok    modsocket: mod.json: instance 'alpha'");
      assert.ok(lines.includes("skip  multicast socket: needs a valid netsocket file"));
      assert.ok(lines.includes("skip  instance 'alpha': needs the Jool module"));
    });
  },
});

Deno.test({
  name: "advertise on the host: exit 1 naming the missing module",
  ignore: !hostWithoutJool,
  fn: async () => {
    await inDirectory({ "mod.json": { instance: "alpha" } }, async (dir) => {
      const outcome = await joold(["advertise", "mod.json"], dir);
      assert.equal(outcome.code, 1);
      assert.equal(outcome.stdout, "");
      assert.equal(
        outcome.stderr,
        "error: The Jool kernel module is not loaded in this network namespace: " +
          "Generic Netlink has no 'Jool' family (try `modprobe jool`)\n",
      );
    });
  },
});

Deno.test("commands: extra arguments are a usage error; help lists the commands", async () => {
  const dir = await Deno.makeTempDir({ prefix: "joold-check-" });
  try {
    const check = await joold(["check", "a", "b", "c"], dir);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /^joold check: too many arguments: c\n/);
    const advertise = await joold(["advertise", "a", "b"], dir);
    assert.equal(advertise.code, 2);
    assert.match(advertise.stderr, /^joold advertise: too many arguments: b\n/);
    const help = await joold(["--help"], dir);
    assert.match(help.stdout, /^ {7}joold check \[OPTIONS\] \[NETSOCKET\] \[MODSOCKET\]$/m);
    assert.match(help.stdout, /^ {7}joold advertise \[OPTIONS\] \[MODSOCKET\]$/m);
    assert.match(help.stdout, /^ {2}--syslog /m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function openDescriptors(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

Deno.test({
  name: "openRequestLink on the host's Generic Netlink: module missing, nothing left open",
  ignore: !hostWithoutJool,
  fn: async () => {
    const before = openDescriptors();
    await withSystem(silentLogger, async (tools) => {
      await assert.rejects(openRequestLink(tools, "default"), JoolModuleMissingError);
    });
    assert.equal(openDescriptors(), before);
  },
});
