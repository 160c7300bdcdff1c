/**
 * The Prometheus endpoint on real sockets and the real reactor: HTTP
 * clients over IPv4 and IPv6 get the metrics, idle connections beyond the
 * limit push the oldest out instead of blocking the server, and closing
 * the server frees the port.
 */

import assert from "node:assert/strict";
import { Libc } from "../../ffi/libc.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { MAX_CONNECTIONS, MetricsServer } from "../../src/stats/metrics_server.ts";

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
