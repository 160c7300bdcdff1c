/**
 * systemd's notification protocol and `joold status` with exactly the
 * executable's permissions (scripts/runtime_flags.ts), against a fake
 * NOTIFY_SOCKET: an AF_UNIX datagram socket this test binds.
 *
 * The host has no Jool module, so the daemon itself (main.ts) cannot get to
 * READY=1 here: it is run to see that it reads NOTIFY_SOCKET and tells the
 * socket its state and its failure under those permissions; a probe on the
 * daemon's own notifier and status publisher shows READY=1, WATCHDOG=1
 * from the timer, STOPPING=1, and `joold status` (main.ts) reading the
 * published state. The VM scenarios run the daemon with Jool.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { AF_UNIX, SOCK_DGRAM } from "../../ffi/constants.ts";
import { Libc } from "../../ffi/libc.ts";
import { sockaddrUn } from "../../ffi/sockaddr.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { RUNTIME_FLAGS } from "../../scripts/runtime_flags.ts";
import { joold, joolLoaded, MAIN } from "./joold_process.ts";

const PROBE = fromFileUrl(new URL("./fixtures/notify_probe.ts", import.meta.url));
const skipReason = Deno.build.os !== "linux" || Deno.uid() !== 0 ? "needs Linux and root" : null;
if (skipReason !== null) console.error(`notify tests skipped: ${skipReason}`);

/** A fake service manager: the socket NOTIFY_SOCKET names, and what came to it. */
class FakeNotifySocket {
  readonly path: string;
  readonly messages: string[] = [];
  readonly #libc = Libc.open();
  readonly #sockets = new Sockets(this.#libc);
  readonly #fd: number;

  constructor(path: string) {
    this.path = path;
    this.#fd = this.#sockets.open(AF_UNIX, SOCK_DGRAM, 0, "fake NOTIFY_SOCKET");
    this.#sockets.bind(this.#fd, sockaddrUn(path), path);
  }

  /** Takes what is queued (the socket holds only a few datagrams: call it often). */
  drain(): void {
    const buffer = new Uint8Array(4096);
    for (;;) {
      const got = this.#sockets.receive(this.#fd, buffer, null, 0, "fake NOTIFY_SOCKET");
      if (got === null) return;
      this.messages.push(new TextDecoder().decode(buffer.subarray(0, got.length)));
    }
  }

  /** Drains every 20 ms until `done` settles. */
  async drainUntil<T>(done: Promise<T>): Promise<T> {
    const timer = setInterval(() => this.drain(), 20);
    try {
      return await done;
    } finally {
      clearInterval(timer);
      this.drain();
    }
  }

  close(): void {
    this.#sockets.close(this.#fd, "fake NOTIFY_SOCKET");
    this.#libc.close();
  }
}

/** A new directory under /run/joold, the one the executable may write. */
async function stateDirectory(): Promise<string> {
  const directory = `/run/joold/notify-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(directory, { recursive: true });
  return directory;
}

Deno.test({
  name:
    "notify: the probe says READY=1, pings WATCHDOG=1 from its timer, STOPPING=1; joold status reads it",
  ignore: skipReason !== null,
  fn: async () => {
    const directory = await stateDirectory();
    const manager = new FakeNotifySocket(`${directory}/notify`);
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...RUNTIME_FLAGS, PROBE, directory, "400", "4000"],
        // 200 ms: a ping every 100 ms.
        env: { NOTIFY_SOCKET: manager.path, WATCHDOG_USEC: "200000" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = manager.drainUntil((async () => {
        // Once it is alone, `joold status` as shipped says it runs and is in sync (0).
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let seen = "";
        while (!seen.includes("alone\n")) {
          const { value, done } = await reader.read();
          if (done) break;
          seen += value;
        }
        const running = await joold(["status", "--state-directory", directory]);
        await reader.cancel();
        const stderr = await new Response(child.stderr).text();
        return { running, stderr, code: (await child.status).code };
      })());
      const { running, stderr, code } = await output;
      assert.equal(code, 0, stderr);
      assert.equal(running.code, 0, running.stdout + running.stderr);
      assert.match(
        running.stdout,
        /^joold \(instance 'default', pid \d+\) is running, alone since/,
      );
      const messages = manager.messages;
      assert.equal(
        messages[0],
        "STATUS=starting: opening the kernel link and the sockets; 0 peers heard\n",
      );
      assert.equal(
        messages[1],
        "STATUS=resyncing: asking peers for their sessions; 0 peers heard\n",
      );
      assert.equal(
        messages[2],
        "READY=1\nSTATUS=resyncing: asking peers for their sessions; 0 peers heard\n",
      );
      const pings = messages.filter((message) => message === "WATCHDOG=1\n").length;
      assert.ok(pings >= 10, `${pings} pings in 4 s at 100 ms: ${messages.join("|")}`);
      assert.ok(
        messages.includes("STATUS=alone: no peer answered 3 resync requests; 0 peers heard\n"),
      );
      assert.equal(messages.at(-1), "STOPPING=1\n");
      assert.match(stderr, /"notifyFailures":0,"fileFailures":0/);
      // Stopped: its file is gone, and joold status says it is not running (3).
      const stopped = await joold(["status", "--state-directory", directory, "--json"]);
      assert.equal(stopped.code, 3, stopped.stderr);
      assert.equal(JSON.parse(stopped.stdout).verdict, "not-running");
    } finally {
      manager.close();
      await Deno.remove(directory, { recursive: true });
    }
  },
});

Deno.test({
  name: "notify: WATCHDOG_PID naming another process: READY=1 but no pings",
  ignore: skipReason !== null,
  fn: async () => {
    const directory = await stateDirectory();
    const manager = new FakeNotifySocket(`${directory}/notify`);
    try {
      const output = await manager.drainUntil(
        new Deno.Command(Deno.execPath(), {
          args: ["run", "--no-prompt", ...RUNTIME_FLAGS, PROBE, directory, "100", "600"],
          env: { NOTIFY_SOCKET: manager.path, WATCHDOG_USEC: "200000", WATCHDOG_PID: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output(),
      );
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      assert.ok(manager.messages.some((message) => message.startsWith("READY=1\n")));
      assert.ok(!manager.messages.includes("WATCHDOG=1\n"), manager.messages.join("|"));
    } finally {
      manager.close();
      await Deno.remove(directory, { recursive: true });
    }
  },
});

Deno.test({
  name: "notify: the daemon as shipped reads NOTIFY_SOCKET and says why it failed (no Jool here)",
  ignore: skipReason !== null || joolLoaded(),
  fn: async () => {
    const directory = await stateDirectory();
    const manager = new FakeNotifySocket(`${directory}/notify`);
    try {
      await Deno.writeTextFile(
        `${directory}/netsocket.json`,
        JSON.stringify({
          "multicast address": "ff08::db8:64:64",
          "multicast port": "6464",
          "in interface": "lo",
          "control port": 6465,
        }),
      );
      await Deno.writeTextFile(`${directory}/modsocket.json`, JSON.stringify({ instance: "x" }));
      const output = await manager.drainUntil(
        new Deno.Command(Deno.execPath(), {
          args: ["run", "--no-prompt", ...RUNTIME_FLAGS, MAIN, "--state-directory", directory],
          cwd: directory,
          env: { NOTIFY_SOCKET: manager.path, WATCHDOG_USEC: "200000" },
          stdout: "piped",
          stderr: "piped",
        }).output(),
      );
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 1, stderr);
      // The watchdog from the start (systemd may count it from there), no READY=1.
      assert.deepEqual(manager.messages.map((message) => message.split("=")[0]), [
        "WATCHDOG",
        "STATUS",
        "STOPPING",
        "STATUS",
      ]);
      assert.equal(
        manager.messages[1],
        "STATUS=starting: opening the kernel link and the sockets; 0 peers heard\n",
      );
      assert.match(manager.messages[3], /^STATUS=failed: The Jool kernel module is not loaded/);
      assert.doesNotMatch(stderr, /NotCapable|Requires env access/);
      // It stopped: no status file left behind (the record of the printed configuration
      // stays after a failure, so that the service manager's retry prints one line).
      const left = [...Deno.readDirSync(directory)].map((entry) => entry.name);
      assert.deepEqual(left.filter((name) => !name.endsWith(".printed")).sort(), [
        "modsocket.json",
        "netsocket.json",
        "notify",
      ]);
      assert.deepEqual(left.filter((name) => name.endsWith(".printed")).length, 1);
    } finally {
      manager.close();
      await Deno.remove(directory, { recursive: true });
    }
  },
});
