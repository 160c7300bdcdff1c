/**
 * Session entries as they travel inside a SESSION_ENTRIES attribute (the
 * kernel's batches, the UDP payload between daemons, JOOLD_ADD). Each entry
 * is an attribute of type JNLAL_ENTRY; what is inside changed twice in 4.1.x
 * (checked against Jool's kernel source at v4.1.9, v4.1.12 and v4.1.14):
 *
 * - `nested-4.1.0` (4.1.0 to 4.1.11): the entry is nested attributes in host
 *   byte order: SRC6 1, DST6 2, SRC4 3, DST4 4 (each nested: ADDR 1 = 16 or 4
 *   raw bytes, PORT 2 = u16), PROTO 5 (u8), STATE 6 (u8), TIMER 7 (u8),
 *   EXPIRATION 8 (u32 ms). The kernel writes them in that order, and since
 *   Linux 5.2 marks the entry and the four addresses NLA_F_NESTED (and wants
 *   the mark when it parses them); 140 bytes an entry, its header included.
 * - `raw48-4.1.12` (4.1.12): 48 raw bytes, big-endian: src6 addr, dst6 addr,
 *   src4 addr, expiration (u32 ms), src6 port, dst6 port, src4 port, packed
 *   proto/state/timer (u16). The kernel derives dst4 from dst6: its address
 *   is dst6's last 4 bytes, its port is src4's for ICMP and dst6's otherwise.
 * - `raw36-4.1.13` (4.1.13 and later): 36 raw bytes, big-endian: src6 addr,
 *   src4 addr, dst4 addr, expiration (u32 ms), src6 port, src4 port, dst4
 *   port, packed proto/state/timer (u16). dst6 is not sent: the receiving
 *   kernel builds it from its pool6 prefix and dst4.
 *
 * The packed u16 is `proto << 5 | state << 2 | timer`.
 *
 * An empty SESSION_ENTRIES payload is valid: the kernel's joold_sync() walks
 * zero entries and reports success (4.1.9 and 4.1.14 alike), so it holds no
 * sessions. The kernel never multicasts an empty batch in 4.1.13+, but 4.1.9
 * does when `ss-max-payload` is too small for even one session.
 *
 * @module
 */

import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, nlaAlign } from "../netlink/attribute.ts";
import { NATIVE_LITTLE_ENDIAN } from "../netlink/native_endian.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../net/ip.ts";
import {
  JNLAL_ENTRY,
  L4Protocol,
  SessionAttribute,
  SessionTimer,
  TcpState,
  TransportAddressAttribute,
} from "./protocol.ts";

/** How the session entries of a Jool version are encoded. */
export type SessionEncoding = "nested-4.1.0" | "raw48-4.1.12" | "raw36-4.1.13";

/** A session's protocol. */
export type SessionProtocol = "TCP" | "UDP" | "ICMP";

/** An address and a port (or ICMP identifier). */
export interface TransportAddress {
  /** Canonical text (RFC 5952 for IPv6, dotted quad for IPv4). */
  address: string;
  port: number;
}

/** One NAT64 session, as the peers exchange it. */
export interface Session {
  proto: SessionProtocol;
  /** The IPv6 node's address and port. */
  src6: TransportAddress;
  /**
   * The IPv6 side's view of the IPv4 node. Absent in `raw36-4.1.13`, which
   * does not carry it; required to encode the two other encodings.
   */
  dst6?: TransportAddress;
  /** The pool4 address and port the session was given. */
  src4: TransportAddress;
  /** The IPv4 node's address and port. */
  dst4: TransportAddress;
  /** {@link TcpState} (ESTABLISHED for UDP and ICMP). */
  state: number;
  /** {@link SessionTimer}. */
  timer: number;
  /** Milliseconds until the session expires, as the sender saw it. */
  expirationMs: number;
}

/** Session entries that are not valid in the expected encoding. */
export class SessionDecodeError extends Error {
  constructor(detail: string) {
    super(`Malformed session entries: ${detail}`);
    this.name = "SessionDecodeError";
  }
}

const PROTOCOLS: readonly SessionProtocol[] = ["TCP", "UDP", "ICMP"];
const MAX_STATE = TcpState.TRANS;
const MAX_TIMER = SessionTimer.SYN4;
const FIELD_NAMES = [
  "",
  "SRC6",
  "DST6",
  "SRC4",
  "DST4",
  "PROTO",
  "STATE",
  "TIMER",
  "EXPIRATION",
] as const;
/** Bits 1 to 8: every SessionAttribute. */
const ALL_FIELDS = 0x1fe;

const RAW48_SIZE = 48;
const RAW36_SIZE = 36;
/** 4 + 16 address + 8 port. */
const NESTED_ADDRESS6_SIZE = NLA_HDRLEN + (NLA_HDRLEN + 16) + nlaAlign(NLA_HDRLEN + 2);
/** 4 + 8 address + 8 port. */
const NESTED_ADDRESS4_SIZE = NLA_HDRLEN + (NLA_HDRLEN + 4) + nlaAlign(NLA_HDRLEN + 2);
const NESTED_SIZE = 2 * NESTED_ADDRESS6_SIZE + 2 * NESTED_ADDRESS4_SIZE +
  3 * nlaAlign(NLA_HDRLEN + 1) + (NLA_HDRLEN + 4);

/**
 * Which encoding a kernel of `version` (the Jool header's packed version)
 * uses.
 *
 * @throws {RangeError} If the version is not 4.1.x.
 */
export function sessionEncodingFor(version: number): SessionEncoding {
  const major = version >>> 24;
  const minor = (version >>> 16) & 0xff;
  const revision = (version >>> 8) & 0xff;
  if (major !== 4 || minor !== 1) {
    throw new RangeError(
      `Unsupported Jool version: ${major}.${minor}.${revision}.${version & 0xff} (only 4.1.x)`,
    );
  }
  if (revision <= 11) return "nested-4.1.0";
  if (revision === 12) return "raw48-4.1.12";
  return "raw36-4.1.13";
}

/** Bytes one session takes in `encoding`, its JNLAL_ENTRY header included. */
export function sessionEntryLength(encoding: SessionEncoding): number {
  switch (encoding) {
    case "nested-4.1.0":
      return NLA_HDRLEN + NESTED_SIZE;
    case "raw48-4.1.12":
      return NLA_HDRLEN + RAW48_SIZE;
    case "raw36-4.1.13":
      return NLA_HDRLEN + RAW36_SIZE;
  }
}

function hostUint16(bytes: Uint8Array, offset: number): number {
  return NATIVE_LITTLE_ENDIAN
    ? bytes[offset] | (bytes[offset + 1] << 8)
    : (bytes[offset] << 8) | bytes[offset + 1];
}

function hostUint32(bytes: Uint8Array, offset: number): number {
  return NATIVE_LITTLE_ENDIAN
    ? (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
      (bytes[offset + 3] << 24)) >>> 0
    : bigUint32(bytes, offset);
}

function bigUint16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

function bigUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) >>> 0;
}

function putHostUint16(bytes: Uint8Array, offset: number, value: number): void {
  if (NATIVE_LITTLE_ENDIAN) {
    bytes[offset] = value;
    bytes[offset + 1] = value >>> 8;
  } else {
    putBigUint16(bytes, offset, value);
  }
}

function putHostUint32(bytes: Uint8Array, offset: number, value: number): void {
  if (NATIVE_LITTLE_ENDIAN) {
    bytes[offset] = value;
    bytes[offset + 1] = value >>> 8;
    bytes[offset + 2] = value >>> 16;
    bytes[offset + 3] = value >>> 24;
  } else {
    putBigUint32(bytes, offset, value);
  }
}

function putBigUint16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value;
}

function putBigUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

// The validators below build a string only to report a problem, so a valid
// payload costs no allocation.

function checkPacked(packed: number): string | null {
  if ((packed & 0xff80) !== 0) {
    return `unused bits of the packed proto/state/timer are set (0x${packed.toString(16)})`;
  }
  const proto = (packed >>> 5) & 3;
  if (proto > L4Protocol.ICMP) return `protocol ${proto} is not TCP, UDP or ICMP`;
  const state = (packed >>> 2) & 7;
  if (state > MAX_STATE) return `TCP state ${state} is out of range`;
  const timer = packed & 3;
  if (timer > MAX_TIMER) return `timer ${timer} is out of range`;
  return null;
}

function checkTransportAddress(
  bytes: Uint8Array,
  start: number,
  end: number,
  addressSize: number,
  field: string,
): string | null {
  let seen = 0;
  let offset = start;
  while (offset < end) {
    const remaining = end - offset;
    if (remaining < NLA_HDRLEN) return `${field} has ${remaining} trailing bytes`;
    const length = hostUint16(bytes, offset);
    if (length < NLA_HDRLEN || length > remaining) {
      return `${field} holds an attribute of length ${length} in ${remaining} bytes`;
    }
    const type = hostUint16(bytes, offset + 2) & NLA_TYPE_MASK;
    const size = length - NLA_HDRLEN;
    if (type === TransportAddressAttribute.ADDR) {
      if (size !== addressSize) return `${field} address has ${size} bytes, not ${addressSize}`;
    } else if (type === TransportAddressAttribute.PORT) {
      if (size !== 2) return `${field} port has ${size} bytes, not 2`;
    } else {
      return `${field} holds unknown attribute ${type}`;
    }
    if ((seen & (1 << type)) !== 0) return `${field} holds attribute ${type} twice`;
    seen |= 1 << type;
    offset += nlaAlign(length);
  }
  if ((seen & (1 << TransportAddressAttribute.ADDR)) === 0) return `${field} lacks its address`;
  if ((seen & (1 << TransportAddressAttribute.PORT)) === 0) return `${field} lacks its port`;
  return null;
}

function checkNested(bytes: Uint8Array, start: number, end: number): string | null {
  let seen = 0;
  let offset = start;
  while (offset < end) {
    const remaining = end - offset;
    if (remaining < NLA_HDRLEN) return `${remaining} trailing bytes`;
    const length = hostUint16(bytes, offset);
    if (length < NLA_HDRLEN || length > remaining) {
      return `field of length ${length} does not fit the remaining ${remaining} bytes`;
    }
    const type = hostUint16(bytes, offset + 2) & NLA_TYPE_MASK;
    if (type < SessionAttribute.SRC6 || type > SessionAttribute.EXPIRATION) {
      return `unknown field ${type}`;
    }
    if ((seen & (1 << type)) !== 0) return `field ${FIELD_NAMES[type]} appears twice`;
    seen |= 1 << type;
    const data = offset + NLA_HDRLEN;
    const size = length - NLA_HDRLEN;
    let problem: string | null = null;
    switch (type) {
      case SessionAttribute.SRC6:
      case SessionAttribute.DST6:
        problem = checkTransportAddress(bytes, data, data + size, 16, FIELD_NAMES[type]);
        break;
      case SessionAttribute.SRC4:
      case SessionAttribute.DST4:
        problem = checkTransportAddress(bytes, data, data + size, 4, FIELD_NAMES[type]);
        break;
      case SessionAttribute.EXPIRATION:
        if (size !== 4) problem = `EXPIRATION has ${size} bytes, not 4`;
        break;
      default: // PROTO, STATE, TIMER: u8
        if (size !== 1) {
          problem = `${FIELD_NAMES[type]} has ${size} bytes, not 1`;
        } else if (type === SessionAttribute.PROTO && bytes[data] > L4Protocol.ICMP) {
          problem = `protocol ${bytes[data]} is not TCP, UDP or ICMP`;
        } else if (type === SessionAttribute.STATE && bytes[data] > MAX_STATE) {
          problem = `TCP state ${bytes[data]} is out of range`;
        } else if (type === SessionAttribute.TIMER && bytes[data] > MAX_TIMER) {
          problem = `timer ${bytes[data]} is out of range`;
        }
    }
    if (problem !== null) return problem;
    offset += nlaAlign(length);
  }
  if (seen !== ALL_FIELDS) {
    for (let type = SessionAttribute.SRC6; type <= SessionAttribute.EXPIRATION; type++) {
      if ((seen & (1 << type)) === 0) return `field ${FIELD_NAMES[type]} is missing`;
    }
  }
  return null;
}

function checkEntry(
  bytes: Uint8Array,
  start: number,
  end: number,
  encoding: SessionEncoding,
): string | null {
  if (encoding === "nested-4.1.0") return checkNested(bytes, start, end);
  const expected = encoding === "raw36-4.1.13" ? RAW36_SIZE : RAW48_SIZE;
  if (end - start !== expected) return `entry has ${end - start} bytes, not ${expected}`;
  return checkPacked(bigUint16(bytes, end - 2));
}

/**
 * Checks a SESSION_ENTRIES payload strictly: only JNLAL_ENTRY attributes,
 * each exactly one well-formed session of `encoding` (the exact size for raw
 * entries; every field once and nothing else for nested ones), protocol TCP,
 * UDP or ICMP, state and timer in range, unused bits clear, no bytes left
 * over. Allocates nothing when the payload is valid.
 *
 * @returns The first problem found, or null if the payload is valid.
 */
export function validateSessions(payload: Uint8Array, encoding: SessionEncoding): string | null {
  let offset = 0;
  let index = 0;
  while (offset < payload.byteLength) {
    const remaining = payload.byteLength - offset;
    if (remaining < NLA_HDRLEN) return `${remaining} trailing bytes at offset ${offset}`;
    const length = hostUint16(payload, offset);
    if (length < NLA_HDRLEN || length > remaining) {
      return `session ${index}: length ${length} does not fit the remaining ${remaining} bytes`;
    }
    const type = hostUint16(payload, offset + 2) & NLA_TYPE_MASK;
    if (type !== JNLAL_ENTRY) return `session ${index}: attribute type ${type}, not JNLAL_ENTRY`;
    const problem = checkEntry(payload, offset + NLA_HDRLEN, offset + length, encoding);
    if (problem !== null) return `session ${index}: ${problem}`;
    offset += nlaAlign(length);
    index++;
  }
  return null;
}

function transport(address: string, port: number): TransportAddress {
  return { address, port };
}

function decodeRaw36(bytes: Uint8Array, start: number): Session {
  const packed = bigUint16(bytes, start + 34);
  return {
    proto: PROTOCOLS[(packed >>> 5) & 3],
    src6: transport(formatIPv6(bytes.subarray(start, start + 16)), bigUint16(bytes, start + 28)),
    src4: transport(
      formatIPv4(bytes.subarray(start + 16, start + 20)),
      bigUint16(bytes, start + 30),
    ),
    dst4: transport(
      formatIPv4(bytes.subarray(start + 20, start + 24)),
      bigUint16(bytes, start + 32),
    ),
    state: (packed >>> 2) & 7,
    timer: packed & 3,
    expirationMs: bigUint32(bytes, start + 24),
  };
}

function decodeRaw48(bytes: Uint8Array, start: number): Session {
  const packed = bigUint16(bytes, start + 46);
  const proto = PROTOCOLS[(packed >>> 5) & 3];
  const dst6Port = bigUint16(bytes, start + 42);
  const src4Port = bigUint16(bytes, start + 44);
  return {
    proto,
    src6: transport(formatIPv6(bytes.subarray(start, start + 16)), bigUint16(bytes, start + 40)),
    dst6: transport(formatIPv6(bytes.subarray(start + 16, start + 32)), dst6Port),
    src4: transport(formatIPv4(bytes.subarray(start + 32, start + 36)), src4Port),
    // What the 4.1.12 kernel derives (it assumes a /96 pool6).
    dst4: transport(
      formatIPv4(bytes.subarray(start + 28, start + 32)),
      proto === "ICMP" ? src4Port : dst6Port,
    ),
    state: (packed >>> 2) & 7,
    timer: packed & 3,
    expirationMs: bigUint32(bytes, start + 36),
  };
}

/** Reads a checked nested transport address. */
function decodeNestedAddress(bytes: Uint8Array, start: number, end: number): TransportAddress {
  let address = "";
  let port = 0;
  for (let offset = start; offset < end;) {
    const length = hostUint16(bytes, offset);
    const type = hostUint16(bytes, offset + 2) & NLA_TYPE_MASK;
    const data = bytes.subarray(offset + NLA_HDRLEN, offset + length);
    if (type === TransportAddressAttribute.ADDR) {
      address = data.byteLength === 16 ? formatIPv6(data) : formatIPv4(data);
    } else {
      port = hostUint16(data, 0);
    }
    offset += nlaAlign(length);
  }
  return { address, port };
}

/** Reads a checked nested entry. */
function decodeNested(bytes: Uint8Array, start: number, end: number): Session {
  const addresses: TransportAddress[] = [];
  let proto = 0;
  let state = 0;
  let timer = 0;
  let expirationMs = 0;
  for (let offset = start; offset < end;) {
    const length = hostUint16(bytes, offset);
    const type = hostUint16(bytes, offset + 2) & NLA_TYPE_MASK;
    const data = offset + NLA_HDRLEN;
    switch (type) {
      case SessionAttribute.PROTO:
        proto = bytes[data];
        break;
      case SessionAttribute.STATE:
        state = bytes[data];
        break;
      case SessionAttribute.TIMER:
        timer = bytes[data];
        break;
      case SessionAttribute.EXPIRATION:
        expirationMs = hostUint32(bytes, data);
        break;
      default:
        addresses[type] = decodeNestedAddress(bytes, data, offset + length);
    }
    offset += nlaAlign(length);
  }
  return {
    proto: PROTOCOLS[proto],
    src6: addresses[SessionAttribute.SRC6],
    dst6: addresses[SessionAttribute.DST6],
    src4: addresses[SessionAttribute.SRC4],
    dst4: addresses[SessionAttribute.DST4],
    state,
    timer,
    expirationMs,
  };
}

/**
 * Decodes a SESSION_ENTRIES payload, after the checks of
 * {@link validateSessions}.
 *
 * @throws {SessionDecodeError} If the payload is not valid.
 */
export function decodeSessions(
  payload: Uint8Array,
  encoding: SessionEncoding,
): { sessions: Session[] } {
  const problem = validateSessions(payload, encoding);
  if (problem !== null) throw new SessionDecodeError(problem);
  const sessions: Session[] = [];
  for (let offset = 0; offset < payload.byteLength;) {
    const length = hostUint16(payload, offset);
    const start = offset + NLA_HDRLEN;
    switch (encoding) {
      case "nested-4.1.0":
        sessions.push(decodeNested(payload, start, offset + length));
        break;
      case "raw48-4.1.12":
        sessions.push(decodeRaw48(payload, start));
        break;
      case "raw36-4.1.13":
        sessions.push(decodeRaw36(payload, start));
        break;
    }
    offset += nlaAlign(length);
  }
  return { sessions };
}

function encodeError(index: number, detail: string): RangeError {
  return new RangeError(`Cannot encode session ${index}: ${detail}`);
}

function checkInteger(index: number, what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw encodeError(index, `${what} ${value} is not an integer from 0 to ${max}`);
  }
  return value;
}

function addressBytes(index: number, what: string, address: string, size: 4 | 16): Uint8Array {
  const bytes = size === 16 ? parseIPv6(address) : parseIPv4(address);
  if (bytes === null) {
    throw encodeError(
      index,
      `${what} ${JSON.stringify(address)} is not an IPv${size === 16 ? 6 : 4} address`,
    );
  }
  return bytes;
}

function packed(index: number, session: Session): number {
  const proto = PROTOCOLS.indexOf(session.proto);
  if (proto < 0) throw encodeError(index, `protocol ${JSON.stringify(session.proto)} is unknown`);
  const state = checkInteger(index, "TCP state", session.state, MAX_STATE);
  const timer = checkInteger(index, "timer", session.timer, MAX_TIMER);
  return (proto << 5) | (state << 2) | timer;
}

function requireDst6(index: number, session: Session, encoding: SessionEncoding): TransportAddress {
  if (session.dst6 === undefined) throw encodeError(index, `${encoding} needs dst6`);
  return session.dst6;
}

function putAttributeHeader(bytes: Uint8Array, offset: number, length: number, type: number): void {
  putHostUint16(bytes, offset, length);
  putHostUint16(bytes, offset + 2, type);
}

function putNestedAddress(
  bytes: Uint8Array,
  offset: number,
  type: number,
  address: Uint8Array,
  port: number,
): number {
  const size = NLA_HDRLEN + (NLA_HDRLEN + address.byteLength) + nlaAlign(NLA_HDRLEN + 2);
  putAttributeHeader(bytes, offset, size, type | NLA_F_NESTED);
  putAttributeHeader(
    bytes,
    offset + 4,
    NLA_HDRLEN + address.byteLength,
    TransportAddressAttribute.ADDR,
  );
  bytes.set(address, offset + 8);
  const portAt = offset + 8 + address.byteLength;
  putAttributeHeader(bytes, portAt, NLA_HDRLEN + 2, TransportAddressAttribute.PORT);
  putHostUint16(bytes, portAt + 4, port);
  return offset + size;
}

function putNested(bytes: Uint8Array, at: number, index: number, session: Session): void {
  const dst6 = requireDst6(index, session, "nested-4.1.0");
  const bits = packed(index, session);
  let offset = putNestedAddress(
    bytes,
    at,
    SessionAttribute.SRC6,
    addressBytes(index, "src6", session.src6.address, 16),
    checkInteger(index, "src6 port", session.src6.port, 0xffff),
  );
  offset = putNestedAddress(
    bytes,
    offset,
    SessionAttribute.DST6,
    addressBytes(index, "dst6", dst6.address, 16),
    checkInteger(index, "dst6 port", dst6.port, 0xffff),
  );
  offset = putNestedAddress(
    bytes,
    offset,
    SessionAttribute.SRC4,
    addressBytes(index, "src4", session.src4.address, 4),
    checkInteger(index, "src4 port", session.src4.port, 0xffff),
  );
  offset = putNestedAddress(
    bytes,
    offset,
    SessionAttribute.DST4,
    addressBytes(index, "dst4", session.dst4.address, 4),
    checkInteger(index, "dst4 port", session.dst4.port, 0xffff),
  );
  const u8s = [
    [SessionAttribute.PROTO, bits >>> 5],
    [SessionAttribute.STATE, (bits >>> 2) & 7],
    [SessionAttribute.TIMER, bits & 3],
  ];
  for (const [type, value] of u8s) {
    putAttributeHeader(bytes, offset, NLA_HDRLEN + 1, type);
    bytes[offset + 4] = value;
    offset += nlaAlign(NLA_HDRLEN + 1);
  }
  putAttributeHeader(bytes, offset, NLA_HDRLEN + 4, SessionAttribute.EXPIRATION);
  putHostUint32(
    bytes,
    offset + 4,
    checkInteger(index, "expiration", session.expirationMs, 0xffffffff),
  );
}

function putRaw48(bytes: Uint8Array, at: number, index: number, session: Session): void {
  const dst6 = requireDst6(index, session, "raw48-4.1.12");
  bytes.set(addressBytes(index, "src6", session.src6.address, 16), at);
  bytes.set(addressBytes(index, "dst6", dst6.address, 16), at + 16);
  bytes.set(addressBytes(index, "src4", session.src4.address, 4), at + 32);
  putBigUint32(bytes, at + 36, checkInteger(index, "expiration", session.expirationMs, 0xffffffff));
  putBigUint16(bytes, at + 40, checkInteger(index, "src6 port", session.src6.port, 0xffff));
  putBigUint16(bytes, at + 42, checkInteger(index, "dst6 port", dst6.port, 0xffff));
  putBigUint16(bytes, at + 44, checkInteger(index, "src4 port", session.src4.port, 0xffff));
  putBigUint16(bytes, at + 46, packed(index, session));
}

function putRaw36(bytes: Uint8Array, at: number, index: number, session: Session): void {
  bytes.set(addressBytes(index, "src6", session.src6.address, 16), at);
  bytes.set(addressBytes(index, "src4", session.src4.address, 4), at + 16);
  bytes.set(addressBytes(index, "dst4", session.dst4.address, 4), at + 20);
  putBigUint32(bytes, at + 24, checkInteger(index, "expiration", session.expirationMs, 0xffffffff));
  putBigUint16(bytes, at + 28, checkInteger(index, "src6 port", session.src6.port, 0xffff));
  putBigUint16(bytes, at + 30, checkInteger(index, "src4 port", session.src4.port, 0xffff));
  putBigUint16(bytes, at + 32, checkInteger(index, "dst4 port", session.dst4.port, 0xffff));
  putBigUint16(bytes, at + 34, packed(index, session));
}

/**
 * Encodes sessions as a SESSION_ENTRIES payload, the way the kernel of
 * `encoding` writes them (nested entries carry NLA_F_NESTED, as kernels
 * since Linux 5.2 write and want them). `raw36-4.1.13` ignores `dst6`;
 * `raw48-4.1.12` ignores `dst4`, which the receiver derives from `dst6`.
 *
 * @throws {RangeError} If a session has an invalid field, or lacks the `dst6`
 * its encoding needs.
 */
export function encodeSessions(
  sessions: readonly Session[],
  encoding: SessionEncoding,
): Uint8Array {
  const entryLength = sessionEntryLength(encoding);
  const bytes = new Uint8Array(sessions.length * entryLength);
  sessions.forEach((session, index) => {
    const at = index * entryLength;
    putAttributeHeader(
      bytes,
      at,
      entryLength,
      encoding === "nested-4.1.0" ? JNLAL_ENTRY | NLA_F_NESTED : JNLAL_ENTRY,
    );
    const data = at + NLA_HDRLEN;
    if (encoding === "nested-4.1.0") putNested(bytes, data, index, session);
    else if (encoding === "raw48-4.1.12") putRaw48(bytes, data, index, session);
    else putRaw36(bytes, data, index, session);
  });
  return bytes;
}
