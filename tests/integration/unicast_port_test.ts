/**
 * The unicast peers' port against a local unprivileged user (as `nobody`,
 * with SO_REUSEADDR): once the daemon holds the port, the user cannot
 * share it and gets none of the peers' datagrams; if the user holds it
 * first, opening it fails with one line that says the port is taken.
 */

import assert from "node:assert/strict";
import { AF_INET, SOCK_DGRAM } from "../../ffi/constants.ts";
import { SyscallError } from "../../ffi/errors.ts";
import { Libc } from "../../ffi/libc.ts";
import { sockaddrIn } from "../../ffi/sockaddr.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { UnicastSocket } from "../../src/sync/unicast_socket.ts";

const PYTHON = "/usr/bin/python3";
const skipReason = Deno.uid() !== 0 ? "needs root (to run a process as nobody)" : (() => {
  try {
    Deno.statSync(PYTHON);
    return null;
  } catch {
    return `no ${PYTHON}`;
  }
})();
if (skipReason !== null) console.error(`unicast port tests skipped: ${skipReason}`);

/** A process as nobody that binds 127.0.0.1:`port` with SO_REUSEADDR and counts what it gets. */
function hijacker(port: number, listenSeconds: number): Deno.ChildProcess {
  const script = [
    "import socket, sys",
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
    "try:",
    `    s.bind(('127.0.0.1', ${port}))`,
    "except OSError as e:",
    "    print('refused', e.errno, flush=True); sys.exit(0)",
    "print('bound', flush=True)",
    `s.settimeout(${listenSeconds})`,
    "got = 0",
    "try:",
    "    while True: s.recv(2048); got += 1",
    "except socket.timeout:",
    "    pass",
    "print('got', got, flush=True)",
  ].join("\n");
  const args = ["--reuid=65534", "--regid=65534", "--clear-groups", PYTHON, "-c", script];
  return new Deno.Command("setpriv", { args, stdout: "piped", stderr: "inherit" }).spawn();
}

function randomPort(): number {
  return 41_000 + Math.floor(Math.random() * 2000);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: "unicast port: a local user binding it with SO_REUSEADDR gets none of the datagrams",
  ignore: skipReason !== null,
  async fn() {
    const sockets = new Sockets(Libc.open());
    const port = randomPort();
    const socket = UnicastSocket.open(sockets, { family: "ipv4", port, inInterface: null }, []);
    const sender = sockets.open(AF_INET, SOCK_DGRAM, 0, "sender");
    try {
      const child = hijacker(port, 1);
      await sleep(500);
      const loopback = sockaddrIn(Uint8Array.of(127, 0, 0, 1), port);
      for (let i = 0; i < 3; i++) sockets.send(sender, Uint8Array.of(i), loopback, "sender");
      const output = new TextDecoder().decode((await child.output()).stdout);
      let received = 0;
      while (socket.receive() !== null) received++;
      assert.match(
        output,
        /^refused 98\n/,
        `the user's bind fails (EADDRINUSE); it said ${output}`,
      );
      assert.equal(received, 3, "the daemon's socket gets every datagram");
    } finally {
      sockets.close(sender, "sender");
      socket.close();
    }
  },
});

Deno.test({
  name: "unicast port: held by a local user first, opening it fails with one line saying so",
  ignore: skipReason !== null,
  async fn() {
    const sockets = new Sockets(Libc.open());
    const port = randomPort();
    const child = hijacker(port, 2);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await reader.read()).value ?? "", /^bound/);
    try {
      assert.throws(
        () => UnicastSocket.open(sockets, { family: "ipv4", port, inInterface: null }, []),
        (error: unknown) => {
          assert.ok(error instanceof SyscallError);
          assert.equal(error.code, "EADDRINUSE");
          assert.equal(
            error.message,
            `bind(0.0.0.0 port ${port}: taken by another socket; unicast peers' ports are not ` +
              "shared (ss -ulpn shows who holds it)) failed: EADDRINUSE (Address already in use)",
          );
          return true;
        },
      );
    } finally {
      while (!(await reader.read()).done);
      await child.status;
    }
  },
});
