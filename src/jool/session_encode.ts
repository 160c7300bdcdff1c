/**
 * Writing SESSION_ENTRIES payloads the way a kernel of each encoding
 * writes them.
 *
 * @module
 */

import { NLA_F_NESTED, NLA_HDRLEN, nlaAlign, putAttributeHeader } from "../netlink/attribute.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";
import { parseIPv4, parseIPv6 } from "../net/ip.ts";
import { JNLAL_ENTRY, SessionAttribute, TransportAddressAttribute } from "./protocol.ts";
import {
  MAX_STATE,
  MAX_TIMER,
  PROTOCOLS,
  type Session,
  SESSION_ENCODINGS,
  type SessionEncoding,
  type SessionFields,
} from "./session_layout.ts";

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

const NO_ADDRESS = new Uint8Array(4);

/**
 * Checks and converts what `encoding` carries of session `index`: its
 * addresses to bytes, its ports and numbers in range.
 */
function fieldsOf(index: number, session: Session, encoding: SessionEncoding): SessionFields {
  const { carriesDst6, carriesDst4 } = SESSION_ENCODINGS[encoding];
  if (carriesDst6 && session.dst6 === undefined) {
    throw encodeError(index, `${encoding} needs dst6`);
  }
  const port = (name: string, value: number) => checkInteger(index, `${name} port`, value, 0xffff);
  const fields: SessionFields = {
    packed: packed(index, session),
    src6: addressBytes(index, "src6", session.src6.address, 16),
    src6Port: port("src6", session.src6.port),
    dst6: null,
    dst6Port: 0,
    src4: addressBytes(index, "src4", session.src4.address, 4),
    src4Port: port("src4", session.src4.port),
    dst4: NO_ADDRESS,
    dst4Port: 0,
    expirationMs: checkInteger(index, "expiration", session.expirationMs, 0xffffffff),
  };
  if (carriesDst6 && session.dst6 !== undefined) {
    fields.dst6 = addressBytes(index, "dst6", session.dst6.address, 16);
    fields.dst6Port = port("dst6", session.dst6.port);
  }
  if (carriesDst4) {
    fields.dst4 = addressBytes(index, "dst4", session.dst4.address, 4);
    fields.dst4Port = port("dst4", session.dst4.port);
  }
  return fields;
}

/** The dst6 an encoding that carries it must be given (fieldsOf and conversions see to it). */
function dst6Of(fields: SessionFields): Uint8Array {
  if (fields.dst6 === null) throw new RangeError("Cannot encode a session without dst6");
  return fields.dst6;
}

/** The payload being written: its bytes and a view over them. */
interface Output {
  bytes: Uint8Array;
  view: DataView;
}

function putNestedAddress(
  out: Output,
  offset: number,
  type: number,
  address: Uint8Array,
  port: number,
): number {
  const size = NLA_HDRLEN + (NLA_HDRLEN + address.byteLength) + nlaAlign(NLA_HDRLEN + 2);
  putAttributeHeader(out.view, offset, size, type | NLA_F_NESTED);
  putAttributeHeader(
    out.view,
    offset + 4,
    NLA_HDRLEN + address.byteLength,
    TransportAddressAttribute.ADDR,
  );
  out.bytes.set(address, offset + 8);
  const portAt = offset + 8 + address.byteLength;
  putAttributeHeader(out.view, portAt, NLA_HDRLEN + 2, TransportAddressAttribute.PORT);
  out.view.setUint16(portAt + 4, port, NATIVE_LITTLE_ENDIAN);
  return offset + size;
}

function putNested(out: Output, at: number, fields: SessionFields): void {
  let offset = at;
  offset = putNestedAddress(out, offset, SessionAttribute.SRC6, fields.src6, fields.src6Port);
  offset = putNestedAddress(out, offset, SessionAttribute.DST6, dst6Of(fields), fields.dst6Port);
  offset = putNestedAddress(out, offset, SessionAttribute.SRC4, fields.src4, fields.src4Port);
  offset = putNestedAddress(out, offset, SessionAttribute.DST4, fields.dst4, fields.dst4Port);
  const bits = fields.packed;
  const u8s = [
    [SessionAttribute.PROTO, bits >>> 5],
    [SessionAttribute.STATE, (bits >>> 2) & 7],
    [SessionAttribute.TIMER, bits & 3],
  ];
  for (const [type, value] of u8s) {
    putAttributeHeader(out.view, offset, NLA_HDRLEN + 1, type);
    out.bytes[offset + 4] = value;
    offset += nlaAlign(NLA_HDRLEN + 1);
  }
  putAttributeHeader(out.view, offset, NLA_HDRLEN + 4, SessionAttribute.EXPIRATION);
  out.view.setUint32(offset + 4, fields.expirationMs, NATIVE_LITTLE_ENDIAN);
}

// The raw encodings are big-endian, DataView's default.

function putRaw48({ bytes, view }: Output, at: number, fields: SessionFields): void {
  bytes.set(fields.src6, at);
  bytes.set(dst6Of(fields), at + 16);
  bytes.set(fields.src4, at + 32);
  view.setUint32(at + 36, fields.expirationMs);
  view.setUint16(at + 40, fields.src6Port);
  view.setUint16(at + 42, fields.dst6Port);
  view.setUint16(at + 44, fields.src4Port);
  view.setUint16(at + 46, fields.packed);
}

function putRaw36({ bytes, view }: Output, at: number, fields: SessionFields): void {
  bytes.set(fields.src6, at);
  bytes.set(fields.src4, at + 16);
  bytes.set(fields.dst4, at + 20);
  view.setUint32(at + 24, fields.expirationMs);
  view.setUint16(at + 28, fields.src6Port);
  view.setUint16(at + 30, fields.src4Port);
  view.setUint16(at + 32, fields.dst4Port);
  view.setUint16(at + 34, fields.packed);
}

/** Writes a session's fields as the payload of the entry at `at`. */
type EntryWriter = (out: Output, at: number, fields: SessionFields) => void;

const WRITERS = {
  "nested-4.1.0": putNested,
  "raw48-4.1.12": putRaw48,
  "raw36-4.1.13": putRaw36,
} satisfies Record<SessionEncoding, EntryWriter>;

/**
 * Writes sessions' fields, already in range, as a SESSION_ENTRIES payload
 * in `encoding`; checks nothing again.
 *
 * @throws {RangeError} If `encoding` carries dst6 and a session has none.
 */
export function writeSessionFields(
  all: readonly SessionFields[],
  encoding: SessionEncoding,
): Uint8Array {
  const { entryLength, nested } = SESSION_ENCODINGS[encoding];
  const write: EntryWriter = WRITERS[encoding];
  const bytes = new Uint8Array(all.length * entryLength);
  const out: Output = { bytes, view: viewOf(bytes) };
  all.forEach((fields, index) => {
    const at = index * entryLength;
    putAttributeHeader(
      out.view,
      at,
      entryLength,
      nested ? JNLAL_ENTRY | NLA_F_NESTED : JNLAL_ENTRY,
    );
    write(out, at + NLA_HDRLEN, fields);
  });
  return bytes;
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
  return writeSessionFields(
    sessions.map((session, index) => fieldsOf(index, session, encoding)),
    encoding,
  );
}
