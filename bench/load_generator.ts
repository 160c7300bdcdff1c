/**
 * Creates new UDP sessions on a NAT64 node at a controlled rate, for the
 * session-sync benchmark (scripts/bench_sync.ts). Run it in the IPv6 client's
 * network namespace:
 *
 * ```sh
 * deno run --allow-ffi --allow-read bench/load_generator.ts \
 *   --count 30000 --rate 6700 --source 2001:db8:1::100 --destination 64:ff9b::c000:202
 * ```
 *
 * Every packet is one UDP datagram from a source (address, port) never used
 * before in the run, so each one makes the translator create one session.
 * Packets are written whole (IPv6 header included) to a raw socket, so any
 * number of source addresses works without configuring them: session `i`
 * (counted from `--first-index`) comes from port `first-port + i %
 * ports-per-address` of the source address plus `floor(i /
 * ports-per-address)`. Nothing listens for replies.
 *
 * Pacing: packet `i` is due `i / rate` seconds after the start; the
 * generator sleeps (a timed futex wait, finer than timers) until the next
 * one is due and sends it alone, so sessions arrive evenly spaced, as from
 * many independent clients. Packets already due when it falls behind go out
 * up to `--burst` per sendmmsg(2). `--rate 0` sends as fast as it can, 64 per
 * call. It prints one JSON line: packets sent, seconds, achieved rate, calls,
 * how far behind it fell, and how often the socket buffer was full.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { AF_INET6, SO_SNDBUF, SO_SNDBUFFORCE, SOCK_RAW, SOL_SOCKET } from "../ffi/constants.ts";
import { DatagramBatch } from "./datagram_batch.ts";
import { Libc } from "../ffi/libc.ts";
import { sockaddrIn6 } from "../ffi/sockaddr.ts";
import { Sockets } from "../ffi/sockets.ts";
import { parseIPv6 } from "../src/net/ip.ts";

/** IPPROTO_RAW: on an AF_INET6 raw socket it implies IPV6_HDRINCL. */
const IPPROTO_RAW = 255;
const IPPROTO_UDP = 17;
const IPV6_HEADER = 40;
const UDP_HEADER = 8;
const PAYLOAD = 8;
const PACKET = IPV6_HEADER + UDP_HEADER + PAYLOAD;
/** Packets per sendmmsg(2) at most. */
const BATCH = 64;

/** What the generator is told to do. */
export interface LoadPlan {
  /** Sessions (packets) to create. */
  count: number;
  /** Packets per second; 0 for as fast as possible. */
  rate: number;
  /** First source address. */
  source: Uint8Array;
  /** Destination (an address in the translator's pool6). */
  destination: Uint8Array;
  /** Destination UDP port. */
  port: number;
  /** Source port of the first session on each source address. */
  firstPort: number;
  /** Source ports used per source address before moving to the next. */
  portsPerAddress: number;
  /** Most packets sent in one call when the generator is behind. */
  burst: number;
  /** Number of the first session: runs with different ones create different sessions. */
  firstIndex: number;
}

/** What the generator did. */
export interface LoadResult {
  sent: number;
  seconds: number;
  /** Packets per second over the whole run. */
  rate: number;
  /** sendmmsg(2) calls made. */
  calls: number;
  /** Most packets that were ever due but not sent yet (how far it fell behind). */
  maxBehind: number;
  /**
   * CPU seconds the generator used while sending (user and system: its
   * sends run Jool's translation and make the sessions). The same work in
   * every run, so it tells how fast the emulated CPU ran meanwhile.
   */
  cpuSeconds: number;
  /** Times the socket's send buffer was full and the generator had to wait. */
  bufferFull: number;
}

/**
 * Writes packets of a plan. The IPv6 and UDP headers are a template; per
 * packet only the source address's last 32 bits, the source port, the
 * packet number in the payload and the UDP checksum change, and the
 * checksum is the template's sum plus those words.
 */
export class PacketWriter {
  readonly #plan: LoadPlan;
  readonly #template = new Uint8Array(PACKET);
  readonly #baseSum: number;
  /** The last 32 bits of the first source address. */
  readonly #sourceLow: number;

  constructor(plan: LoadPlan) {
    this.#plan = plan;
    const packet = this.#template;
    const view = new DataView(packet.buffer);
    view.setUint32(0, 0x60000000); // version 6, no traffic class, no flow label
    view.setUint16(4, UDP_HEADER + PAYLOAD); // payload length
    packet[6] = IPPROTO_UDP;
    packet[7] = 64; // hop limit
    packet.set(plan.source, 8);
    packet.set(plan.destination, 24);
    view.setUint16(42, plan.port);
    view.setUint16(44, UDP_HEADER + PAYLOAD);
    view.setUint32(52, 0x6a6f6f6c); // "jool"
    // RFC 8200 section 8.1: the pseudo-header (addresses, length, next
    // header) and the UDP datagram; the varying words are zero here.
    this.#sourceLow = view.getUint32(20);
    view.setUint32(20, 0);
    let sum = IPPROTO_UDP + UDP_HEADER + PAYLOAD;
    for (let offset = 8; offset < PACKET; offset += 2) sum += view.getUint16(offset);
    this.#baseSum = sum;
  }

  /** Writes packet `index` into `target` (at least PACKET bytes). */
  write(target: Uint8Array, index: number): void {
    const plan = this.#plan;
    target.set(this.#template);
    const addressLow = (this.#sourceLow + Math.floor(index / plan.portsPerAddress)) >>> 0;
    const sourcePort = plan.firstPort + (index % plan.portsPerAddress);
    const number = index >>> 0;
    putUint32(target, 20, addressLow);
    putUint16(target, 40, sourcePort);
    putUint32(target, 48, number);
    let sum = this.#baseSum + (addressLow >>> 16) + (addressLow & 0xffff) + sourcePort +
      (number >>> 16) + (number & 0xffff);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const checksum = ~sum & 0xffff;
    putUint16(target, 46, checksum === 0 ? 0xffff : checksum);
  }
}

function putUint16(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 8;
  target[offset + 1] = value & 0xff;
}

function putUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
}

/** Where packets go: numbered slots, sent `count` at a time. */
export interface PacketSink {
  /** Slots per {@link send}. */
  readonly slots: number;
  /** Slot `index`, to write a packet into. */
  slot(index: number): Uint8Array;
  /** Sends slots 0..count-1; returns how many went (0: buffer full, try later). */
  send(count: number): number;
}

/**
 * Sends `plan.count` packets into `sink`, evenly spaced: packet `i` is due
 * `i / rate` seconds after the start, and the generator sleeps until the
 * next one is due. Packets that are already due (the generator fell behind)
 * go out `plan.burst` per call.
 */
export async function generate(
  plan: LoadPlan,
  sink: PacketSink,
  sleep: (ms: number) => Promise<void>,
): Promise<LoadResult> {
  const writer = new PacketWriter(plan);
  const intervalMs = plan.rate === 0 ? 0 : 1000 / plan.rate;
  const burst = plan.rate === 0 ? sink.slots : Math.min(plan.burst, sink.slots);
  let sent = 0;
  let calls = 0;
  let bufferFull = 0;
  let maxBehind = 0;
  const start = performance.now();
  const cpuAtStart = process.cpuUsage();
  while (sent < plan.count) {
    const now = performance.now() - start;
    const due = intervalMs === 0
      ? plan.count
      : Math.min(plan.count, Math.floor(now / intervalMs) + 1);
    if (due <= sent) {
      await sleep(sent * intervalMs - now);
      continue;
    }
    maxBehind = Math.max(maxBehind, due - sent);
    const count = Math.min(burst, due - sent);
    for (let i = 0; i < count; i++) writer.write(sink.slot(i), plan.firstIndex + sent + i);
    const went = sink.send(count);
    calls++;
    sent += went;
    if (went < count) {
      bufferFull++;
      await sleep(1);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    sent,
    seconds,
    rate: seconds > 0 ? sent / seconds : 0,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    calls,
    maxBehind,
    bufferFull,
  };
}

function parsePlan(args: string[]): LoadPlan {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: "string", default: "30000" },
      rate: { type: "string", default: "0" },
      source: { type: "string", default: "2001:db8:1::100" },
      destination: { type: "string", default: "64:ff9b::c000:202" },
      port: { type: "string", default: "7777" },
      "first-port": { type: "string", default: "10000" },
      "ports-per-address": { type: "string", default: "50000" },
      burst: { type: "string", default: "1" },
      "first-index": { type: "string", default: "0" },
    },
  });
  const integer = (name: string, text: string, min: number, max: number): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new Error(`--${name}: must be an integer from ${min} to ${max}, got ${text}`);
    }
    return value;
  };
  const address = (name: string, text: string): Uint8Array => {
    const bytes = parseIPv6(text);
    if (bytes === null) throw new Error(`--${name}: not an IPv6 address: ${text}`);
    return bytes;
  };
  const plan: LoadPlan = {
    count: integer("count", values.count, 1, 10_000_000),
    rate: integer("rate", values.rate, 0, 10_000_000),
    source: address("source", values.source),
    destination: address("destination", values.destination),
    port: integer("port", values.port, 1, 65535),
    firstPort: integer("first-port", values["first-port"], 1, 65535),
    portsPerAddress: integer("ports-per-address", values["ports-per-address"], 1, 65535),
    burst: integer("burst", values.burst, 1, BATCH),
    firstIndex: integer("first-index", values["first-index"], 0, 2 ** 31),
  };
  if (plan.firstPort + plan.portsPerAddress - 1 > 65535) {
    throw new Error("--first-port + --ports-per-address must stay within 65535");
  }
  return plan;
}

async function main(): Promise<number> {
  let plan: LoadPlan;
  try {
    plan = parsePlan(Deno.args);
  } catch (error) {
    console.error(`load_generator: ${error instanceof Error ? error.message : error}`);
    return 2;
  }
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const fd = sockets.open(AF_INET6, SOCK_RAW, IPPROTO_RAW, "AF_INET6, SOCK_RAW");
  try {
    sockets.setIntOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20, "SO_SNDBUFFORCE");
  } catch {
    sockets.setIntOption(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20, "SO_SNDBUF");
  }
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const batch = new DatagramBatch(libc, BATCH, PACKET, sockaddrIn6(plan.destination, 0));
  const result = await generate(
    plan,
    {
      slots: BATCH,
      slot: (index) => batch.slot(index),
      send: (count) => batch.send(fd, count, "raw IPv6"),
    },
    // Timers have millisecond granularity; packets at 13,400/s are 75 us
    // apart. A timed futex wait sleeps as briefly as asked, without spinning.
    (ms) => {
      Atomics.wait(sleeper, 0, 0, Math.max(0, ms));
      return Promise.resolve();
    },
  );
  sockets.close(fd, "raw IPv6");
  libc.close();
  console.log(JSON.stringify(result));
  return 0;
}

if (import.meta.main) Deno.exit(await main());
