/**
 * The auth and unicast configuration as processes run with the shipped
 * permissions (--allow-ffi --allow-read): `joold keygen` writes a 0600 key
 * file and never replaces one; the daemon refuses bad key files and peer
 * lists with one line and exit status 78 (before touching the kernel);
 * `joold check` reports the key file and each unicast peer.
 */

import assert from "node:assert/strict";
import { joold } from "./joold_process.ts";
import { withDaemonUser } from "./daemon_account.ts";

const linux = Deno.build.os === "linux";

async function inDirectory(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "joold-auth-" });
  try {
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GOOD_KEY = `key 1 ${"5a".repeat(32)}\n`;

Deno.test({
  name: "keygen: a 0600 key file the daemon accepts; an existing file is never replaced",
  ignore: !linux,
  fn: async () => {
    await inDirectory(async (dir) => {
      const made = await joold(["keygen", "keys"], dir);
      assert.equal(made.code, 0, made.stderr);
      assert.equal((await Deno.stat(`${dir}/keys`)).mode! & 0o777, 0o600);
      const text = await Deno.readTextFile(`${dir}/keys`);
      assert.match(text, /^key 1 [0-9a-f]{64} current$/m);
      const again = await joold(["keygen", "keys"], dir);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Cannot create the key file: open\(keys\) failed: EEXIST/);
      assert.equal(await Deno.readTextFile(`${dir}/keys`), text, "the first key is kept");
    });
  },
});

Deno.test({
  name: "the daemon: bad key files and peer lists are one line each and exit 78",
  ignore: !linux,
  fn: async () => {
    const base = { "multicast address": "233.252.0.64", "multicast port": 46464 };
    const cases: [string, Record<string, unknown>, string, number, RegExp][] = [
      [
        "readable by others",
        { ...base, "auth key file": "keys" },
        GOOD_KEY,
        0o644,
        /keys: is accessible to group or others \(mode 0644\); chmod 600 keys$/,
      ],
      [
        "too short",
        { ...base, "auth key file": "keys" },
        "key 1 00ff\n",
        0o600,
        /keys:1: key 1: too short \(2 bytes, needs 32: 64 hex digits; make one with joold keygen\)$/,
      ],
      [
        "missing",
        { ...base, "auth key file": "nokeys" },
        GOOD_KEY,
        0o600,
        /net\.json: "auth key file": cannot read .*nokeys: /,
      ],
      [
        "a peer of the other family",
        { ...base, "unicast peers": ["2001:db8::2"] },
        GOOD_KEY,
        0o600,
        /net\.json: "unicast peers": "2001:db8::2" is IPv6, but "multicast address" is IPv4/,
      ],
      [
        "a peer with a bad port",
        { ...base, "unicast peers": ["192.0.2.2:99999"] },
        GOOD_KEY,
        0o600,
        /net\.json: "unicast peers": "192\.0\.2\.2:99999": the port must be a port number from 1 to 65535, got "99999"$/,
      ],
    ];
    for (const [name, netsocket, key, mode, line] of cases) {
      await inDirectory(async (dir) => {
        await Deno.writeTextFile(`${dir}/net.json`, JSON.stringify(netsocket));
        await Deno.writeTextFile(`${dir}/keys`, key);
        await Deno.chmod(`${dir}/keys`, mode);
        const outcome = await joold(["net.json"], dir);
        assert.equal(outcome.code, 78, `${name}: ${outcome.stderr}`);
        const lines = outcome.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, `${name}: ${outcome.stderr}`);
        assert.match(lines[0], line, name);
      });
    }
  },
});

Deno.test({
  name: "check: the key file and the unicast peers, each on its own line",
  ignore: !linux,
  fn: async () => {
    await inDirectory(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/net.json`,
        JSON.stringify({
          "multicast address": "233.252.0.64",
          "multicast port": 46464,
          "auth key file": "keys",
          "unicast peers": ["127.0.0.2"],
        }),
      );
      await Deno.writeTextFile(`${dir}/keys`, GOOD_KEY);
      await Deno.chmod(`${dir}/keys`, 0o600);
      const outcome = await joold(["check", "net.json"], dir);
      const lines = outcome.stdout.split("\n");
      assert.ok(lines.includes("ok    auth key file: keys: sends with key 1"), outcome.stdout);
      assert.ok(
        lines.includes("ok    unicast peer 127.0.0.2: reachable from 127.0.0.1, port 46464"),
        outcome.stdout,
      );
      await Deno.chmod(`${dir}/keys`, 0o640);
      const loose = await joold(["check", "net.json"], dir);
      assert.equal(loose.code, 1);
      assert.ok(
        loose.stdout.includes(
          "FAIL  auth key file: keys: is accessible to group or others (mode 0640); chmod 600 keys",
        ),
        loose.stdout,
      );
    });
  },
});

const root = linux && Deno.uid() === 0;

Deno.test({
  name: "keygen --group: the key is that group's, mode 0640; a missing group is one line, exit 1",
  ignore: !root,
  fn: async () => {
    await inDirectory(async (dir) => {
      const made = await joold(["keygen", "--group", "daemon", "keys"], dir);
      assert.equal(made.code, 0, made.stderr);
      const info = await Deno.stat(`${dir}/keys`);
      assert.equal(info.mode! & 0o777, 0o640);
      assert.equal(info.uid, 0);
      const daemonGid = (await Deno.readTextFile("/etc/group")).match(/^daemon:[^:]*:(\d+):/m);
      assert.equal(info.gid, Number(daemonGid![1]));
      assert.match(made.stdout, /^Wrote keys: key 1 \(current\), group daemon, mode 0640; /);
      const missing = await joold(["keygen", "--group", "no-such-group-x", "other"], dir);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr.trim().replace(/^(<3>)?error: /, ""),
        "Cannot create the key file: --group no-such-group-x: no such group",
      );
      await assert.rejects(Deno.stat(`${dir}/other`), Deno.errors.NotFound);
      const misplaced = await joold(["--group", "daemon", "net.json"], dir);
      assert.equal(misplaced.code, 2);
      assert.match(misplaced.stderr, /^joold: --group is an option of joold keygen only$/m);
    });
  },
});

Deno.test({
  name: "check as root: the key file as the units' user joold would read it",
  ignore: !root,
  fn: async () => {
    await withDaemonUser(() =>
      inDirectory(async (dir) => {
        await Deno.chmod(dir, 0o755);
        await Deno.writeTextFile(
          `${dir}/net.json`,
          JSON.stringify({
            "multicast address": "233.252.0.64",
            "multicast port": 46464,
            "auth key file": `${dir}/keys`,
          }),
        );
        await Deno.writeTextFile(`${dir}/keys`, GOOD_KEY);
        await Deno.chmod(`${dir}/keys`, 0o600);
        const rootOnly = await joold(["check", "net.json"], dir);
        assert.equal(rootOnly.code, 1);
        assert.match(
          rootOnly.stdout,
          new RegExp(
            `^FAIL  auth key file: ${dir}/keys: the user joold \\(uid \\d+\\) that joold's units ` +
              `run as could not read it \\(uid 0, gid 0, mode 0600\\): ` +
              `chgrp joold ${dir}/keys && chmod 640 ${dir}/keys$`,
            "m",
          ),
        );
        await Deno.remove(`${dir}/keys`);
        const made = await joold(["keygen", `${dir}/keys`], dir);
        assert.equal(made.code, 0, made.stderr);
        assert.match(made.stdout, /group joold, mode 0640/);
        const shared = await joold(["check", "net.json"], dir);
        assert.match(shared.stdout, /^ok {4}auth key file: .*keys: sends with key 1$/m);
        await Deno.chmod(dir, 0o700);
        const hidden = await joold(["check", "net.json"], dir);
        assert.match(
          hidden.stdout,
          /^FAIL {2}auth key file: .*could not reach it: it may not search /m,
        );
      })
    );
  },
});
