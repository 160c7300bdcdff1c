/**
 * `--syslog` against a real listener on /dev/log. This machine may have no
 * system logger, and the test must not write into the host's one, so the
 * daemon runs in a private mount namespace whose /dev is a tmpfs holding
 * the usual devices and the test's own /dev/log.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { joolLoaded } from "./joold_process.ts";

const LISTENER = fileURLToPath(new URL("./fixtures/syslog_listener.ts", import.meta.url));

/** Builds the private /dev, then runs the listener in it. */
const SETUP = `set -e
dev=$(mktemp -d)
mount -t tmpfs joold-test-dev "$dev"
for node in null zero full random urandom; do
  touch "$dev/$node"
  mount --bind "/dev/$node" "$dev/$node"
done
mount --move "$dev" /dev
exec "$@"
`;

function whyNot(): string | null {
  if (Deno.build.os !== "linux") return "mount namespaces need Linux";
  if (Deno.uid() !== 0) return "a private /dev needs root";
  for (const tool of ["/usr/bin/unshare", "/bin/unshare"]) {
    try {
      Deno.statSync(tool);
      return null;
    } catch {
      // try the next place
    }
  }
  return "unshare (util-linux) is not installed";
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  records: string[];
}

async function joold(dir: string, args: string[]): Promise<Outcome> {
  const output = await new Deno.Command("unshare", {
    args: [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      SETUP,
      "sh",
      Deno.execPath(),
      "run",
      // The fake system logger, not joold (which it starts as shipped): it binds /dev/log.
      "--allow-all",
      "--unstable-net",
      LISTENER,
      dir,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, `the listener failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

const reason = whyNot();
if (reason !== null) console.error(`syslog test skipped: ${reason}`);

Deno.test({
  name: "--syslog: records reach /dev/log as daemon.<level>, ident joold with the pid",
  ignore: reason !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "joold-syslog-" });
    try {
      // A % in the file name reaches syslog() inside the message: it must
      // come out as written, not as a format directive.
      await Deno.writeTextFile(
        `${dir}/100%s.json`,
        JSON.stringify({
          "multicast address": "ff08::db8:64:64",
          "multicast port": 6464,
          ttl: 300,
        }),
      );
      const outcome = await joold(dir, ["--syslog", "100%s.json", "modsocket.json"]);
      assert.equal(outcome.code, 78);
      assert.equal(outcome.stderr, "", "nothing is logged to stderr");
      // daemon (3 << 3) | err (3) = 27; glibc adds a timestamp.
      assert.equal(outcome.records.length, 1, JSON.stringify(outcome.records));
      assert.match(
        outcome.records[0],
        /^<27>\w{3} [ \d]\d \d\d:\d\d:\d\d joold\[\d+\]: error: 100%s\.json: "ttl": must be an integer from 0 to 255, got 300$/,
      );

      // Levels map to severities: warning 4, error 3.
      await Deno.writeTextFile(`${dir}/modsocket.json`, JSON.stringify({ instance: "x", tll: 1 }));
      const advertise = await joold(dir, ["--syslog", "advertise", "modsocket.json"]);
      assert.equal(advertise.stderr, "");
      assert.match(
        advertise.records[0],
        /^<28>.* joold\[\d+\]: warning: modsocket\.json: unknown key "tll" ignored/,
      );
      if (!joolLoaded()) {
        assert.equal(advertise.code, 1);
        assert.equal(advertise.records.length, 2, JSON.stringify(advertise.records));
        assert.match(
          advertise.records[1],
          /^<27>.* joold\[\d+\]: error: The Jool kernel module is not loaded in this network namespace/,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
