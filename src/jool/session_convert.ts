/**
 * Converting a SESSION_ENTRIES payload from one 4.1 encoding to another, so
 * that a cluster whose nodes run different Jool 4.1 versions keeps syncing
 * (the kernels only compare major.minor, and would misread the other
 * encoding). What each conversion cannot carry:
 *
 * - to `raw36-4.1.13`: dst6 is dropped; the receiving kernel rebuilds it from
 *   its own pool6 prefix and dst4 (so peers must share the pool6 prefix, as
 *   they must anyway for synced sessions to translate).
 * - from `raw36-4.1.13` to the other two: dst6 is built the way a 4.1.13
 *   kernel builds it, from the local pool6 prefix (RFC 6052) and dst4; its
 *   port is src6's for ICMP and dst4's otherwise. Without a local pool6
 *   prefix the batch cannot be converted.
 * - to `raw48-4.1.12`: dst4 is dropped; the 4.1.12 kernel derives it from
 *   dst6 (its last 4 bytes: a /96 pool6 is assumed) and, for ICMP, src4's
 *   port.
 * - from `raw48-4.1.12`: dst4 is derived the same way.
 *
 * Protocol, src6, src4, state, timer and expiration pass unchanged.
 *
 * @module
 */

import { formatIPv6, parseIPv4 } from "../net/ip.ts";
import {
  readCheckedSessionFields,
  SessionDecodeError,
  validateSessions,
} from "./session_decode.ts";
import { writeSessionFields } from "./session_encode.ts";
import { L4Protocol } from "./protocol.ts";
import { type Session, SESSION_ENCODINGS, type SessionEncoding } from "./session_layout.ts";

/** An IPv6 prefix, such as an instance's pool6. */
export interface Ipv6Prefix {
  /** 16 bytes. */
  address: Uint8Array;
  /** 32, 40, 48, 56, 64 or 96 (RFC 6052). */
  length: number;
}

/** The prefix lengths RFC 6052 allows. */
const RFC6052_LENGTHS: readonly number[] = [32, 40, 48, 56, 64, 96];

/** A batch that cannot be put into the wanted encoding. */
export class SessionConversionError extends Error {
  constructor(detail: string) {
    super(`Cannot convert session entries: ${detail}`);
    this.name = "SessionConversionError";
  }
}

/**
 * Embeds an IPv4 address (4 bytes) in an IPv6 prefix as RFC 6052 section
 * 2.2 says (bits 64 to 71, the "u" octet, stay zero), as Jool's
 * rfc6052_4to6() does.
 *
 * @throws {RangeError} If the prefix length is not one RFC 6052 allows.
 */
export function embedIPv4(prefix: Ipv6Prefix, ipv4: Uint8Array): Uint8Array {
  if (!RFC6052_LENGTHS.includes(prefix.length)) {
    throw new RangeError(`Prefix length ${prefix.length} is not one of RFC 6052's`);
  }
  const out = prefix.address.slice(0, 16);
  const first = prefix.length / 8;
  out.fill(0, first);
  // The IPv4 bytes go after the prefix, skipping byte 8 (the "u" octet).
  let at = first;
  for (const byte of ipv4) {
    if (at === 8) at++;
    out[at++] = byte;
  }
  return out;
}

/**
 * The session with the dst6 a 4.1.13+ kernel builds from its pool6 and
 * dst4, if it lacks one (a raw36 session); else the session itself.
 */
export function withDst6(session: Session, pool6: Ipv6Prefix): Session {
  if (session.dst6 !== undefined) return session;
  const dst4 = parseIPv4(session.dst4.address);
  if (dst4 === null) throw new RangeError(`dst4 ${session.dst4.address} is not an IPv4 address`);
  return {
    ...session,
    dst6: {
      address: formatIPv6(embedIPv4(pool6, dst4)),
      port: session.proto === "ICMP" ? session.src6.port : session.dst4.port,
    },
  };
}

/**
 * Re-encodes a valid SESSION_ENTRIES payload of encoding `from` in encoding
 * `to` (see the module's comment for what each conversion loses or
 * derives), bytes to bytes. The same encoding returns the payload itself.
 *
 * @param pool6 The local instance's pool6 prefix: needed to convert from
 * `raw36-4.1.13` to the two others; null if unknown.
 * @throws {SessionDecodeError} If `payload` is not valid in `from`.
 * @throws {SessionConversionError} If dst6 is needed and `pool6` is null.
 */
export function convertSessions(
  payload: Uint8Array,
  from: SessionEncoding,
  to: SessionEncoding,
  pool6: Ipv6Prefix | null,
): Uint8Array {
  if (from === to) return payload;
  const problem = validateSessions(payload, from);
  if (problem !== null) throw new SessionDecodeError(problem);
  return convertCheckedSessions(payload, from, to, pool6);
}

/**
 * As {@link convertSessions}, for a payload already found valid in `from`
 * (by the datagram filter): it is not checked again.
 *
 * @throws {SessionConversionError} If dst6 is needed and `pool6` is null.
 */
export function convertCheckedSessions(
  payload: Uint8Array,
  from: SessionEncoding,
  to: SessionEncoding,
  pool6: Ipv6Prefix | null,
): Uint8Array {
  if (from === to) return payload;
  const all = readCheckedSessionFields(payload, from);
  if (!SESSION_ENCODINGS[from].carriesDst6 && SESSION_ENCODINGS[to].carriesDst6 && all.length > 0) {
    if (pool6 === null) {
      throw new SessionConversionError(
        `${to} needs dst6, which ${from} does not carry, and the local pool6 prefix is unknown`,
      );
    }
    for (const fields of all) {
      fields.dst6 = embedIPv4(pool6, fields.dst4);
      fields.dst6Port = ((fields.packed >>> 5) & 3) === L4Protocol.ICMP
        ? fields.src6Port
        : fields.dst4Port;
    }
  }
  return writeSessionFields(all, to);
}
