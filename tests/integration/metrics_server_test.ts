/**
 * The Prometheus endpoint on real sockets and the real reactor: HTTP
 * clients over IPv4 and IPv6 get the metrics, idle connections beyond the
 * limit push the oldest out instead of blocking the server, and closing
 * the server frees the port.
 */

import assert from "node:assert/strict";
import { AF_INET, SOCK_STREAM } from "../../ffi/constants.ts";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import { Libc } from "../../ffi/libc.ts";
import { sockaddrIn } from "../../ffi/sockaddr.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { Sockets } from "../../ffi/sockets.ts";
import {
  HEAD_DEADLINE_MS,
  MAX_CONNECTIONS,
  MetricsServer,
  type MetricsTimers,
} from "../../src/stats/metrics_server.ts";

const METRICS = "# TYPE joold_kernel_batches_total counter\njoold_kernel_batches_total 7\n";
const linux = Deno.build.os === "linux";
if (!linux) console.error("metrics server tests skipped: Linux only");

function hasIPv6Loopback(): boolean {
  try {
    return Deno.readTextFileSync("/proc/net/if_inet6").includes("lo");
  } catch {
    return false;
  }
}

Deno.test({
  name: "metrics port: GET /metrics over IPv4 and IPv6, HEAD, 404 elsewhere, idle clients bounded",
  ignore: !linux,
  sanitizeResources: false, // fetch keeps its connection pool
  async fn() {
    const libc = Libc.open();
    const errors: unknown[] = [];
    const reactor = Reactor.open(libc, (_fd, error) => errors.push(error));
    const running = reactor.run();
    const port = 39_000 + Math.floor(Math.random() * 2000);
    const server = MetricsServer.open(new Sockets(libc), reactor, port, () => METRICS);
    const idle: Deno.TcpConn[] = [];
    try {
      const hosts = hasIPv6Loopback() ? ["127.0.0.1", "[::1]"] : ["127.0.0.1"];
      for (const host of hosts) {
        const response = await fetch(`http://${host}:${port}/metrics`);
        assert.equal(response.status, 200, host);
        assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
        assert.equal(await response.text(), METRICS, host);
      }
      const head = await fetch(`http://127.0.0.1:${port}/metrics`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(METRICS.length));
      assert.equal(await head.text(), "");
      const missing = await fetch(`http://127.0.0.1:${port}/nothing`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();

      // Clients that connect and say nothing: the newest MAX_CONNECTIONS stay.
      for (let i = 0; i < MAX_CONNECTIONS + 4; i++) {
        idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      const during = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(during.status, 200);
      await during.text();
      assert.ok(server.openConnections <= MAX_CONNECTIONS, `${server.openConnections} open`);
      // The oldest idle client was closed by the server.
      const buffer = new Uint8Array(16);
      assert.equal(await idle[0].read(buffer), null);
      assert.deepEqual(errors, []);
    } finally {
      for (const connection of idle) {
        try {
          connection.close();
        } catch {
          // Already closed by the server.
        }
      }
      server.close();
      reactor.stop();
      await running;
      reactor.close();
      libc.close();
    }
    // The port is free again (SO_REUSEADDR: even with connections in TIME_WAIT).
    const libc2 = Libc.open();
    const reactor2 = Reactor.open(libc2, () => {});
    try {
      MetricsServer.open(new Sockets(libc2), reactor2, port, () => "").close();
    } finally {
      reactor2.close();
      libc2.close();
    }
  },
});

const REAL_TIMERS: MetricsTimers = {
  monotonic: () => performance.now(),
  repeat: (callback, ms) => setInterval(callback, ms),
  clearTimer: (handle) => clearInterval(handle as number),
};

/** A running metrics server on a random port, for `use`; `renders` counts renderings. */
async function withServer(
  use: (port: number, server: MetricsServer, renders: () => number) => Promise<void>,
  local: Uint8Array | null = null,
): Promise<void> {
  const libc = Libc.open();
  const reactor = Reactor.open(libc, () => {});
  const running = reactor.run();
  const port = 41_000 + Math.floor(Math.random() * 2000);
  let renders = 0;
  const server = MetricsServer.open(
    new Sockets(libc),
    reactor,
    port,
    () => {
      renders++;
      return METRICS;
    },
    REAL_TIMERS,
    local,
  );
  try {
    await use(port, server, () => renders);
  } finally {
    server.close();
    reactor.stop();
    await running;
    reactor.close();
    libc.close();
  }
}

async function get(connection: Deno.TcpConn): Promise<string> {
  await connection.write(new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await connection.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

Deno.test({
  name: "metrics port: one host flooding connections does not push out another host's scrape",
  ignore: !linux || !hasIPv6Loopback(),
  async fn() {
    await withServer(async (port) => {
      const flood: Deno.TcpConn[] = [];
      try {
        for (let i = 0; i < MAX_CONNECTIONS; i++) {
          flood.push(await Deno.connect({ hostname: "127.0.0.1", port }));
        }
        const scrape = await Deno.connect({ hostname: "::1", port });
        for (let i = 0; i < 3 * MAX_CONNECTIONS; i++) {
          flood.push(await Deno.connect({ hostname: "127.0.0.1", port }));
        }
        const answer = await get(scrape);
        scrape.close();
        assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(answer.endsWith(METRICS));
      } finally {
        for (const c of flood) {
          try {
            c.close();
          } catch {
            // closed by the server
          }
        }
      }
    });
  },
});

Deno.test({
  name:
    "metrics port: a connection that sends no request is closed at its deadline; renders are cached",
  ignore: !linux,
  async fn() {
    await withServer(async (port, server, renders) => {
      const silent = await Deno.connect({ hostname: "127.0.0.1", port });
      await new Promise((resolve) => setTimeout(resolve, HEAD_DEADLINE_MS + 1500));
      assert.equal(await silent.read(new Uint8Array(8)), null, "closed by the server");
      silent.close();
      assert.equal(server.openConnections, 0);
      for (let i = 0; i < 20; i++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        assert.ok((await get(c)).endsWith(METRICS));
        c.close();
      }
      assert.ok(renders() <= 2, `${renders()} renderings for 20 scrapes within a second or two`);
    });
  },
});

Deno.test({
  name: "metrics port: idle connections from many hosts do not push out scrapes",
  ignore: !linux,
  sanitizeResources: false, // fetch keeps its connection pool
  async fn() {
    await withServer(async (port) => {
      const libc = Libc.open();
      const sockets = new Sockets(libc);
      const idle: number[] = [];
      let flooding = true;
      // 32 source addresses, each opening connections that never send a byte.
      const flood = (async () => {
        for (let i = 0; flooding; i++) {
          const fd = sockets.open(AF_INET, SOCK_STREAM, 0, "idle");
          idle.push(fd);
          sockets.bind(fd, sockaddrIn(Uint8Array.of(127, 0, 0, 10 + (i % 32)), 0), "idle");
          try {
            sockets.connect(fd, sockaddrIn(Uint8Array.of(127, 0, 0, 1), port), "idle");
          } catch (error) {
            if (!(error instanceof SyscallError && error.errno === Errno.EINPROGRESS)) throw error;
          }
          if (idle.length > 4 * MAX_CONNECTIONS) sockets.close(idle.shift()!, "idle");
          if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
      })();
      let answered = 0;
      try {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        // A scraper over a network: the request comes a round trip after the connection.
        for (let i = 0; i < 5; i++) {
          try {
            const scrape = await Deno.connect({ hostname: "127.0.0.1", port });
            await new Promise((resolve) => setTimeout(resolve, 50));
            if ((await get(scrape)).endsWith(METRICS)) answered++;
            scrape.close();
          } catch {
            // A scrape pushed out: counted as failed.
          }
        }
      } finally {
        flooding = false;
        await flood;
        for (const fd of idle) sockets.close(fd, "idle");
        libc.close();
      }
      assert.equal(answered, 5, "every scrape answered");
    });
  },
});

Deno.test({
  name: "metrics port: with an address, it listens there only",
  ignore: !linux || !hasIPv6Loopback(),
  sanitizeResources: false, // fetch keeps its connection pool
  async fn() {
    await withServer(async (port) => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(await response.text(), METRICS);
      await assert.rejects(Deno.connect({ hostname: "::1", port }), "not on ::1");
    }, Uint8Array.of(127, 0, 0, 1));
  },
});
