/**
 * The convergence check's digest of a session table (docs/lossless.md):
 * each session's identity (protocol, the IPv6 node's address and port, the
 * pool4 address and port, the IPv4 node's address and port; not its state
 * or timer) hashed to 64 bits, and the hashes XORed and counted in 256
 * buckets by 8 bits of the hash. Two tables with the same identities have
 * the same digest; a bucket that differs holds a difference, and splitting
 * it by the next 8 bits (a digest under a prefix) narrows it down. Pure:
 * the table's pages and the messages are the caller's.
 *
 * DIGEST control message (type 6), after the prefix and instance name of
 * every control message (control_message.ts):
 * ```
 * offset size field (big-endian)
 *     24    4 round (the asker's, echoed in answers)
 *     28    1 prefix bits (0, 8 or 16): the hashes whose top bits are `prefix`
 *     29    1 reserved
 *     30    2 prefix
 *     32    2 first bucket
 *     34    2 count of buckets (at most 64: a message fits a packet)
 *     36 12×n per bucket: XOR of the hashes (8), count (4)
 * ```
 *
 * A DIGEST under no prefix and of no bucket (36 bytes) starts a round: its
 * receivers read their tables and send their digests of that round
 * (src/daemon/convergence_check.ts).
 *
 * @module
 */

import type { SessionEncoding, SessionFields } from "../jool/session_layout.ts";
import { readCheckedSessionFields } from "../jool/session_decode.ts";
import {
  CONTROL_PREFIX_LENGTH,
  ControlType,
  controlTypeOf,
  newControlMessage,
  readInstanceField,
} from "./control_message.ts";

/** Buckets of a digest. */
export const DIGEST_BUCKETS = 256;
/** Buckets in one DIGEST message. */
export const DIGEST_BUCKETS_PER_MESSAGE = 64;
const DIGEST_HEADER_LENGTH = 36;
const BUCKET_LENGTH = 12;

/** FNV-1a 32 over `bytes`, continued from `hash`. */
function fnv(hash: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash;
}

/** FNV-1a 32 over a u16, big-endian, continued from `hash`. */
function fnv16(hash: number, value: number): number {
  hash = Math.imul(hash ^ (value >>> 8), 0x01000193);
  return Math.imul(hash ^ (value & 0xff), 0x01000193);
}

/** One identity half: FNV-1a 32 from `basis` over the identity's fields. */
function identityHalf(fields: SessionFields, basis: number): number {
  let hash = Math.imul(basis ^ ((fields.packed >>> 5) & 3), 0x01000193);
  hash = fnv16(fnv(hash, fields.src6), fields.src6Port);
  hash = fnv16(fnv(hash, fields.src4), fields.src4Port);
  hash = fnv16(fnv(hash, fields.dst4), fields.dst4Port);
  return hash >>> 0;
}

/** The 64-bit hash of a session's identity, as its high and low halves, into `out`. */
export function identityHash(fields: SessionFields, out: Uint32Array): void {
  out[0] = identityHalf(fields, 0x811c9dc5);
  out[1] = identityHalf(fields, 0x050c5d1f);
}

/** A digest of the identities under a prefix of their hashes. */
export class TableDigest {
  /** 0: every session; 8 or 16: those whose hash's top bits are {@link prefix}. */
  readonly prefixBits: number;
  readonly prefix: number;
  readonly high = new Uint32Array(DIGEST_BUCKETS);
  readonly low = new Uint32Array(DIGEST_BUCKETS);
  readonly counts = new Uint32Array(DIGEST_BUCKETS);
  readonly #hash = new Uint32Array(2);

  constructor(prefixBits = 0, prefix = 0) {
    if (prefixBits !== 0 && prefixBits !== 8 && prefixBits !== 16) {
      throw new RangeError("prefixBits: 0, 8 or 16");
    }
    this.prefixBits = prefixBits;
    this.prefix = prefix;
  }

  /**
   * Adds a session under the prefix that expires in more than `marginMs`
   * (one about to expire may already be gone on a peer); true if added.
   */
  add(fields: SessionFields, marginMs: number): boolean {
    if (fields.expirationMs <= marginMs) return false;
    return this.addIdentity(fields) >= 0;
  }

  /** Adds a session under the prefix, whatever its timer: its bucket, or -1 if not under it. */
  addIdentity(fields: SessionFields): number {
    const bucket = this.bucketOf(fields);
    if (bucket < 0) return -1;
    this.high[bucket] ^= this.#hash[0];
    this.low[bucket] ^= this.#hash[1];
    this.counts[bucket]++;
    return bucket;
  }

  /** The bucket of a session's identity under the prefix, or -1 if it is not under the prefix. */
  bucketOf(fields: SessionFields): number {
    const hash = this.#hash;
    identityHash(fields, hash);
    const high = hash[0];
    if (this.prefixBits > 0 && high >>> (32 - this.prefixBits) !== this.prefix) return -1;
    return (high >>> (24 - this.prefixBits)) & 0xff;
  }

  /** Adds every session of a payload already found valid in `encoding`; how many were added. */
  addPayload(payload: Uint8Array, encoding: SessionEncoding, marginMs: number): number {
    let added = 0;
    for (const fields of readCheckedSessionFields(payload, encoding)) {
      if (this.add(fields, marginMs)) added++;
    }
    return added;
  }

  /** The buckets where `other` (under the same prefix) differs. */
  differing(other: TableDigest): number[] {
    const buckets: number[] = [];
    for (let i = 0; i < DIGEST_BUCKETS; i++) {
      if (
        this.high[i] !== other.high[i] || this.low[i] !== other.low[i] ||
        this.counts[i] !== other.counts[i]
      ) {
        buckets.push(i);
      }
    }
    return buckets;
  }

  /** The DIGEST messages that carry it, {@link DIGEST_BUCKETS_PER_MESSAGE} buckets each. */
  encode(instance: string, round: number): Uint8Array[] {
    const messages: Uint8Array[] = [];
    for (let first = 0; first < DIGEST_BUCKETS; first += DIGEST_BUCKETS_PER_MESSAGE) {
      const length = DIGEST_HEADER_LENGTH + BUCKET_LENGTH * DIGEST_BUCKETS_PER_MESSAGE;
      const bytes = newControlMessage(length, ControlType.DIGEST, instance);
      const view = new DataView(bytes.buffer);
      view.setUint32(24, round, false);
      bytes[28] = this.prefixBits;
      view.setUint16(30, this.prefix, false);
      view.setUint16(32, first, false);
      view.setUint16(34, DIGEST_BUCKETS_PER_MESSAGE, false);
      for (let i = 0; i < DIGEST_BUCKETS_PER_MESSAGE; i++) {
        const at = DIGEST_HEADER_LENGTH + BUCKET_LENGTH * i;
        view.setUint32(at, this.high[first + i], false);
        view.setUint32(at + 4, this.low[first + i], false);
        view.setUint32(at + 8, this.counts[first + i], false);
      }
      messages.push(bytes);
    }
    return messages;
  }
}

/** The DIGEST that starts round `round`: no prefix, no bucket. */
export function encodeRoundStart(instance: string, round: number): Uint8Array {
  const bytes = newControlMessage(DIGEST_HEADER_LENGTH, ControlType.DIGEST, instance);
  new DataView(bytes.buffer).setUint32(24, round, false);
  return bytes;
}

/** Whether a decoded DIGEST starts a round (see {@link encodeRoundStart}). */
export function isRoundStart(part: DigestPart): boolean {
  return part.prefixBits === 0 && part.high.length === 0;
}

/** A decoded DIGEST message: some buckets of a peer's digest. */
export interface DigestPart {
  instance: string;
  round: number;
  prefixBits: number;
  prefix: number;
  first: number;
  high: Uint32Array;
  low: Uint32Array;
  counts: Uint32Array;
}

/** Decodes a DIGEST message: null if `bytes` is not one, a string if it is malformed. */
export function decodeDigest(bytes: Uint8Array): DigestPart | string | null {
  if (controlTypeOf(bytes) !== ControlType.DIGEST) return null;
  if (bytes.byteLength < DIGEST_HEADER_LENGTH) return `a ${bytes.byteLength}-byte DIGEST`;
  const instance = readInstanceField(bytes, CONTROL_PREFIX_LENGTH);
  if (instance === null) return "no instance name";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefixBits = bytes[28];
  if (prefixBits !== 0 && prefixBits !== 8 && prefixBits !== 16) {
    return `a DIGEST under a ${prefixBits}-bit prefix`;
  }
  const first = view.getUint16(32, false);
  const count = view.getUint16(34, false);
  if (
    count > DIGEST_BUCKETS_PER_MESSAGE || first + count > DIGEST_BUCKETS ||
    bytes.byteLength !== DIGEST_HEADER_LENGTH + BUCKET_LENGTH * count
  ) {
    return `a DIGEST of buckets ${first} + ${count} in ${bytes.byteLength} bytes`;
  }
  const part: DigestPart = {
    instance,
    round: view.getUint32(24, false),
    prefixBits,
    prefix: view.getUint16(30, false),
    first,
    high: new Uint32Array(count),
    low: new Uint32Array(count),
    counts: new Uint32Array(count),
  };
  for (let i = 0; i < count; i++) {
    const at = DIGEST_HEADER_LENGTH + BUCKET_LENGTH * i;
    part.high[i] = view.getUint32(at, false);
    part.low[i] = view.getUint32(at + 4, false);
    part.counts[i] = view.getUint32(at + 8, false);
  }
  return part;
}

/** Puts a decoded part into `digest` (its prefix must match: the caller checks). */
export function applyDigestPart(digest: TableDigest, part: DigestPart): void {
  digest.high.set(part.high, part.first);
  digest.low.set(part.low, part.first);
  digest.counts.set(part.counts, part.first);
}
