/**
 * The convergence benchmark's table filler (bench/convergence_guest.sh runs
 * it in a node's namespace): writes COUNT synthetic UDP sessions into the
 * node's Jool instance the way the daemon hands a peer's sessions to its
 * kernel, JOOLD_ADD messages in the module's own encoding, each as full as a
 * netlink attribute can be (its length is 16 bits). Creating a million
 * sessions with packets under the emulated CPU would take hours; this
 * takes minutes. The instance must have ss-enabled on (the kernel refuses
 * adds otherwise).
 *
 * ```sh
 * session_injector.ts --count 100000 --expiration-ms 7080000
 * session_injector.ts --first-index 100000 --count 20 --buckets 16 --expiration-ms 7080000
 * ```
 *
 * Session `i` is the same on every node (so that two nodes injected with
 * the same range hold the same table), valid for the e2e topology's
 * instance: pool6 64:ff9b::/96, pool4 192.0.2.1 61001-65535. `--buckets K`
 * keeps only indexes whose session falls in one of the first K digest
 * buckets met (src/sync/table_digest.ts), so that exactly those buckets
 * differ between a node that has them and one that has not. Prints one
 * JSON line: sessions added, messages, seconds, the kernel's refusals, the
 * buckets.
 *
 * Not part of the daemon: a measuring tool, run with --allow-all.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { errorText } from "../src/error_text.ts";
import { LevelLogger } from "../src/log.ts";
import { openRequestLink, withSystem } from "../src/commands/system.ts";
import { readJoolModuleVersion } from "../src/jool_module_version.ts";
import {
  encodeSessions,
  type Session,
  type SessionEncoding,
  sessionEncodingFor,
  sessionEntryLength,
  TABLE_READ_ENCODING,
} from "../src/jool/session.ts";
import { readCheckedSessionFields } from "../src/jool/session_decode.ts";
import { MAX_ATTRIBUTE_PAYLOAD } from "../src/jool/messages.ts";
import { TableDigest } from "../src/sync/table_digest.ts";
import { SyncCounters } from "../src/stats/counters.ts";

/** BIB entries the sessions share: pool4 ports 61001.. of the topology's 4,535. */
export const BIB_ENTRIES = 4000;
/** The topology's pool4 address and first port (tests/e2e/lib/topology.sh). */
const POOL4_ADDRESS = "192.0.2.1";
const FIRST_POOL4_PORT = 61001;
/** The client's address (node 1's, tests/e2e/lib/topology.sh) and its first port. */
const CLIENT_ADDRESS = "2001:db8:1::2";
const FIRST_CLIENT_PORT = 10000;
/** Destinations: 198.18.0.0/15 (RFC 2544's benchmarking range), one port. */
const DESTINATION_BASE = (198 << 24) | (18 << 16);
const DESTINATION_PORT = 7777;
/** The most sessions {@link syntheticSession} makes distinct (131,072 destinations per BIB entry). */
export const MAX_SESSIONS = BIB_ENTRIES * 131_072;

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join(".");
}

/**
 * Session `index`: BIB entry `index mod BIB_ENTRIES` (client port and pool4
 * port), destination `index / BIB_ENTRIES` (an address of 198.18.0.0/15,
 * and the same one under pool6). Its remaining time is `expirationMs`.
 */
export function syntheticSession(index: number, expirationMs: number): Session {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_SESSIONS) {
    throw new RangeError(`Session index ${index} is not an integer from 0 to ${MAX_SESSIONS - 1}`);
  }
  const bib = index % BIB_ENTRIES;
  const destination = ipv4Text(DESTINATION_BASE + Math.floor(index / BIB_ENTRIES));
  return {
    proto: "UDP",
    src6: { address: CLIENT_ADDRESS, port: FIRST_CLIENT_PORT + bib },
    dst6: { address: `64:ff9b::${destination}`, port: DESTINATION_PORT },
    src4: { address: POOL4_ADDRESS, port: FIRST_POOL4_PORT + bib },
    dst4: { address: destination, port: DESTINATION_PORT },
    state: 0,
    timer: 0,
    expirationMs,
  };
}

/** The digest bucket of a session (what a convergence round files it under). */
export function bucketOf(session: Session, digest = new TableDigest()): number {
  const [fields] = readCheckedSessionFields(
    encodeSessions([session], TABLE_READ_ENCODING),
    TABLE_READ_ENCODING,
  );
  return digest.bucketOf(fields);
}

/**
 * `count` session indexes from `first` on; with `buckets`, only those whose
 * session falls in one of the first `buckets` buckets met. Returns them and
 * those buckets (sorted; none without `buckets`: hashing a million
 * sessions only to list the 256 buckets takes minutes under TCG).
 */
export function pickIndexes(
  first: number,
  count: number,
  buckets: number | null,
): { indexes: number[]; buckets: number[] } {
  const indexes: number[] = [];
  const allowed = new Set<number>();
  const digest = new TableDigest();
  for (let index = first; indexes.length < count; index++) {
    if (buckets === null) {
      indexes.push(index);
      continue;
    }
    const bucket = bucketOf(syntheticSession(index, 0), digest);
    if (!allowed.has(bucket)) {
      if (allowed.size >= buckets) continue;
      allowed.add(bucket);
    }
    indexes.push(index);
  }
  return { indexes, buckets: [...allowed].sort((a, b) => a - b) };
}

/** Sessions per JOOLD_ADD in `encoding`: as many as the attribute holds. */
export function sessionsPerAdd(encoding: SessionEncoding): number {
  return Math.floor(MAX_ATTRIBUTE_PAYLOAD / sessionEntryLength(encoding));
}

/** The JOOLD_ADD payloads of `indexes`, in order, each of at most {@link sessionsPerAdd}. */
export function* addPayloads(
  indexes: readonly number[],
  expirationMs: number,
  encoding: SessionEncoding,
): Generator<Uint8Array> {
  const step = sessionsPerAdd(encoding);
  for (let at = 0; at < indexes.length; at += step) {
    const sessions = indexes.slice(at, at + step).map((i) => syntheticSession(i, expirationMs));
    yield encodeSessions(sessions, encoding);
  }
}

function integer(name: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\d+$/.test(text)) throw new RangeError(`--${name} must be a whole number, got '${text}'`);
  return Number(text);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string" },
      "first-index": { type: "string", default: "0" },
      buckets: { type: "string" },
      "expiration-ms": { type: "string" },
      instance: { type: "string", default: "default" },
    },
  });
  const count = integer("count", values.count);
  const expirationMs = integer("expiration-ms", values["expiration-ms"]);
  const first = integer("first-index", values["first-index"])!;
  const buckets = integer("buckets", values.buckets);
  if (count === null || expirationMs === null) {
    console.error("session_injector: --count and --expiration-ms are required");
    return 2;
  }
  const logger = new LevelLogger("info", (level, line) => console.error(`${level}: ${line}`));
  const picked = pickIndexes(first, count, buckets);
  return await withSystem(logger, async (tools) => {
    const version = readJoolModuleVersion(tools.libc, logger);
    if (version === null) throw new Error("Cannot read the Jool module's version");
    const encoding = sessionEncodingFor(version);
    const counters = new SyncCounters();
    const link = await openRequestLink(tools, values.instance, counters);
    try {
      await link.probe(); // the instance exists and takes sessions (ss-enabled)
      const started = performance.now();
      let messages = 0;
      for (const payload of addPayloads(picked.indexes, expirationMs, encoding)) {
        link.add(payload, "session_injector");
        messages++;
        // Refusals come back as replies: let the reactor read them now and then.
        if (messages % 64 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      // Replies come in order: once the probe's answer is in, every add has been handled.
      await link.probe();
      const seconds = (performance.now() - started) / 1000;
      const { kernelErrors } = counters;
      console.log(JSON.stringify({
        sessions: picked.indexes.length,
        firstIndex: first,
        encoding,
        messages,
        seconds: Number(seconds.toFixed(2)),
        refused: kernelErrors,
        buckets: picked.buckets,
      }));
      return kernelErrors === 0 ? 0 : 1;
    } finally {
      link.close();
    }
  });
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`session_injector: ${errorText(error)}`);
    Deno.exit(1);
  }
}
