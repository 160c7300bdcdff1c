import assert from "node:assert/strict";
import { AF_INET, SOCK_DGRAM } from "./constants.ts";
import { Libc } from "./libc.ts";
import { Reactor } from "./reactor.ts";
import { parseIpSockaddr, sockaddrIn } from "./sockaddr.ts";
import { Sockets } from "./sockets.ts";

const LOOPBACK = Uint8Array.of(127, 0, 0, 1);

Deno.test("stop() wakes a reactor blocked in epoll_wait", async () => {
  const libc = Libc.open();
  const reactor = Reactor.open(libc, () => {});
  const running = reactor.run();
  const started = performance.now();
  setTimeout(() => reactor.stop(), 20);
  await running;
  assert.ok(performance.now() - started < 1000);
  reactor.close();
  libc.close();
});

Deno.test("readiness of a real UDP socket reaches its handler; errors go to the sink", async () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const errors: unknown[] = [];
  const reactor = Reactor.open(libc, (_fd, error) => errors.push(error));
  const receiver = sockets.open(AF_INET, SOCK_DGRAM, 0, "receiver");
  const sender = sockets.open(AF_INET, SOCK_DGRAM, 0, "sender");
  try {
    sockets.bind(receiver, sockaddrIn(LOOPBACK, 0), "receiver");
    const address = parseIpSockaddr(sockets.localAddress(receiver, "receiver"), 16);
    assert.ok(address !== null);
    const got: number[] = [];
    const buffer = new Uint8Array(64);
    reactor.watch(receiver, { readable: true }, () => {
      for (
        let r = sockets.receive(receiver, buffer, null, 0, "r");
        r !== null;
        r = sockets.receive(receiver, buffer, null, 0, "r")
      ) {
        got.push(buffer[0]);
        if (got.length === 3) reactor.stop();
        if (buffer[0] === 3) throw new Error("handler failure");
      }
    });
    const running = reactor.run();
    for (const value of [1, 2, 3]) {
      assert.equal(
        sockets.send(sender, Uint8Array.of(value), sockaddrIn(LOOPBACK, address.port), "sender"),
        1,
      );
    }
    await running;
    assert.deepEqual(got, [1, 2, 3]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /handler failure/);
  } finally {
    reactor.close();
    sockets.close(receiver, "receiver");
    sockets.close(sender, "sender");
    libc.close();
  }
});

Deno.test("a failing call becomes a SyscallError with errno name and operation", () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  try {
    assert.throws(
      () => sockets.bind(-1, sockaddrIn(LOOPBACK, 0), "nothing"),
      /^SyscallError: bind\(nothing\) failed: EBADF \(Bad file descriptor\)$/,
    );
    assert.throws(
      () => sockets.receive(-1, new Uint8Array(4), null, 0, "nothing"),
      (error: unknown) => error instanceof Error && "code" in error && error.code === "EBADF",
    );
  } finally {
    libc.close();
  }
});

Deno.test("a handler that settled a request lets its caller send the next one at once", async () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const reactor = Reactor.open(libc, () => {});
  const socket = sockets.open(AF_INET, SOCK_DGRAM, 0, "echo");
  try {
    sockets.bind(socket, sockaddrIn(LOOPBACK, 0), "echo");
    const self = parseIpSockaddr(sockets.localAddress(socket, "echo"), 16);
    assert.ok(self !== null);
    const buffer = new Uint8Array(64);
    let settle: (() => void) | null = null;
    reactor.watch(socket, { readable: true }, () => {
      while (sockets.receive(socket, buffer, null, 0, "echo") !== null) {
        settle?.();
        settle = null;
        reactor.yieldAfterDispatch();
      }
    });
    // A request, its reply, and a caller a few awaits up: what the kernel link's callers do.
    const request = () =>
      new Promise<void>((resolve) => {
        settle = resolve;
        sockets.send(socket, Uint8Array.of(1), sockaddrIn(LOOPBACK, self.port), "echo");
      });
    const readGlobal = async () => await request();
    const tune = async () => await readGlobal();
    const running = reactor.run();
    const started = performance.now();
    const ROUND_TRIPS = 10;
    for (let i = 0; i < ROUND_TRIPS; i++) await tune();
    const elapsed = performance.now() - started;
    reactor.stop();
    await running;
    // Waiting on the main thread after each reply held the next request for BUSY_WAIT_MS (10 ms).
    assert.ok(
      elapsed < ROUND_TRIPS * 5,
      `${ROUND_TRIPS} round trips took ${elapsed.toFixed(1)} ms`,
    );
  } finally {
    reactor.close();
    sockets.close(socket, "echo");
    libc.close();
  }
});

Deno.test("a failure reported from outside a dispatch goes to the same sink", () => {
  const libc = Libc.open();
  const failures: [number, unknown][] = [];
  const reactor = Reactor.open(libc, (fd, error) => failures.push([fd, error]));
  try {
    const error = new Error("a read after a send failed");
    reactor.reportHandlerError(7, error);
    assert.deepEqual(failures, [[7, error]]);
  } finally {
    reactor.close();
    libc.close();
  }
});
