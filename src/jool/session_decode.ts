/**
 * Reading SESSION_ENTRIES payloads: the strict check every peer datagram and
 * table dump goes through, and the decoder behind it. Both walk the entries
 * with {@link AttributeCursor}s made once per payload (one per nesting
 * level), so checking a valid payload allocates nothing per session.
 *
 * @module
 */

import { NLA_HDRLEN } from "../netlink/attribute.ts";
import { AttributeCursor } from "../netlink/attribute_decoder.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";
import { formatIPv4, formatIPv6 } from "../net/ip.ts";
import {
  JNLAL_ENTRY,
  L4Protocol,
  SessionAttribute,
  TransportAddressAttribute,
} from "./protocol.ts";
import {
  MAX_STATE,
  MAX_TIMER,
  PROTOCOLS,
  type Session,
  SESSION_ENCODINGS,
  type SessionEncoding,
  type SessionFields,
  type TransportAddress,
} from "./session_layout.ts";

/** Session entries that are not valid in the expected encoding. */
export class SessionDecodeError extends Error {
  constructor(detail: string) {
    super(`Malformed session entries: ${detail}`);
    this.name = "SessionDecodeError";
  }
}

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

// The validators below build a string only to report a problem, so a valid
// payload allocates nothing per session; they read the cursors' plain fields.

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

/** Checks the transport address `parts` walks (ADDR and PORT, once each). */
function checkTransportAddress(
  parts: AttributeCursor,
  addressSize: number,
  field: string,
): string | null {
  let seen = 0;
  while (parts.next()) {
    const type = parts.type;
    const size = parts.length - NLA_HDRLEN;
    if (type === TransportAddressAttribute.ADDR) {
      if (size !== addressSize) return `${field} address has ${size} bytes, not ${addressSize}`;
    } else if (type === TransportAddressAttribute.PORT) {
      if (size !== 2) return `${field} port has ${size} bytes, not 2`;
    } else {
      return `${field} holds unknown attribute ${type}`;
    }
    if ((seen & (1 << type)) !== 0) return `${field} holds attribute ${type} twice`;
    seen |= 1 << type;
  }
  if (parts.malformed) {
    return parts.remaining < NLA_HDRLEN
      ? `${field} has ${parts.remaining} trailing bytes`
      : `${field} holds an attribute of length ${parts.length} in ${parts.remaining} bytes`;
  }
  if ((seen & (1 << TransportAddressAttribute.ADDR)) === 0) return `${field} lacks its address`;
  if ((seen & (1 << TransportAddressAttribute.PORT)) === 0) return `${field} lacks its port`;
  return null;
}

/**
 * Checks the nested entry `fields` walks, in `payload`; `parts` walks its
 * addresses.
 */
function checkNested(
  payload: Uint8Array,
  fields: AttributeCursor,
  parts: AttributeCursor,
): string | null {
  let seen = 0;
  while (fields.next()) {
    const type = fields.type;
    if (type < SessionAttribute.SRC6 || type > SessionAttribute.EXPIRATION) {
      return `unknown field ${type}`;
    }
    if ((seen & (1 << type)) !== 0) return `field ${FIELD_NAMES[type]} appears twice`;
    seen |= 1 << type;
    const size = fields.length - NLA_HDRLEN;
    let problem: string | null = null;
    switch (type) {
      case SessionAttribute.SRC6:
      case SessionAttribute.DST6:
        problem = checkTransportAddress(parts.within(fields), 16, FIELD_NAMES[type]);
        break;
      case SessionAttribute.SRC4:
      case SessionAttribute.DST4:
        problem = checkTransportAddress(parts.within(fields), 4, FIELD_NAMES[type]);
        break;
      case SessionAttribute.EXPIRATION:
        if (size !== 4) problem = `EXPIRATION has ${size} bytes, not 4`;
        break;
      default: { // PROTO, STATE, TIMER: u8
        const value = size === 1 ? payload[fields.offset + NLA_HDRLEN] : 0;
        if (size !== 1) {
          problem = `${FIELD_NAMES[type]} has ${size} bytes, not 1`;
        } else if (type === SessionAttribute.PROTO && value > L4Protocol.ICMP) {
          problem = `protocol ${value} is not TCP, UDP or ICMP`;
        } else if (type === SessionAttribute.STATE && value > MAX_STATE) {
          problem = `TCP state ${value} is out of range`;
        } else if (type === SessionAttribute.TIMER && value > MAX_TIMER) {
          problem = `timer ${value} is out of range`;
        }
      }
    }
    if (problem !== null) return problem;
  }
  if (fields.malformed) {
    return fields.remaining < NLA_HDRLEN
      ? `${fields.remaining} trailing bytes`
      : `field of length ${fields.length} does not fit the remaining ${fields.remaining} bytes`;
  }
  if (seen !== ALL_FIELDS) {
    for (let type = SessionAttribute.SRC6; type <= SessionAttribute.EXPIRATION; type++) {
      if ((seen & (1 << type)) === 0) return `field ${FIELD_NAMES[type]} is missing`;
    }
  }
  return null;
}

/**
 * Checks the raw entry `entries` is at, in `payload`, of `size` payload
 * bytes whose last two are the packed proto/state/timer (big-endian).
 */
function checkRaw(payload: Uint8Array, entries: AttributeCursor, size: number): string | null {
  const got = entries.length - NLA_HDRLEN;
  if (got !== size) return `entry has ${got} bytes, not ${size}`;
  const end = entries.offset + entries.length;
  return checkPacked((payload[end - 2] << 8) | payload[end - 1]);
}

const RAW48_SIZE = SESSION_ENCODINGS["raw48-4.1.12"].entryLength - NLA_HDRLEN;
const RAW36_SIZE = SESSION_ENCODINGS["raw36-4.1.13"].entryLength - NLA_HDRLEN;

/** Checks the entry `entries` is at; `fields` and `parts` are spare cursors. */
type EntryChecker = (
  payload: Uint8Array,
  entries: AttributeCursor,
  fields: AttributeCursor,
  parts: AttributeCursor,
) => string | null;

const CHECKERS = {
  "nested-4.1.0": (payload, entries, fields, parts) =>
    checkNested(payload, fields.within(entries), parts),
  "raw48-4.1.12": (payload, entries) => checkRaw(payload, entries, RAW48_SIZE),
  "raw36-4.1.13": (payload, entries) => checkRaw(payload, entries, RAW36_SIZE),
} satisfies Record<SessionEncoding, EntryChecker>;

/**
 * Checks SESSION_ENTRIES payloads with cursors made once: what checks every
 * peer datagram keeps, so that a valid one costs no allocation at all.
 */
export class SessionValidator {
  readonly #entries = new AttributeCursor();
  readonly #fields = new AttributeCursor();
  readonly #parts = new AttributeCursor();

  /** As {@link validateSessions}. */
  check(payload: Uint8Array, encoding: SessionEncoding): string | null {
    const entries = this.#entries.over(payload);
    const checkEntry: EntryChecker = CHECKERS[encoding];
    let index = 0;
    for (; entries.next(); index++) {
      const type = entries.type;
      if (type !== JNLAL_ENTRY) return `session ${index}: attribute type ${type}, not JNLAL_ENTRY`;
      const problem = checkEntry(payload, entries, this.#fields, this.#parts);
      if (problem !== null) return `session ${index}: ${problem}`;
    }
    if (!entries.malformed) return null;
    return entries.remaining < NLA_HDRLEN
      ? `${entries.remaining} trailing bytes at offset ${entries.offset}`
      : `session ${index}: length ${entries.length} does not fit the remaining ${entries.remaining} bytes`;
  }
}

/**
 * Checks a SESSION_ENTRIES payload strictly: only JNLAL_ENTRY attributes,
 * each exactly one well-formed session of `encoding` (the exact size for raw
 * entries; every field once and nothing else for nested ones), protocol TCP,
 * UDP or ICMP, state and timer in range, unused bits clear, no bytes left
 * over. Allocates nothing per session when the payload is valid (and
 * nothing at all through a kept {@link SessionValidator}).
 *
 * @returns The first problem found, or null if the payload is valid.
 */
export function validateSessions(payload: Uint8Array, encoding: SessionEncoding): string | null {
  return new SessionValidator().check(payload, encoding);
}

/** Reads the checked raw36 entry at `start` (`view` is over `bytes`). */
function readRaw36(bytes: Uint8Array, view: DataView, start: number): SessionFields {
  return {
    packed: view.getUint16(start + 34),
    src6: bytes.subarray(start, start + 16),
    src6Port: view.getUint16(start + 28),
    dst6: null,
    dst6Port: 0,
    src4: bytes.subarray(start + 16, start + 20),
    src4Port: view.getUint16(start + 30),
    dst4: bytes.subarray(start + 20, start + 24),
    dst4Port: view.getUint16(start + 32),
    expirationMs: view.getUint32(start + 24),
  };
}

/** Reads the checked raw48 entry at `start` (`view` is over `bytes`). */
function readRaw48(bytes: Uint8Array, view: DataView, start: number): SessionFields {
  const packed = view.getUint16(start + 46);
  const dst6Port = view.getUint16(start + 42);
  const src4Port = view.getUint16(start + 44);
  return {
    packed,
    src6: bytes.subarray(start, start + 16),
    src6Port: view.getUint16(start + 40),
    dst6: bytes.subarray(start + 16, start + 32),
    dst6Port,
    src4: bytes.subarray(start + 32, start + 36),
    src4Port,
    // What the 4.1.12 kernel derives (it assumes a /96 pool6).
    dst4: bytes.subarray(start + 28, start + 32),
    dst4Port: ((packed >>> 5) & 3) === L4Protocol.ICMP ? src4Port : dst6Port,
    expirationMs: view.getUint32(start + 36),
  };
}

/**
 * Reads the checked nested entry `fields` walks (`view` is over `bytes`);
 * `parts` walks its addresses.
 */
function readNested(
  bytes: Uint8Array,
  view: DataView,
  fields: AttributeCursor,
  parts: AttributeCursor,
): SessionFields {
  const out: SessionFields = {
    packed: 0,
    src6: bytes,
    src6Port: 0,
    dst6: null,
    dst6Port: 0,
    src4: bytes,
    src4Port: 0,
    dst4: bytes,
    dst4Port: 0,
    expirationMs: 0,
  };
  while (fields.next()) {
    const at = fields.payloadStart;
    switch (fields.type) {
      case SessionAttribute.PROTO:
        out.packed |= view.getUint8(at) << 5;
        break;
      case SessionAttribute.STATE:
        out.packed |= view.getUint8(at) << 2;
        break;
      case SessionAttribute.TIMER:
        out.packed |= view.getUint8(at);
        break;
      case SessionAttribute.EXPIRATION:
        out.expirationMs = view.getUint32(at, NATIVE_LITTLE_ENDIAN);
        break;
      default: {
        // SRC6, DST6, SRC4, DST4: an address and a port each.
        let address = bytes;
        let port = 0;
        const addressParts = parts.within(fields);
        while (addressParts.next()) {
          if (addressParts.type === TransportAddressAttribute.ADDR) {
            address = addressParts.payload();
          } else {
            port = view.getUint16(addressParts.payloadStart, NATIVE_LITTLE_ENDIAN);
          }
        }
        switch (fields.type) {
          case SessionAttribute.SRC6:
            out.src6 = address;
            out.src6Port = port;
            break;
          case SessionAttribute.DST6:
            out.dst6 = address;
            out.dst6Port = port;
            break;
          case SessionAttribute.SRC4:
            out.src4 = address;
            out.src4Port = port;
            break;
          default:
            out.dst4 = address;
            out.dst4Port = port;
        }
      }
    }
  }
  return out;
}

/** Reads the checked entry `entries` is at; `fields` and `parts` are spare cursors. */
type EntryReader = (
  bytes: Uint8Array,
  view: DataView,
  entries: AttributeCursor,
  fields: AttributeCursor,
  parts: AttributeCursor,
) => SessionFields;

const READERS = {
  "nested-4.1.0": (bytes, view, entries, fields, parts) =>
    readNested(bytes, view, fields.within(entries), parts),
  "raw48-4.1.12": (bytes, view, entries) => readRaw48(bytes, view, entries.payloadStart),
  "raw36-4.1.13": (bytes, view, entries) => readRaw36(bytes, view, entries.payloadStart),
} satisfies Record<SessionEncoding, EntryReader>;

/**
 * The fields of each entry of a payload already found valid in `encoding`
 * (its addresses are views into `payload`). Checks nothing again.
 */
export function readCheckedSessionFields(
  payload: Uint8Array,
  encoding: SessionEncoding,
): SessionFields[] {
  const all: SessionFields[] = [];
  const view = viewOf(payload);
  const entries = new AttributeCursor(payload);
  const fields = new AttributeCursor();
  const parts = new AttributeCursor();
  const read: EntryReader = READERS[encoding];
  while (entries.next()) all.push(read(payload, view, entries, fields, parts));
  return all;
}

function transport(address: Uint8Array, port: number): TransportAddress {
  return { address: address.byteLength === 16 ? formatIPv6(address) : formatIPv4(address), port };
}

/** A session in text, from its fields. */
function sessionOf(fields: SessionFields): Session {
  const session: Session = {
    proto: PROTOCOLS[(fields.packed >>> 5) & 3],
    src6: transport(fields.src6, fields.src6Port),
    src4: transport(fields.src4, fields.src4Port),
    dst4: transport(fields.dst4, fields.dst4Port),
    state: (fields.packed >>> 2) & 7,
    timer: fields.packed & 3,
    expirationMs: fields.expirationMs,
  };
  if (fields.dst6 !== null) session.dst6 = transport(fields.dst6, fields.dst6Port);
  return session;
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
  return { sessions: readCheckedSessionFields(payload, encoding).map(sessionOf) };
}
