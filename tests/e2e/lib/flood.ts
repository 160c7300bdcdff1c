/**
 * Hostile traffic for the fault-injection scenarios (tests/e2e/families/faults.ts),
 * run in a namespace on the VM's sync link:
 *
 * ```sh
 * flood.ts udp --to 198.51.100.1 --port 45678 --payload json --count 20000 --rate 5000
 * flood.ts udp --to ff08::db8:64:64 --port 6465 --interface sync0 --payload request --count 5000 --rate 5000
 * flood.ts udp --to ff08::db8:64:64 --port 6464 --interface sync0 --payload garbage \
 *   --base base.bin --jool-version 4.1.15.0 --count 100000 --source-ports 5000
 * flood.ts udp --to ff08::db8:64:64 --port 6464 --interface sync0 --payload sealed-garbage \
 *   --base captured.bin --size 1400 --count 10000000 --seconds 30 --source-ports 64
 * flood.ts forge --from 198.51.100.1:45678 --to 198.51.100.2:45678 --payload json
 * flood.ts http --to 198.51.100.1 --port 9464 --seconds 10 --connections 32
 * ```
 *
 * - `udp`: COUNT datagrams at RATE a second at most (0: as fast as the
 *   socket takes them), from SOURCE_PORTS consecutive source ports (each
 *   port's socket sends its share, then closes: no thousands of descriptors
 *   at once). Payloads: `json` or `empty` (stats requests), `request` (a
 *   resync REQUEST on the control port, src/sync/control_message.ts, each
 *   with a fresh nonce, as an attacker replaying none would send), `garbage`
 *   (tests/e2e/lib/garbage_datagrams.ts's random and mutated batches of a
 *   captured valid one, each checked to be invalid), `sealed-garbage`
 *   (tests/e2e/lib/sealed_garbage.ts: forged datagrams shaped like a captured
 *   sealed one, `--size` bytes each). `--seconds` stops sending after that long.
 * - `forge`: one UDP datagram whose IPv4 source is someone else's (a raw
 *   socket, IP_HDRINCL), e.g. another stats server's: the answer goes there.
 * - `http`: CONNECTIONS workers for SECONDS, each connecting again and again
 *   to the metrics port; every other worker asks for /metrics and reads the
 *   answer, the rest connect and say nothing (they hold a connection slot
 *   until the server's deadline closes it).
 *
 * Prints one JSON line (also to --report FILE); `udp` creates --started FILE
 * when it starts sending (garbage takes a while to make). A test tool, not joold: it
 * runs with --allow-all (tests/e2e/lib/daemons.sh run_deno_tool).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  AF_INET,
  AF_INET6,
  IPPROTO_IPV6,
  IPV6_MULTICAST_IF,
  SOCK_DGRAM,
  SOCK_RAW,
} from "../../../ffi/constants.ts";
import { interfaceIndex } from "../../../ffi/interfaces.ts";
import { Libc } from "../../../ffi/libc.ts";
import { sockaddrIn, sockaddrIn6 } from "../../../ffi/sockaddr.ts";
import { Sockets } from "../../../ffi/sockets.ts";
import { parseVersion } from "../../../src/jool/header.ts";
import { sessionEncodingFor } from "../../../src/jool/session.ts";
import { parseIPv4, parseIPv6 } from "../../../src/net/ip.ts";
import { ControlType, encodeControlMessage } from "../../../src/sync/control_message.ts";
import { garbageDatagrams, seededRandom } from "./garbage_datagrams.ts";
import { sealedGarbage } from "./sealed_garbage.ts";

/** IPPROTO_RAW: a raw IPv4 socket whose datagrams carry their own IP header. */
const IPPROTO_RAW = 255;
const IPPROTO_UDP = 17;

const encoder = new TextEncoder();
/** Different garbage datagrams made at most; see `payloads`. */
const DISTINCT_GARBAGE = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The IPv4 header checksum (RFC 791): one's complement sum of the 16-bit words. */
export function ipv4Checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.byteLength; i += 2) sum += (header[i] << 8) | (header[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * An IPv4 packet carrying one UDP datagram from `source` to `destination`
 * (addresses as 4 bytes). The UDP checksum is 0: "none", allowed over IPv4.
 */
export function udpOverIPv4(
  source: Uint8Array,
  sourcePort: number,
  destination: Uint8Array,
  destinationPort: number,
  payload: Uint8Array,
): Uint8Array {
  const packet = new Uint8Array(20 + 8 + payload.byteLength);
  const view = new DataView(packet.buffer);
  packet[0] = 0x45; // version 4, 5 words of header
  view.setUint16(2, packet.byteLength);
  view.setUint16(6, 0x4000); // don't fragment
  packet[8] = 64; // TTL
  packet[9] = IPPROTO_UDP;
  packet.set(source, 12);
  packet.set(destination, 16);
  view.setUint16(10, ipv4Checksum(packet.subarray(0, 20)));
  view.setUint16(20, sourcePort);
  view.setUint16(22, destinationPort);
  view.setUint16(24, 8 + payload.byteLength);
  packet.set(payload, 28);
  return packet;
}

/** "ADDRESS:PORT" (IPv4) as its parts. */
export function parseEndpoint4(text: string): { address: Uint8Array; port: number } {
  const at = text.lastIndexOf(":");
  const address = parseIPv4(text.slice(0, at));
  const port = Number(text.slice(at + 1));
  if (address === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Not an IPv4 ADDRESS:PORT: ${text}`);
  }
  return { address, port };
}

/** A destination as a sockaddr, and its family. */
function destinationOf(text: string, port: number) {
  const v4 = parseIPv4(text);
  if (v4 !== null) return { family: AF_INET, sockaddr: sockaddrIn(v4, port) };
  const v6 = parseIPv6(text);
  if (v6 === null) throw new RangeError(`Not an IP address: ${text}`);
  return { family: AF_INET6, sockaddr: sockaddrIn6(v6, port), multicast: v6[0] === 0xff };
}

/** Makes the i-th payload. */
type PayloadMaker = (i: number) => Uint8Array;

async function payloads(
  kind: string,
  count: number,
  base: string | undefined,
  joolVersion: string | undefined,
  seed: number,
  size: number | undefined,
): Promise<PayloadMaker> {
  switch (kind) {
    case "json":
    case "empty": {
      const bytes = encoder.encode(kind === "json" ? "json" : "");
      return () => bytes;
    }
    case "request": {
      const nonces = new BigUint64Array(count);
      crypto.getRandomValues(nonces);
      return (i) =>
        encodeControlMessage({ type: ControlType.REQUEST, nonce: nonces[i], instance: "default" });
    }
    case "garbage": {
      if (base === undefined) throw new Error("--payload garbage needs --base FILE");
      let encoding = null;
      if (joolVersion !== undefined) {
        const version = parseVersion(joolVersion);
        if (version === null) throw new Error(`Not a Jool version: ${joolVersion}`);
        encoding = sessionEncodingFor(version);
      }
      // At most 10,000 different ones, sent in turn: making and checking each
      // costs about 0.4 ms under TCG, and the daemon's filter sees no difference.
      const made = garbageDatagrams(
        await Deno.readFile(base),
        Math.min(count, DISTINCT_GARBAGE),
        seededRandom(seed),
        encoding ?? undefined,
      );
      return (i) => made[i % made.length].data;
    }
    case "sealed-garbage": {
      if (base === undefined) throw new Error("--payload sealed-garbage needs --base FILE");
      const make = sealedGarbage(await Deno.readFile(base), size);
      return (i) => make(i, Date.now() * 1000);
    }
    default:
      throw new Error(`Unknown payload: ${kind} (json, empty, request, garbage, sealed-garbage)`);
  }
}

interface UdpPlan {
  to: string;
  port: number;
  interfaceName: string | undefined;
  count: number;
  /** Datagrams a second at most; 0: no pacing. */
  rate: number;
  sourcePorts: number;
  firstSourcePort: number;
  /** A file to create once the payloads are made and sending starts. */
  startedFile: string | undefined;
  /** Stops sending after this many seconds, `count` or not; undefined: no limit. */
  seconds: number | undefined;
}

async function floodUdp(sockets: Sockets, libc: Libc, plan: UdpPlan, payload: PayloadMaker) {
  const scope = plan.interfaceName === undefined ? 0 : interfaceIndex(libc, plan.interfaceName);
  if (plan.interfaceName !== undefined && scope === 0) {
    throw new Error(`No interface ${plan.interfaceName} in this namespace`);
  }
  const destination = destinationOf(plan.to, plan.port);
  const any = destination.family === AF_INET ? sockaddrIn(new Uint8Array(4), 0) : null;
  let sent = 0;
  let blocked = 0;
  if (plan.startedFile !== undefined) await Deno.writeTextFile(plan.startedFile, "");
  const started = performance.now();
  const until = plan.seconds === undefined ? Infinity : started + plan.seconds * 1000;
  const perPort = Math.ceil(plan.count / plan.sourcePorts);
  for (let p = 0; p < plan.sourcePorts && sent < plan.count && performance.now() < until; p++) {
    const port = plan.firstSourcePort + p;
    const fd = sockets.open(destination.family, SOCK_DGRAM, 0, "flood");
    try {
      sockets.bind(
        fd,
        any === null ? sockaddrIn6(new Uint8Array(16), port) : sockaddrIn(new Uint8Array(4), port),
        `port ${port}`,
      );
      if (destination.multicast) {
        sockets.setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, scope, "IPV6_MULTICAST_IF");
      }
      for (let i = 0; i < perPort && sent < plan.count; i++) {
        if (i % 256 === 0 && performance.now() >= until) break;
        if (plan.rate > 0) {
          const due = started + (sent * 1000) / plan.rate;
          const wait = due - performance.now();
          if (wait >= 1) await sleep(wait);
        }
        while (sockets.send(fd, payload(sent), destination.sockaddr, "flood") === null) {
          blocked++;
          await sleep(1);
        }
        sent++;
      }
    } finally {
      sockets.close(fd, "flood");
    }
  }
  return {
    sent,
    blocked,
    sourcePorts: plan.sourcePorts,
    durationMs: Math.round(performance.now() - started),
  };
}

function forge(sockets: Sockets, from: string, to: string, payload: Uint8Array) {
  const source = parseEndpoint4(from);
  const destination = parseEndpoint4(to);
  const fd = sockets.open(AF_INET, SOCK_RAW, IPPROTO_RAW, "raw IPv4");
  try {
    const packet = udpOverIPv4(
      source.address,
      source.port,
      destination.address,
      destination.port,
      payload,
    );
    if (sockets.send(fd, packet, sockaddrIn(destination.address, 0), "forged") === null) {
      throw new Error("The raw socket's buffer is full");
    }
    return { forged: 1, from, to, bytes: payload.byteLength };
  } finally {
    sockets.close(fd, "raw IPv4");
  }
}

/** One worker of the metrics flood: connects again and again until `until`. */
async function httpWorker(
  host: string,
  port: number,
  until: number,
  asks: boolean,
  tally: Record<string, number>,
) {
  const request = encoder.encode(
    `GET /metrics HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
  );
  const buffer = new Uint8Array(64 * 1024);
  while (performance.now() < until) {
    let connection: Deno.TcpConn;
    try {
      connection = await Deno.connect({ hostname: host, port });
    } catch {
      tally.connectFailed++;
      await sleep(5);
      continue;
    }
    tally.connections++;
    try {
      if (asks) await connection.write(request);
      let bytes = 0;
      let head = "";
      // Read until the server closes (answer done, deadline, or replaced), or the flood ends.
      const deadline = setTimeout(() => {
        try {
          connection.close();
        } catch {
          // already closed
        }
      }, Math.max(1, until - performance.now()));
      try {
        while (true) {
          const n = await connection.read(buffer);
          if (n === null) break;
          if (head === "") head = new TextDecoder().decode(buffer.subarray(0, Math.min(n, 16)));
          bytes += n;
        }
      } finally {
        clearTimeout(deadline);
      }
      if (asks && head.startsWith("HTTP/1.1 200")) tally.answers++;
      else if (asks) tally.unanswered++;
      else tally.idleClosed++;
      tally.bytes += bytes;
    } catch {
      tally.resets++;
    } finally {
      try {
        connection.close();
      } catch {
        // already closed
      }
    }
  }
}

async function floodHttp(host: string, port: number, seconds: number, connections: number) {
  const tally = {
    connections: 0,
    connectFailed: 0,
    answers: 0,
    unanswered: 0,
    idleClosed: 0,
    resets: 0,
    bytes: 0,
  };
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from(
      { length: connections },
      (_, i) => httpWorker(host, port, until, i % 2 === 0, tally),
    ),
  );
  return { ...tally, durationMs: Math.round(performance.now() - started) };
}

async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      to: { type: "string" },
      from: { type: "string" },
      port: { type: "string" },
      interface: { type: "string" },
      payload: { type: "string", default: "json" },
      count: { type: "string", default: "1" },
      rate: { type: "string", default: "0" },
      "source-ports": { type: "string", default: "1" },
      "first-source-port": { type: "string", default: "30000" },
      base: { type: "string" },
      "jool-version": { type: "string" },
      seed: { type: "string", default: "6464" },
      seconds: { type: "string" },
      size: { type: "string" },
      connections: { type: "string", default: "32" },
      report: { type: "string" },
      started: { type: "string" },
    },
  });
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  let result: Record<string, unknown>;
  try {
    switch (positionals[0]) {
      case "udp": {
        const count = Number(values.count);
        const maker = await payloads(
          values.payload,
          count,
          values.base,
          values["jool-version"],
          Number(values.seed),
          values.size === undefined ? undefined : Number(values.size),
        );
        result = await floodUdp(sockets, libc, {
          to: values.to ?? "",
          port: Number(values.port),
          interfaceName: values.interface,
          count,
          rate: Number(values.rate),
          sourcePorts: Number(values["source-ports"]),
          firstSourcePort: Number(values["first-source-port"]),
          startedFile: values.started,
          seconds: values.seconds === undefined ? undefined : Number(values.seconds),
        }, maker);
        result = { payload: values.payload, ...result };
        break;
      }
      case "forge":
        result = forge(
          sockets,
          values.from ?? "",
          `${values.to}:${values.port}`,
          encoder.encode(values.payload),
        );
        break;
      case "http":
        result = await floodHttp(
          values.to ?? "",
          Number(values.port),
          Number(values.seconds ?? 10),
          Number(values.connections),
        );
        break;
      default:
        throw new Error("Usage: flood.ts udp|forge|http --to ADDRESS --port PORT [options]");
    }
  } finally {
    libc.close();
  }
  const line = JSON.stringify(result);
  if (values.report !== undefined) await Deno.writeTextFile(values.report, line + "\n");
  console.log(`flood: ${line}`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`flood: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
