/**
 * Invalid datagrams for the `garbage` end-to-end scenario: mutations of a
 * valid session batch captured on the sync link, plus pure noise, each of
 * which a peer's datagram filter must drop (never hand to its kernel).
 *
 * ```sh
 * garbage_datagrams.ts capture --interface sync0 --jool-version 4.1.15.0 --out base.bin
 * garbage_datagrams.ts send --interface sync0 --base base.bin --count 1000 --report sent.json
 * ```
 *
 * Both join the sync group as a daemon would (the project's MulticastSocket,
 * bound to the group and port), so `send` datagrams come from the sync port
 * of this namespace's address. The base batch's encoding is the one the
 * kernel writes (`--jool-version`, the text of /sys/module/jool/version, says
 * which; without it, the encoding of the first valid batch seen); `send`
 * takes it from the base, in which exactly one encoding is valid (an entry's
 * length alone tells them apart: 140 bytes nested, 52 raw48, 40 raw36).
 *
 * Why each kind of datagram is invalid in every encoding a filter may
 * expect: docs/testing.md, "Why the garbage is garbage". Each datagram is
 * also run through the filter, which fails the scenario loudly if one
 * would be accepted.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Libc } from "../../../ffi/libc.ts";
import { interfaceIndex } from "../../../ffi/interfaces.ts";
import { Sockets } from "../../../ffi/sockets.ts";
import type { NetsocketConfig } from "../../../src/config/netsocket.ts";
import { parseVersion } from "../../../src/jool/header.ts";
import { JNLAL_ENTRY, SessionAttribute } from "../../../src/jool/protocol.ts";
import {
  ALL_SESSION_ENCODINGS,
  SESSION_ENCODINGS,
  type SessionEncoding,
  sessionEncodingFor,
  sessionEntryLength,
  validateSessions,
} from "../../../src/jool/session.ts";
import { NLA_HDRLEN, NLA_TYPE_MASK, nlaAlign } from "../../../src/netlink/attribute.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../../ffi/native_endian.ts";
import { formatIPv6, parseIPv6 } from "../../../src/net/ip.ts";
import { DatagramFilter } from "../../../src/sync/datagram_filter.ts";
import { MulticastSocket } from "../../../src/sync/multicast_socket.ts";

/** How a datagram was made. */
export type GarbageKind =
  | "empty"
  | "truncated"
  | "extended"
  | "entry-length"
  | "entry-type"
  | "header-flip"
  | "bad-value"
  | "random";

/** One datagram to send. */
export interface Garbage {
  kind: GarbageKind;
  data: Uint8Array;
}

/** The session encodings of Jool 4.1, oldest first. */
export const ENCODINGS: readonly SessionEncoding[] = ALL_SESSION_ENCODINGS;

const NESTED: SessionEncoding = "nested-4.1.0";
/** Bytes of one nested entry, its header included. */
const ENTRY_LENGTH = sessionEntryLength(NESTED);
/** The entry lengths of the raw encodings. */
const RAW_ENTRY_LENGTHS: readonly number[] = ALL_SESSION_ENCODINGS
  .filter((encoding) => !SESSION_ENCODINGS[encoding].nested)
  .map(sessionEntryLength);
/** The shortest entry that can hold the eight nested fields (see the module documentation). */
const NESTED_SHORTEST_ENTRY = 137;

/** The kinds cycled through after the single `empty` datagram, per encoding. */
const NESTED_CYCLE: readonly GarbageKind[] = [
  "truncated",
  "extended",
  "entry-length",
  "header-flip",
  "bad-value",
  "random",
];
const RAW_CYCLE: readonly GarbageKind[] = [
  "truncated",
  "extended",
  "entry-length",
  "entry-type",
  "bad-value",
  "random",
];

/** The kinds of datagram made from a base in `encoding`, `empty` first. */
export function garbageKinds(encoding: SessionEncoding): GarbageKind[] {
  return ["empty", ...(SESSION_ENCODINGS[encoding].nested ? NESTED_CYCLE : RAW_CYCLE)];
}

/** Largest `random` datagram. */
const MAX_RANDOM_LENGTH = 1400;

/** A PRNG: uniform in [0, 1), the same sequence for the same seed (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function readU16(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint16(offset, NATIVE_LITTLE_ENDIAN);
}

function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint16(offset, value, NATIVE_LITTLE_ENDIAN);
}

/** An attribute header inside a batch. */
interface Header {
  offset: number;
  /** Type without flags. */
  type: number;
  /** 0: an entry; 1: a field; 2: ADDR or PORT inside SRC6..DST4. */
  depth: number;
  /**
   * The lengths the header could have with the same meaning: from its
   * content's end to that rounded up to 4 (a container whose last member
   * is a 2-byte PORT may count that member's padding or not).
   */
  sameMeaning: [number, number];
}

const ADDRESS_FIELDS: ReadonlySet<number> = new Set([
  SessionAttribute.SRC6,
  SessionAttribute.DST6,
  SessionAttribute.SRC4,
  SessionAttribute.DST4,
]);

/** Appends the headers in [start, end) to `out`; returns where the last one's content ends. */
function walk(bytes: Uint8Array, start: number, end: number, depth: number, out: Header[]): number {
  let contentEnd = start;
  for (let offset = start; offset < end;) {
    const length = readU16(bytes, offset);
    const type = readU16(bytes, offset + 2) & NLA_TYPE_MASK;
    const header: Header = { offset, type, depth, sameMeaning: [length, length] };
    out.push(header);
    if (depth === 0 || (depth === 1 && ADDRESS_FIELDS.has(type))) {
      const shortest = walk(bytes, offset + NLA_HDRLEN, offset + length, depth + 1, out) - offset;
      header.sameMeaning = [shortest, nlaAlign(shortest)];
    }
    contentEnd = offset + length;
    offset += nlaAlign(length);
  }
  return contentEnd;
}

/**
 * Checks that `base` is a canonical nested batch (see the module
 * documentation) and returns every attribute header in it.
 *
 * @throws {Error} If it is not.
 */
export function canonicalHeaders(base: Uint8Array): Header[] {
  checkBase(base, NESTED);
  if (base.byteLength % ENTRY_LENGTH !== 0) {
    throw new Error(
      `The base batch's ${base.byteLength} bytes are not whole ${ENTRY_LENGTH}-byte entries`,
    );
  }
  const headers: Header[] = [];
  walk(base, 0, base.byteLength, 0, headers);
  for (let entry = 0; entry < base.byteLength; entry += ENTRY_LENGTH) {
    const fields = headers.filter((h) =>
      h.depth === 1 && h.offset > entry && h.offset < entry + ENTRY_LENGTH
    ).map((h) => h.type);
    if (readU16(base, entry) !== ENTRY_LENGTH || fields.join() !== "1,2,3,4,5,6,7,8") {
      throw new Error(`The base batch's entry at ${entry} is not in the kernel's canonical layout`);
    }
  }
  return headers;
}

/**
 * The encoding a non-empty batch is valid in, or null if none. At most one
 * is: an entry's length alone tells them apart.
 */
export function encodingOf(batch: Uint8Array): SessionEncoding | null {
  if (batch.byteLength === 0) return null;
  return ENCODINGS.find((encoding) => validateSessions(batch, encoding) === null) ?? null;
}

/** @throws {Error} If `base` is not a non-empty valid batch in `encoding`. */
function checkBase(base: Uint8Array, encoding: SessionEncoding): void {
  const problem = base.byteLength === 0 ? "it is empty" : validateSessions(base, encoding);
  if (problem !== null) {
    throw new Error(`The base batch is not a valid ${encoding} batch: ${problem}`);
  }
}

/** 1 to {@link MAX_RANDOM_LENGTH} random bytes. */
function noise(random: () => number): Uint8Array {
  return Uint8Array.from(
    { length: randomInt(random, 1, MAX_RANDOM_LENGTH) },
    () => randomInt(random, 0, 255),
  );
}

function mutateNested(
  base: Uint8Array,
  headers: readonly Header[],
  kind: GarbageKind,
  random: () => number,
): Uint8Array {
  const copy = () => base.slice();
  switch (kind) {
    case "empty":
      return new Uint8Array(0);
    case "truncated": {
      let length;
      do length = randomInt(random, 1, base.byteLength - 1); while (length % ENTRY_LENGTH === 0);
      return base.slice(0, length);
    }
    case "extended": {
      const tail = Uint8Array.from(
        { length: randomInt(random, 1, ENTRY_LENGTH - 1) },
        () => randomInt(random, 0, 255),
      );
      const data = new Uint8Array(base.byteLength + tail.byteLength);
      data.set(base);
      data.set(tail, base.byteLength);
      return data;
    }
    case "entry-length": {
      const data = copy();
      const entry = ENTRY_LENGTH * randomInt(random, 0, base.byteLength / ENTRY_LENGTH - 1);
      let length;
      do length = randomInt(random, 0, 0xffff); while (length === ENTRY_LENGTH);
      writeU16(data, entry, length);
      return data;
    }
    case "header-flip": {
      const data = copy();
      const header = headers[randomInt(random, 0, headers.length - 1)];
      // The low byte of the u16 length (at +0) or type (at +2), in host order.
      const isLength = random() < 0.5;
      const at = header.offset + (isLength ? 0 : 2) + (NATIVE_LITTLE_ENDIAN ? 0 : 1);
      const [shortest, longest] = header.sameMeaning;
      let flipped;
      do {
        flipped = data[at] ^ randomInt(random, 1, 255);
        data[at] = flipped;
        // A length that only adds or drops a container's final padding means the same.
        if (!isLength) break;
        const length = readU16(data, header.offset);
        if (length < shortest || length > longest) break;
        data[at] = base[at];
      } while (true);
      return data;
    }
    case "bad-value": {
      const data = copy();
      const choices = headers.filter((h) =>
        h.depth === 1 &&
        (h.type === SessionAttribute.PROTO || h.type === SessionAttribute.STATE ||
          h.type === SessionAttribute.TIMER)
      );
      const header = choices[randomInt(random, 0, choices.length - 1)];
      // Highest valid: ICMP 2, TRANS 6, SYN4 2.
      const lowest = header.type === SessionAttribute.STATE ? 7 : 3;
      data[header.offset + NLA_HDRLEN] = randomInt(random, lowest, 255);
      return data;
    }
    case "random":
      return noise(random);
    case "entry-type":
      throw new Error("entry-type is a mutation of raw entries");
  }
}

/** A random u16 for which `not` is false. */
function otherU16(random: () => number, not: (value: number) => boolean): number {
  let value;
  do value = randomInt(random, 0, 0xffff); while (not(value));
  return value;
}

/** A mutation of `base`, a valid batch of `entryLength`-byte raw entries. */
function mutateRaw(
  base: Uint8Array,
  entryLength: number,
  kind: GarbageKind,
  random: () => number,
): Uint8Array {
  const entries = base.byteLength / entryLength;
  const someEntry = () => entryLength * randomInt(random, 0, entries - 1);
  switch (kind) {
    case "truncated": {
      let length;
      do length = randomInt(random, 1, base.byteLength - 1); while (length % entryLength === 0);
      return base.slice(0, length);
    }
    case "extended": {
      const data = new Uint8Array(base.byteLength + randomInt(random, 1, entryLength - 1));
      data.set(base);
      for (let i = base.byteLength; i < data.byteLength; i++) data[i] = randomInt(random, 0, 255);
      return data;
    }
    case "entry-length": {
      const data = base.slice();
      const entry = someEntry();
      // The first entry must not become a whole entry of another encoding.
      const readable = (length: number) =>
        entry === 0 && length <= base.byteLength &&
        (RAW_ENTRY_LENGTHS.includes(length) || length >= NESTED_SHORTEST_ENTRY);
      writeU16(data, entry, otherU16(random, (l) => l === entryLength || readable(l)));
      return data;
    }
    case "entry-type": {
      const data = base.slice();
      writeU16(data, someEntry() + 2, otherU16(random, (t) => (t & NLA_TYPE_MASK) === JNLAL_ENTRY));
      return data;
    }
    case "bad-value": {
      const data = base.slice();
      // The packed u16 ends the entry, big-endian.
      const at = someEntry() + entryLength - 2;
      const view = new DataView(data.buffer, data.byteOffset);
      const packed = view.getUint16(at);
      const bad = [
        packed | (3 << 5), // protocol 3 (ICMP is 2)
        packed | (7 << 2), // state 7 (TRANS is 6)
        packed | 3, // timer 3 (SYN4 is 2)
        packed | (randomInt(random, 1, 0x1ff) << 7), // unused bits
      ];
      view.setUint16(at, bad[randomInt(random, 0, bad.length - 1)]);
      return data;
    }
    case "empty":
      return new Uint8Array(0);
    case "random":
      return noise(random);
    case "header-flip":
      throw new Error("header-flip is a mutation of nested entries");
  }
}

/**
 * What a daemon's filter would accept `data` as, or null if every filter
 * drops it: one that checks `encoding` (its kernel's), and one of a daemon
 * that does not know its kernel's encoding yet (it accepts any 4.1
 * encoding).
 */
export function acceptedAs(data: Uint8Array, encoding: SessionEncoding): string | null {
  if (new DatagramFilter(encoding).check(data) === null) return encoding;
  if (new DatagramFilter(null).check(data) === null) return "some Jool 4.1 encoding";
  return null;
}

/**
 * `count` invalid datagrams: one `empty`, then the other kinds of
 * {@link garbageKinds} in turn, made from `base` with `random`. `encoding`
 * is the base's (by default, the one it is valid in).
 *
 * @throws {Error} If `base` is not a valid batch in `encoding` (for nested,
 * a canonical one), or if a datagram would pass a filter (which the module
 * documentation rules out).
 */
export function garbageDatagrams(
  base: Uint8Array,
  count: number,
  random: () => number,
  encoding: SessionEncoding | null = encodingOf(base),
): Garbage[] {
  if (encoding === null) {
    throw new Error(
      `The base batch is not a valid batch in any Jool 4.1 encoding: ${
        base.byteLength === 0 ? "it is empty" : validateSessions(base, NESTED)
      }`,
    );
  }
  const headers = encoding === NESTED ? canonicalHeaders(base) : [];
  if (encoding !== NESTED) checkBase(base, encoding);
  const kinds = garbageKinds(encoding);
  const entryLength = sessionEntryLength(encoding);
  const out: Garbage[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i === 0 ? 0 : 1 + (i - 1) % (kinds.length - 1)];
    const data = encoding === NESTED
      ? mutateNested(base, headers, kind, random)
      : mutateRaw(base, entryLength, kind, random);
    const accepted = acceptedAs(data, encoding);
    if (accepted !== null) {
      throw new Error(
        `Datagram ${i} (${kind}, ${data.byteLength} bytes) would pass as ${accepted}: ` +
          Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(""),
      );
    }
    out.push({ kind, data });
  }
  return out;
}

/** Counts per kind, for the report. */
export function countKinds(garbage: readonly Garbage[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const g of garbage) counts[g.kind] = (counts[g.kind] ?? 0) + 1;
  return counts;
}

// ---------------------------------------------------------------------------
// Command line (runs in a namespace on the VM's sync link)

/**
 * A socket on the sync link as a daemon's: bound to `group` and `port`,
 * joined to the group on interface `name`, sending to the group from it.
 */
export function syncSocket(
  libc: Libc,
  group: string,
  port: number,
  name: string,
): MulticastSocket {
  const groupBytes = parseIPv6(group);
  if (groupBytes === null) throw new Error(`Not an IPv6 group: ${group}`);
  const index = interfaceIndex(libc, name);
  if (index === 0) throw new Error(`No interface ${name} in this namespace`);
  const choice = { kind: "name" as const, text: name, index };
  const config: NetsocketConfig = {
    file: "(garbage_datagrams)",
    family: "ipv6",
    address: formatIPv6(groupBytes),
    group: groupBytes,
    port,
    inInterface: choice,
    outInterface: choice,
    ttl: 3,
    controlPort: null,
    authKeyFile: null,
    unicastPeers: null,
  };
  return MulticastSocket.open(new Sockets(libc), config);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Collects the valid batches in `encoding` (null: in that of the first valid
 * one) seen on the group until `quietMs` pass without one (after the first)
 * or `timeoutMs` in all; returns them concatenated (still a valid batch),
 * their encoding and who sent them.
 */
async function capture(
  socket: MulticastSocket,
  encoding: SessionEncoding | null,
  timeoutMs: number,
  quietMs: number,
): Promise<
  { base: Uint8Array; encoding: SessionEncoding | null; datagrams: number; senders: Set<string> }
> {
  const parts: Uint8Array[] = [];
  const senders = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  let lastMs = 0;
  while (Date.now() < deadline && (parts.length === 0 || Date.now() - lastMs < quietMs)) {
    const got = socket.receive();
    if (got === null) {
      await sleep(10);
      continue;
    }
    const found = encodingOf(got.data);
    if (found === null || (encoding ?? found) !== found) continue;
    encoding = found;
    parts.push(got.data.slice());
    if (got.from !== null) senders.add(`[${formatIPv6(got.from.address)}]:${got.from.port}`);
    lastMs = Date.now();
  }
  const base = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    base.set(part, offset);
    offset += part.byteLength;
  }
  return { base, encoding, datagrams: parts.length, senders };
}

/** Sends every datagram, `burst` at a time with `pauseMs` between bursts. */
async function sendAll(
  socket: MulticastSocket,
  garbage: readonly Garbage[],
  burst: number,
  pauseMs: number,
): Promise<void> {
  for (let i = 0; i < garbage.length; i++) {
    while (!socket.send(garbage[i].data)) await sleep(1);
    if ((i + 1) % burst === 0) await sleep(pauseMs);
  }
}

async function main(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      group: { type: "string", default: "ff08::db8:64:64" },
      port: { type: "string", default: "6464" },
      interface: { type: "string", default: "sync0" },
      out: { type: "string" },
      base: { type: "string" },
      report: { type: "string" },
      // The text of /sys/module/jool/version: the base must be in its encoding.
      "jool-version": { type: "string" },
      count: { type: "string", default: "1000" },
      seed: { type: "string", default: "6464" },
      timeout: { type: "string", default: "20" },
      // Under TCG a daemon drains a few hundred datagrams a second: faster,
      // and its socket buffer overflows before it sees them.
      burst: { type: "string", default: "4" },
      pause: { type: "string", default: "10" },
    },
  });
  let encoding: SessionEncoding | null = null;
  if (values["jool-version"] !== undefined) {
    const version = parseVersion(values["jool-version"]);
    if (version === null) throw new Error(`Not a Jool version: ${values["jool-version"]}`);
    encoding = sessionEncodingFor(version);
  }
  const libc = Libc.open();
  const socket = syncSocket(libc, values.group, Number(values.port), values.interface);
  try {
    if (positionals[0] === "capture" && values.out !== undefined) {
      const got = await capture(socket, encoding, Number(values.timeout) * 1000, 1500);
      if (got.encoding === null) {
        throw new Error(
          `No valid batch${encoding === null ? "" : ` in ${encoding}`} seen within ` +
            `${values.timeout} s`,
        );
      }
      if (got.encoding === NESTED) canonicalHeaders(got.base);
      await Deno.writeFile(values.out, got.base);
      console.log(
        `garbage_datagrams: captured ${got.datagrams} valid batches ` +
          `(${got.base.byteLength / sessionEntryLength(got.encoding)} sessions, ` +
          `${got.encoding}) from ${[...got.senders].join(", ")}`,
      );
    } else if (positionals[0] === "send" && values.base !== undefined) {
      const base = await Deno.readFile(values.base);
      encoding ??= encodingOf(base);
      const garbage = garbageDatagrams(
        base,
        Number(values.count),
        seededRandom(Number(values.seed)),
        encoding,
      );
      const started = performance.now();
      await sendAll(socket, garbage, Number(values.burst), Number(values.pause));
      const report = {
        encoding,
        sent: garbage.length,
        bytes: garbage.reduce((sum, g) => sum + g.data.byteLength, 0),
        kinds: countKinds(garbage),
        durationMs: Math.round(performance.now() - started),
      };
      if (values.report !== undefined) {
        await Deno.writeTextFile(values.report, JSON.stringify(report) + "\n");
      }
      console.log(`garbage_datagrams: ${JSON.stringify(report)}`);
    } else {
      throw new Error(
        "Usage: garbage_datagrams.ts capture --out FILE | send --base FILE [--count N] " +
          "(either: [--jool-version VERSION])",
      );
    }
  } finally {
    socket.close();
    libc.close();
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`garbage_datagrams: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
