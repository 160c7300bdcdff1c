/**
 * Lossless delivery's messages on the control port (docs/lossless.md): a
 * sender announces the short hashes of the sync datagrams it numbered
 * (LEDGER), a receiver asks for what it missed (NACK), the sender sends it
 * again (RESEND). The sync datagrams themselves stay Jool's format: a C
 * joold reads them and never binds the control port. Pure codecs.
 *
 * ```
 * offset size field (every message; integers big-endian)
 *      0    8 prefix: "JDRS", version 1, type, 2 reserved (control_message.ts)
 *      8   16 instance name, NUL-padded
 * LEDGER (3)
 *     24    4 epoch of the sender (random per start, never 0)
 *     28    4 seq of the first datagram announced
 *     32    2 count of datagrams announced (0: a heartbeat, `first` is the next seq)
 *     34    1 flags: 1 ADVERTISED (the sender advertised its table since its last LEDGER)
 *     35    1 reserved
 *     36  4×n the datagrams' short hashes, in seq order
 * NACK (4)
 *     24    4 epoch asked (the sender's)
 *     28    2 count of ranges
 *     30    2 reserved
 *     32  8×n ranges: first seq (4), count (2), kind (1), reserved (1)
 * RESEND (5)
 *     24    4 epoch of the sender
 *     28    4 seq
 *     32    … the datagram's payload, as it went to the sync port
 * ```
 *
 * @module
 */

import { SPLIT_ABOVE_BYTES } from "./batch_split.ts";
import {
  CONTROL_PREFIX_LENGTH,
  ControlType,
  controlTypeOf,
  newControlMessage,
  readInstanceField,
} from "./control_message.ts";

const INSTANCE_OFFSET = CONTROL_PREFIX_LENGTH;
/** Bytes before a LEDGER's hashes. */
export const LEDGER_HEADER_LENGTH = 36;
/** Most hashes in one LEDGER. */
export const MAX_LEDGER_COUNT = 256;
/** Bytes before a NACK's ranges. */
const NACK_HEADER_LENGTH = 32;
const NACK_RANGE_LENGTH = 8;
/** Most ranges in one NACK. */
export const MAX_NACK_RANGES = 64;
/** Most datagrams one NACK range asks for. */
export const MAX_NACK_RANGE_COUNT = 0xffff;
/** Bytes before a RESEND's payload. */
export const RESEND_HEADER_LENGTH = 32;
/** The largest of these messages: a RESEND of the largest sync datagram we send. */
export const MAX_DELIVERY_MESSAGE_BYTES = RESEND_HEADER_LENGTH + SPLIT_ABOVE_BYTES;

/** LEDGER flags. */
export const LedgerFlag = { ADVERTISED: 1 } as const;

/** What a NACK range asks for. */
export const NackKind = {
  /** The datagrams again. */
  DATA: 1,
  /** Their hashes again (LEDGERs were lost): the receiver then asks for what it lacks. */
  LEDGER: 2,
  /** More was lost than the receiver can track: the sender's whole table (range ignored). */
  ADVERTISE: 3,
} as const;
/** One of {@link NackKind}. */
export type NackKind = typeof NackKind[keyof typeof NackKind];

/** A decoded LEDGER. */
export interface Ledger {
  type: typeof ControlType.LEDGER;
  instance: string;
  epoch: number;
  first: number;
  flags: number;
  /** The hashes of seqs `first`, `first + 1`, … (a copy). */
  hashes: Uint32Array;
}

/** One range of a NACK. */
export interface NackRange {
  first: number;
  count: number;
  kind: NackKind;
}

/** A decoded NACK. */
export interface Nack {
  type: typeof ControlType.NACK;
  instance: string;
  epoch: number;
  ranges: NackRange[];
}

/** A decoded RESEND. */
export interface Resend {
  type: typeof ControlType.RESEND;
  instance: string;
  epoch: number;
  seq: number;
  /** A view into the message. */
  payload: Uint8Array;
}

/** Any of lossless delivery's messages. */
export type DeliveryMessage = Ledger | Nack | Resend;

/**
 * The short hash of a datagram: MurmurHash3 x86_32, seed 0. It reads
 * little-endian 32-bit words (a view, not a copy, where the bytes are
 * aligned: every platform Deno runs on is little-endian), four times fewer
 * steps than a byte-wise hash on the hot path of every datagram sent and
 * received. Collisions only make a lost datagram look received, which the
 * convergence check catches.
 */
export function datagramHash(bytes: Uint8Array): number {
  const length = bytes.length;
  const wordCount = length >>> 2;
  const words = bytes.byteOffset % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, wordCount)
    : new Int32Array(bytes.slice(0, wordCount * 4).buffer);
  let hash = 0;
  for (let i = 0; i < wordCount; i++) {
    hash ^= murmurScramble(words[i]);
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0;
  }
  let tail = 0;
  for (let i = length - 1; i >= wordCount * 4; i--) tail = (tail << 8) | bytes[i];
  if ((length & 3) !== 0) hash ^= murmurScramble(tail);
  hash ^= length;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

function murmurScramble(word: number): number {
  const k = Math.imul(word, 0xcc9e2d51);
  return Math.imul((k << 15) | (k >>> 17), 0x1b873593);
}

function header(length: number, type: ControlType, instance: string, epoch: number) {
  const bytes = newControlMessage(length, type, instance);
  const view = new DataView(bytes.buffer);
  view.setUint32(24, epoch, false);
  return { bytes, view };
}

/**
 * Encodes a LEDGER of `count` hashes taken from `hashes` (a ring indexed by
 * seq & mask) for seqs `first`…; count at most {@link MAX_LEDGER_COUNT}.
 */
export function encodeLedger(
  instance: string,
  epoch: number,
  first: number,
  count: number,
  flags: number,
  hashes: Uint32Array,
  mask: number,
): Uint8Array {
  if (count > MAX_LEDGER_COUNT) throw new RangeError(`A LEDGER holds ${MAX_LEDGER_COUNT} hashes`);
  const { bytes, view } = header(
    LEDGER_HEADER_LENGTH + 4 * count,
    ControlType.LEDGER,
    instance,
    epoch,
  );
  view.setUint32(28, first, false);
  view.setUint16(32, count, false);
  bytes[34] = flags;
  for (let i = 0; i < count; i++) {
    view.setUint32(LEDGER_HEADER_LENGTH + 4 * i, hashes[(first + i) & mask], false);
  }
  return bytes;
}

/** Encodes a NACK; at most {@link MAX_NACK_RANGES} ranges. */
export function encodeNack(
  instance: string,
  epoch: number,
  ranges: readonly NackRange[],
): Uint8Array {
  if (ranges.length > MAX_NACK_RANGES) {
    throw new RangeError(`A NACK holds ${MAX_NACK_RANGES} ranges`);
  }
  const length = NACK_HEADER_LENGTH + NACK_RANGE_LENGTH * ranges.length;
  const { bytes, view } = header(length, ControlType.NACK, instance, epoch);
  view.setUint16(28, ranges.length, false);
  ranges.forEach((range, i) => {
    const at = NACK_HEADER_LENGTH + NACK_RANGE_LENGTH * i;
    view.setUint32(at, range.first, false);
    view.setUint16(at + 4, range.count, false);
    bytes[at + 6] = range.kind;
  });
  return bytes;
}

/** Encodes a RESEND of `payload`. */
export function encodeResend(
  instance: string,
  epoch: number,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const { bytes, view } = header(
    RESEND_HEADER_LENGTH + payload.byteLength,
    ControlType.RESEND,
    instance,
    epoch,
  );
  view.setUint32(28, seq, false);
  bytes.set(payload, RESEND_HEADER_LENGTH);
  return bytes;
}

/**
 * Decodes one of lossless delivery's messages: null if `bytes` is not one
 * (another control message), a string saying what is wrong with one that
 * is malformed.
 */
export function decodeDeliveryMessage(bytes: Uint8Array): DeliveryMessage | string | null {
  const type = controlTypeOf(bytes);
  if (type !== ControlType.LEDGER && type !== ControlType.NACK && type !== ControlType.RESEND) {
    return null;
  }
  if (bytes.byteLength < NACK_HEADER_LENGTH) return `a ${bytes.byteLength}-byte message`;
  const instance = readInstanceField(bytes, INSTANCE_OFFSET);
  if (instance === null) return "no instance name";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const epoch = view.getUint32(24, false);
  if (epoch === 0) return "epoch 0";
  if (type === ControlType.LEDGER) {
    if (bytes.byteLength < LEDGER_HEADER_LENGTH) return `a ${bytes.byteLength}-byte LEDGER`;
    const count = view.getUint16(32, false);
    if (count > MAX_LEDGER_COUNT || bytes.byteLength !== LEDGER_HEADER_LENGTH + 4 * count) {
      return `a LEDGER of ${count} hashes in ${bytes.byteLength} bytes`;
    }
    const hashes = new Uint32Array(count);
    for (let i = 0; i < count; i++) hashes[i] = view.getUint32(LEDGER_HEADER_LENGTH + 4 * i, false);
    return { type, instance, epoch, first: view.getUint32(28, false), flags: bytes[34], hashes };
  }
  if (type === ControlType.NACK) {
    const count = view.getUint16(28, false);
    if (
      count > MAX_NACK_RANGES || bytes.byteLength !== NACK_HEADER_LENGTH + NACK_RANGE_LENGTH * count
    ) {
      return `a NACK of ${count} ranges in ${bytes.byteLength} bytes`;
    }
    const ranges: NackRange[] = [];
    for (let i = 0; i < count; i++) {
      const at = NACK_HEADER_LENGTH + NACK_RANGE_LENGTH * i;
      const kind = bytes[at + 6];
      if (kind !== NackKind.DATA && kind !== NackKind.LEDGER && kind !== NackKind.ADVERTISE) {
        return `a NACK range of kind ${kind}`;
      }
      ranges.push({ first: view.getUint32(at, false), count: view.getUint16(at + 4, false), kind });
    }
    return { type, instance, epoch, ranges };
  }
  if (bytes.byteLength === RESEND_HEADER_LENGTH) return "a RESEND without a payload";
  return {
    type,
    instance,
    epoch,
    seq: view.getUint32(28, false),
    payload: bytes.subarray(RESEND_HEADER_LENGTH),
  };
}

/** `a - b` in serial arithmetic (RFC 1982) on u32 seqs: negative if `a` is before `b`. */
export function seqDistance(a: number, b: number): number {
  return (a - b) | 0;
}

/** `seq + n`, wrapped to a u32. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}
