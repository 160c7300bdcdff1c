/**
 * The Jool header (`struct joolnlhdr`), which follows the genlmsghdr of every
 * Jool message:
 *
 * ```text
 * offset size field
 *      0    4 magic    "jool", no NUL
 *      4    4 version  be32: major<<24 | minor<<16 | revision<<8 | development
 *      8    1 xt       translator type: SIIT 1, NAT64 2
 *      9    1 flags    ERROR 1, FORCE 2, QUICK 4, M 8
 *     10    2 reserved 0
 *     12   16 iname    instance name, NUL-padded
 * ```
 *
 * @module
 */

import type { Problem } from "../problem.ts";
import { INAME_MAX_SIZE } from "./protocol.ts";

/** JOOLNL_HDRLEN: the header's size, already 4-byte aligned. */
export const JOOL_HEADER_LENGTH = 28;

/** JOOLNL_HDR_MAGIC, as bytes. */
const MAGIC = [0x6a, 0x6f, 0x6f, 0x6c]; // "jool"

/**
 * Packs a Jool version number as the header carries it.
 *
 * @example
 * ```ts
 * joolVersion(4, 1, 14) // 0x04010e00
 * ```
 */
export function joolVersion(
  major: number,
  minor: number,
  revision: number,
  development = 0,
): number {
  return ((major & 0xff) << 24 | (minor & 0xff) << 16 | (revision & 0xff) << 8 |
    (development & 0xff)) >>> 0;
}

/**
 * The version this daemon speaks, 4.1.14.0. Kernels since 4.1.9 only compare
 * major and minor; 4.1.0 to 4.1.8 want all four parts to match, so talking to
 * them means sending their exact version (see {@link parseVersion}).
 */
export const JOOL_VERSION: number = joolVersion(4, 1, 14, 0);

/** Formats a packed version as `4.1.14.0`. */
export function formatVersion(version: number): string {
  return `${version >>> 24}.${(version >>> 16) & 0xff}.${(version >>> 8) & 0xff}.${version & 0xff}`;
}

/**
 * Parses `4.1.9` or `4.1.9.0` (the text of `/sys/module/jool/version`,
 * surrounding white space allowed) into a packed version.
 *
 * @returns The version, or null if `text` is not one.
 */
export function parseVersion(text: string): number | null {
  const match = /^\s*(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?\s*$/.exec(text);
  if (match === null) return null;
  const parts = match.slice(1).map((part) => part === undefined ? 0 : Number(part));
  if (parts.some((part) => part > 255)) return null;
  return joolVersion(parts[0], parts[1], parts[2], parts[3]);
}

/**
 * Whether two versions can talk: same major and minor. This is the check of
 * the kernel (since 4.1.9) and of the C userspace tools (since 4.1.10).
 */
export function versionCompatible(a: number, b: number): boolean {
  return (a >>> 16) === (b >>> 16);
}

/** A decoded `struct joolnlhdr`. */
export interface JoolHeader {
  /** Packed version; see {@link joolVersion}. */
  version: number;
  /** {@link TranslatorType} bits. */
  xt: number;
  /** {@link JoolHeaderFlag} bits. */
  flags: number;
  /** The instance name (iname), without its NUL padding. */
  instance: string;
}

/** A Jool message whose header or attributes do not decode. */
export class JoolDecodeError extends Error {
  constructor(detail: string) {
    super(`Malformed Jool message: ${detail}`);
    this.name = "JoolDecodeError";
  }
}

const textDecoder = new TextDecoder();

/**
 * Checks an instance name the way the kernel's iname_validate() does: at
 * most 15 bytes, none of them a control character. Bytes from 0x80 up are
 * refused too: the kernel compares `char`, which is signed on x86, so it
 * refuses them there.
 *
 * @returns The problem, or null if the name is fine.
 */
export function validateInstanceName(name: string): string | null {
  if (name.length > INAME_MAX_SIZE - 1) {
    return `instance name '${name}' is longer than ${INAME_MAX_SIZE - 1} characters`;
  }
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code > 0x7f) {
      return `instance name ${JSON.stringify(name)} holds a character other than printable ASCII`;
    }
  }
  return null;
}

/**
 * Reads an instance name an operator gives (a file or a flag): 1 to 15
 * printable ASCII characters, which every kernel accepts.
 *
 * @param shown `name` as the problem quotes it.
 */
export function parseInstanceName(name: string, shown: string): string | Problem {
  if (name === "") return { problem: "must not be empty" };
  if (!/^[\x20-\x7e]+$/.test(name)) {
    return { problem: `must be printable ASCII characters only, got ${shown}` };
  }
  if (name.length > INAME_MAX_SIZE - 1) {
    return {
      problem: `must be at most ${
        INAME_MAX_SIZE - 1
      } characters long, got ${name.length} (${shown})`,
    };
  }
  return name;
}

/**
 * Writes a Jool header at `offset` of `target` (28 bytes; the reserved
 * bytes and the name's padding are zeroed).
 *
 * @throws {RangeError} If the instance name is not valid (see
 * {@link validateInstanceName}).
 */
export function putJoolHeader(target: Uint8Array, offset: number, header: JoolHeader): void {
  const problem = validateInstanceName(header.instance);
  if (problem !== null) throw new RangeError(`Cannot encode a Jool header: ${problem}`);
  target[offset] = MAGIC[0];
  target[offset + 1] = MAGIC[1];
  target[offset + 2] = MAGIC[2];
  target[offset + 3] = MAGIC[3];
  target[offset + 4] = header.version >>> 24;
  target[offset + 5] = header.version >>> 16;
  target[offset + 6] = header.version >>> 8;
  target[offset + 7] = header.version;
  target[offset + 8] = header.xt;
  target[offset + 9] = header.flags;
  target.fill(0, offset + 10, offset + JOOL_HEADER_LENGTH);
  // ASCII only (checked above), so one byte per character.
  for (let i = 0; i < header.instance.length; i++) {
    target[offset + 12 + i] = header.instance.charCodeAt(i);
  }
}

/** Encodes a Jool header into 28 new bytes. */
export function encodeJoolHeader(header: JoolHeader): Uint8Array {
  const bytes = new Uint8Array(JOOL_HEADER_LENGTH);
  putJoolHeader(bytes, 0, header);
  return bytes;
}

/**
 * Decodes the Jool header at the start of `bytes` (the data after the
 * genlmsghdr). The reserved bytes are ignored.
 *
 * @throws {JoolDecodeError} If `bytes` is shorter than 28 bytes, the magic is
 * not "jool", or the instance name has no NUL within its 16 bytes.
 */
export function decodeJoolHeader(bytes: Uint8Array): JoolHeader {
  if (bytes.byteLength < JOOL_HEADER_LENGTH) {
    throw new JoolDecodeError(
      `${bytes.byteLength} bytes are too few for a Jool header (${JOOL_HEADER_LENGTH})`,
    );
  }
  if (
    bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2] ||
    bytes[3] !== MAGIC[3]
  ) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    throw new JoolDecodeError(`magic is 0x${magic.join("")}, not "jool"`);
  }
  const iname = bytes.subarray(12, 12 + INAME_MAX_SIZE);
  const nul = iname.indexOf(0);
  if (nul < 0) throw new JoolDecodeError("instance name is not NUL-terminated");
  return {
    version: ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0,
    xt: bytes[8],
    flags: bytes[9],
    instance: textDecoder.decode(iname.subarray(0, nul)),
  };
}

/**
 * Whether two instance names are the same to the C daemon, which compares
 * them with strcasecmp(3): ASCII letters match regardless of case, all other
 * characters only themselves.
 */
export function sameInstance(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}
