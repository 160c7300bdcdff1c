/**
 * The daemon's log as an operator sees it, on a host without the Jool
 * module (every start fails, as while the service manager retries): the
 * configuration printed once per distinct start, the time on each line
 * off journald, and the `<N>` priority only on journald's own stream
 * (JOURNAL_STREAM naming stderr's device and inode, systemd.exec(5)).
 */

import assert from "node:assert/strict";
import { joolLoaded, MAIN } from "./joold_process.ts";
import { RUNTIME_FLAGS } from "../../scripts/runtime_flags.ts";

const STAMP = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
const ON_HOST = !joolLoaded() && Deno.build.os === "linux";

/** Runs joold in `dir` with stderr to `stderrFile` and `env` added; returns stdout, stderr. */
async function run(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const stderrFile = `${dir}/stderr.txt`;
  await Deno.writeTextFile(stderrFile, "");
  const { dev, ino } = await Deno.stat(stderrFile);
  const script = 'stderr=$1; shift; exec "$@" 2>"$stderr"';
  const output = await new Deno.Command("sh", {
    args: ["-c", script, "sh", stderrFile, Deno.execPath(), "run", ...RUNTIME_FLAGS, MAIN, ...args],
    cwd: dir,
    env: Object.fromEntries(
      Object.entries(env).map(([key, value]) => [key, value.replace("@", `${dev}:${ino}`)]),
    ),
    stdout: "piped",
  }).output();
  return {
    stdout: new TextDecoder().decode(output.stdout),
    stderr: await Deno.readTextFile(stderrFile),
  };
}

async function inDirectory(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "joold-log-" });
  try {
    await Deno.writeTextFile(
      `${dir}/netsocket.json`,
      JSON.stringify({ "multicast address": "ff08::db8:64:64", "multicast port": 6464 }),
    );
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "off journald the lines carry the time, no priority; on journald's stream, the priority",
  ignore: !ON_HOST,
  fn: async () => {
    await inDirectory(async (dir) => {
      const alone = await run(dir, ["netsocket.json"]);
      assert.match(
        alone.stderr,
        new RegExp(`^${STAMP} error: The Jool kernel module is not loaded`),
      );
      assert.doesNotMatch(alone.stderr, /^</m);
      // Inherited from a service but stderr redirected elsewhere: not journald.
      const elsewhere = await run(dir, ["netsocket.json"], { JOURNAL_STREAM: "8:1" });
      assert.match(elsewhere.stderr, new RegExp(`^${STAMP} error: `));
      // "@": the device and inode of the file stderr goes to, as systemd sets them.
      const journal = await run(dir, ["netsocket.json"], { JOURNAL_STREAM: "@" });
      assert.match(journal.stderr, /^<3>error: The Jool kernel module is not loaded/);
    });
  },
});

Deno.test({
  name: "a start that fails and is retried prints its configuration once, then one line",
  ignore: !ON_HOST,
  fn: async () => {
    await Deno.mkdir("/run/joold", { recursive: true });
    const state = await Deno.makeTempDir({ dir: "/run/joold", prefix: "test-" });
    try {
      await inDirectory(async (dir) => {
        const args = ["--state-directory", state, "netsocket.json"];
        const first = await run(dir, args);
        assert.match(first.stdout, /^joold \S+ configuration:\n/);
        assert.ok(first.stdout.split("\n").length > 15, first.stdout);
        const again = await run(dir, args);
        assert.match(
          again.stdout,
          new RegExp(`^joold \\S+ configuration unchanged since ${STAMP}\n$`),
        );
        const changed = await run(dir, ["--metrics-port", "9464", ...args]);
        assert.match(changed.stdout, /^joold \S+ configuration:\n[^]*metrics port: +9464/);
      });
    } finally {
      await Deno.remove(state, { recursive: true });
    }
  },
});
