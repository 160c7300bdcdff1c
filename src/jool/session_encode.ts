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
  type TransportAddress,
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

function requireDst6(index: number, session: Session, encoding: SessionEncoding): TransportAddress {
  if (session.dst6 === undefined) throw encodeError(index, `${encoding} needs dst6`);
  return session.dst6;
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

function putNested(out: Output, at: number, index: number, session: Session): void {
  const dst6 = requireDst6(index, session, "nested-4.1.0");
  const bits = packed(index, session);
  const addresses: [number, string, TransportAddress, 4 | 16][] = [
    [SessionAttribute.SRC6, "src6", session.src6, 16],
    [SessionAttribute.DST6, "dst6", dst6, 16],
    [SessionAttribute.SRC4, "src4", session.src4, 4],
    [SessionAttribute.DST4, "dst4", session.dst4, 4],
  ];
  let offset = at;
  for (const [type, name, { address, port }, size] of addresses) {
    offset = putNestedAddress(
      out,
      offset,
      type,
      addressBytes(index, name, address, size),
      checkInteger(index, `${name} port`, port, 0xffff),
    );
  }
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
  out.view.setUint32(
    offset + 4,
    checkInteger(index, "expiration", session.expirationMs, 0xffffffff),
    NATIVE_LITTLE_ENDIAN,
  );
}

// The raw encodings are big-endian, DataView's default.

function putRaw48({ bytes, view }: Output, at: number, index: number, session: Session): void {
  const dst6 = requireDst6(index, session, "raw48-4.1.12");
  bytes.set(addressBytes(index, "src6", session.src6.address, 16), at);
  bytes.set(addressBytes(index, "dst6", dst6.address, 16), at + 16);
  bytes.set(addressBytes(index, "src4", session.src4.address, 4), at + 32);
  view.setUint32(at + 36, checkInteger(index, "expiration", session.expirationMs, 0xffffffff));
  view.setUint16(at + 40, checkInteger(index, "src6 port", session.src6.port, 0xffff));
  view.setUint16(at + 42, checkInteger(index, "dst6 port", dst6.port, 0xffff));
  view.setUint16(at + 44, checkInteger(index, "src4 port", session.src4.port, 0xffff));
  view.setUint16(at + 46, packed(index, session));
}

function putRaw36({ bytes, view }: Output, at: number, index: number, session: Session): void {
  bytes.set(addressBytes(index, "src6", session.src6.address, 16), at);
  bytes.set(addressBytes(index, "src4", session.src4.address, 4), at + 16);
  bytes.set(addressBytes(index, "dst4", session.dst4.address, 4), at + 20);
  view.setUint32(at + 24, checkInteger(index, "expiration", session.expirationMs, 0xffffffff));
  view.setUint16(at + 28, checkInteger(index, "src6 port", session.src6.port, 0xffff));
  view.setUint16(at + 30, checkInteger(index, "src4 port", session.src4.port, 0xffff));
  view.setUint16(at + 32, checkInteger(index, "dst4 port", session.dst4.port, 0xffff));
  view.setUint16(at + 34, packed(index, session));
}

/** Writes session `index` as the payload of the entry at `at`. */
type EntryWriter = (out: Output, at: number, index: number, session: Session) => void;

const WRITERS = {
  "nested-4.1.0": putNested,
  "raw48-4.1.12": putRaw48,
  "raw36-4.1.13": putRaw36,
} satisfies Record<SessionEncoding, EntryWriter>;

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
  const { entryLength, nested } = SESSION_ENCODINGS[encoding];
  const write: EntryWriter = WRITERS[encoding];
  const bytes = new Uint8Array(sessions.length * entryLength);
  const out: Output = { bytes, view: viewOf(bytes) };
  sessions.forEach((session, index) => {
    const at = index * entryLength;
    putAttributeHeader(
      out.view,
      at,
      entryLength,
      nested ? JNLAL_ENTRY | NLA_F_NESTED : JNLAL_ENTRY,
    );
    write(out, at + NLA_HDRLEN, index, session);
  });
  return bytes;
}
