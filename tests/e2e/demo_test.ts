/**
 * The README's demo command, `scripts/deno.sh task demo`, as a user runs
 * it: it must end with status 0, show the same TCP connection surviving a
 * router's death with our joold and breaking without it, and print two
 * identical session tables (j2 learnt j1's sessions from j1's joold) and
 * both nodes' stats answers. Needs what the end-to-end tests need (Linux,
 * root, a VM); two VM runs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const unable = Deno.build.os !== "linux"
  ? "needs Linux"
  : Deno.uid() !== 0
  ? "needs root"
  : !new Deno.Command("sh", {
      args: ["-c", "command -v qemu-system-x86_64 || command -v apt-get"],
      stdout: "null",
    }).outputSync().success
  ? "needs qemu-system-x86_64, or apt-get to install it"
  : undefined;
if (unable !== undefined) console.log(`demo test ignored: ${unable}`);

/** The session rows of the demo's side-by-side table: [j1's, j2's] per line. */
function sessionColumns(stdout: string): [string[], string[]] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((line) => line.startsWith("== sessions:"));
  const end = lines.findIndex((line, i) => i > start && line.startsWith("== stats"));
  assert.ok(start >= 0 && end > start, `No session tables in the demo's output:\n${stdout}`);
  const rows = lines.slice(start + 1, end).filter((line) => line.trim() !== "");
  // j1's lines padded to the widest, four spaces, j2's lines; the first row names the nodes.
  const split = rows[0].lastIndexOf("j2");
  const left = rows.map((row) => row.slice(0, split).trim()).filter((cell) => cell !== "");
  const right = rows.map((row) => row.slice(split).trim()).filter((cell) => cell !== "");
  return [left, right];
}

Deno.test({
  name: "demo: `scripts/deno.sh task demo` prints the same sessions on both nodes, and the stats",
  ignore: unable !== undefined,
  fn: async () => {
    const out = `${Deno.env.get("JOOLD_E2E_OUT_DIR") ?? "/var/tmp/joold-e2e"}/demo`;
    const result = await new Deno.Command("scripts/deno.sh", {
      args: ["task", "demo"],
      cwd: ROOT,
      env: { JOOLD_DEMO_OUT: out, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(result.stdout);
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `The demo failed:\n${stdout}\n${stderr}`);
    // The failover, side by side: survived with joold, broke without.
    assert.match(
      stdout,
      /^ours-ours: the connection survived +none-none: the connection broke$/m,
      stdout,
    );
    assert.match(stdout, /^TCP connections: 1, \d+ of \d+ lines echoed +TCP connections: [2-9], /m);
    assert.match(stdout, /TCP LOST \(/, stdout);
    // The connection opened a few hundred ms before j1 died goes on too, with joold.
    assert.match(stdout, /^ {2}went on via j2 \(\d+ echoes\), no reconnect +LOST: /m, stdout);
    const [j1, j2] = sessionColumns(stdout);
    assert.equal(j1[0], "j1", stdout);
    assert.equal(j2[0], "j2", stdout);
    const sessions = j1.slice(1).sort();
    assert.ok(sessions.length >= 4, `j1 shows ${sessions.length} sessions:\n${stdout}`);
    for (const protocol of ["TCP", "UDP", "ICMP"]) {
      assert.ok(sessions.some((line) => line.startsWith(protocol)), `no ${protocol}:\n${stdout}`);
    }
    assert.deepEqual(j2.slice(1).sort(), sessions, `The two tables differ:\n${stdout}`);
    for (const family of ["ipv4", "ipv6"]) {
      assert.match(stdout, new RegExp(`^j1 over ${family} +j2 over ${family}$`, "m"), stdout);
    }
    // Traffic went through j1 only: j1 took batches from its kernel and sent them.
    assert.equal(stdout.match(/^KERNEL_SENT_PKTS,[1-9]\d* +KERNEL_SENT_PKTS,\d+$/gm)?.length, 2);
    assert.equal(stdout.match(/^NET_SENT_PKTS,[1-9]\d* +NET_SENT_PKTS,\d+$/gm)?.length, 2);
  },
});

Deno.test("demo: the side-by-side tables are read per node", () => {
  const stdout = [
    "== sessions: traffic went through j1 only; j2 learnt them from j1's joold",
    "j1                                                    j2",
    "TCP  2001:db8:1::2#1 > 192.0.2.1#2 > 192.0.2.2#8080    TCP  2001:db8:1::2#1 > 192.0.2.1#2 > 192.0.2.2#8080",
    "UDP  2001:db8:1::2#3 > 192.0.2.1#4 > 192.0.2.2#7777",
    "",
    "== stats answers",
  ].join("\n");
  const [j1, j2] = sessionColumns(stdout);
  assert.deepEqual(j1, [
    "j1",
    "TCP  2001:db8:1::2#1 > 192.0.2.1#2 > 192.0.2.2#8080",
    "UDP  2001:db8:1::2#3 > 192.0.2.1#4 > 192.0.2.2#7777",
  ]);
  assert.deepEqual(j2, ["j2", "TCP  2001:db8:1::2#1 > 192.0.2.1#2 > 192.0.2.2#8080"]);
});
