/**
 * The live flows of the failover scenario (tests/e2e/scenarios/failover.sh),
 * run inside the VM's namespaces: one long-lived TCP connection that sends a
 * line every INTERVAL ms and expects it echoed, and one UDP flow from a fixed
 * source port, echoed too.
 *
 * ```sh
 * deno run --allow-all --no-config tests/e2e/lib/failover_flows.ts server TCP_PORT UDP_PORT
 * deno run --allow-all --no-config tests/e2e/lib/failover_flows.ts \
 *   client DESTINATION TCP_PORT UDP_PORT UDP_SOURCE_PORT INTERVAL_MS TIMEOUT_MS
 * ```
 *
 * Both print one event a line, `EPOCH_MS EVENT DETAIL...` (see
 * failover_timeline.ts, which reads them). The client gives up on a
 * connection that echoes nothing for TIMEOUT_MS (`tcp-timeout`) or is reset
 * (`tcp-reset`), and connects again (`tcp-connected` once more): what an
 * application does when its NAT64 router forgot the connection. It runs until
 * SIGTERM, then prints `end` and exits.
 *
 * @module
 */

import dgram from "node:dgram";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function log(event: string, ...detail: (string | number)[]): void {
  console.log([Date.now(), event, ...detail].join(" "));
}

function port(text: string | undefined, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text ?? "") || value < 1 || value > 65535) {
    throw new RangeError(`Invalid ${what}: ${text}`);
  }
  return value;
}

/** Echoes every TCP connection's bytes and every UDP datagram, logging who sent them. */
async function serve(tcpPort: number, udpPort: number): Promise<void> {
  const udp = dgram.createSocket({ type: "udp4" });
  udp.on("message", (message, remote) => {
    log("udp-received", remote.address, remote.port, decoder.decode(message).trim());
    udp.send(message, remote.port, remote.address);
  });
  udp.bind(udpPort);
  const listener = Deno.listen({ hostname: "0.0.0.0", port: tcpPort });
  log("server-ready", tcpPort, udpPort);
  for await (const conn of listener) {
    const remote = conn.remoteAddr as Deno.NetAddr;
    log("tcp-accepted", remote.hostname, remote.port);
    (async () => {
      const buffer = new Uint8Array(4096);
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          await conn.write(buffer.subarray(0, n));
        }
        log("tcp-closed", remote.hostname, remote.port);
      } catch (error) {
        log("tcp-error", remote.hostname, remote.port, String(error).replaceAll(/\s+/g, "_"));
      }
      try {
        conn.close();
      } catch { /* already closed */ }
    })();
  }
}

interface ClientPlan {
  destination: string;
  tcpPort: number;
  udpPort: number;
  udpSourcePort: number;
  intervalMs: number;
  timeoutMs: number;
}

/** The TCP and UDP flows; returns when SIGTERM arrives. */
async function client(plan: ClientPlan): Promise<void> {
  let stopping = false;
  let conn: Deno.TcpConn | undefined;
  let lastEcho = 0;
  let sent = 0;
  let echoed = 0;
  const udp = dgram.createSocket({ type: plan.destination.includes(":") ? "udp6" : "udp4" });
  udp.on("message", (message) => log("udp-echo", decoder.decode(message).trim()));
  udp.on("error", (error) => log("udp-error", String(error).replaceAll(/\s+/g, "_")));
  await new Promise<void>((resolve) => udp.bind(plan.udpSourcePort, resolve));

  // One connection's life: read echoes until it ends, is reset or times out.
  const connect = async (): Promise<void> => {
    for (;;) {
      try {
        conn = await Deno.connect({ hostname: plan.destination, port: plan.tcpPort });
        break;
      } catch (error) {
        log("tcp-connect-failed", String(error).replaceAll(/\s+/g, "_"));
        if (stopping) return;
        await new Promise((resolve) => setTimeout(resolve, plan.intervalMs));
      }
    }
    const local = conn.localAddr as Deno.NetAddr;
    log("tcp-connected", local.port);
    lastEcho = Date.now();
    const mine = conn;
    const buffer = new Uint8Array(4096);
    let pending = "";
    try {
      for (;;) {
        const n = await mine.read(buffer);
        if (n === null) {
          if (!stopping) log("tcp-closed-by-peer");
          break;
        }
        pending += decoder.decode(buffer.subarray(0, n));
        let newline;
        while ((newline = pending.indexOf("\n")) >= 0) {
          log("tcp-echo", pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          echoed++;
          lastEcho = Date.now();
        }
      }
    } catch (error) {
      if (conn !== mine || stopping) return; // closed on purpose (timeout, end)
      if (error instanceof Deno.errors.ConnectionReset) log("tcp-reset");
      else log("tcp-error", String(error).replaceAll(/\s+/g, "_"));
    }
    if (conn === mine) conn = undefined;
  };

  let seq = 0;
  const tick = setInterval(() => {
    seq++;
    const datagram = encoder.encode(`${seq}\n`);
    udp.send(datagram, plan.udpPort, plan.destination);
    log("udp-sent", seq);
    if (conn === undefined) return;
    if (Date.now() - lastEcho > plan.timeoutMs) {
      log("tcp-timeout", Date.now() - lastEcho);
      const dead = conn;
      conn = undefined;
      try {
        dead.close();
      } catch { /* already closed */ }
      log("tcp-reconnect");
      void connect();
      return;
    }
    const line = encoder.encode(`${seq}\n`);
    conn.write(line).then(() => {
      sent++;
      log("tcp-sent", seq);
    }, (error) => log("tcp-write-failed", String(error).replaceAll(/\s+/g, "_")));
  }, plan.intervalMs);

  const connecting = connect();
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", () => resolve()));
  stopping = true;
  clearInterval(tick);
  log("end", `sent=${sent}`, `echoed=${echoed}`);
  try {
    conn?.close();
  } catch { /* already closed */ }
  udp.close();
  await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, 500))]);
  Deno.exit(0);
}

if (import.meta.main) {
  const [mode, ...words] = Deno.args;
  if (mode === "server") {
    await serve(port(words[0], "TCP port"), port(words[1], "UDP port"));
  } else if (mode === "client" && words.length === 6) {
    await client({
      destination: words[0],
      tcpPort: port(words[1], "TCP port"),
      udpPort: port(words[2], "UDP port"),
      udpSourcePort: port(words[3], "UDP source port"),
      intervalMs: Number(words[4]),
      timeoutMs: Number(words[5]),
    });
  } else {
    console.error(
      "Usage: failover_flows.ts server TCP_PORT UDP_PORT | client DESTINATION TCP_PORT UDP_PORT " +
        "UDP_SOURCE_PORT INTERVAL_MS TIMEOUT_MS",
    );
    Deno.exit(2);
  }
}
