/**
 * What the Jool family's kernel side sends joold: replies to its requests
 * (see messages.ts) and the session batches it multicasts. Pure code: no
 * sockets.
 *
 * @module
 */

import { NLA_HDRLEN, NLA_TYPE_MASK } from "../netlink/attribute.ts";
import { AttributeDecoder } from "../netlink/attribute_decoder.ts";
import type { GenericMessage } from "../netlink/genetlink.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";
import {
  decodeJoolHeader,
  formatVersion,
  JOOL_HEADER_LENGTH,
  JOOL_VERSION,
  JoolDecodeError,
  type JoolHeader,
  versionCompatible,
} from "./header.ts";
import {
  ErrorAttribute,
  InstanceHelloStatus,
  InstanceStatusAttribute,
  JNLAL_ENTRY,
  JoolHeaderFlag,
  RootAttribute,
  TranslatorType,
} from "./protocol.ts";
import type { Ipv6Prefix } from "./session_convert.ts";

/** Inside a prefix attribute (JNLAP_*): the address and the length. */
const POOL6_ADDR = 1;
const POOL6_LEN = 2;

/** One answer to GLOBAL_FOREACH. */
export interface GlobalsPage {
  /** Each global's payload, by {@link GlobalAttribute} type (copies). */
  values: Map<number, Uint8Array>;
  /** The last global's type (0 if none): where the next page starts. */
  last: number;
  /** True if the kernel has more globals for another request. */
  more: boolean;
}

/**
 * Reads an answer to GLOBAL_FOREACH (check {@link decodeJoolError} first).
 *
 * @throws {JoolDecodeError} If the header does not decode.
 * @throws {AttributeDecodeError} If the attributes do not decode.
 */
export function decodeGlobalsPage(message: GenericMessage): GlobalsPage {
  const { header, attributes } = decodeJoolMessage(message);
  const values = new Map<number, Uint8Array>();
  let last = 0;
  const ad = new AttributeDecoder(attributes);
  while (ad.next()) {
    values.set(ad.type, ad.bytes().slice());
    last = ad.type;
  }
  if (ad.error !== null) throw ad.error;
  return { values, last, more: (header.flags & JoolHeaderFlag.M) !== 0 };
}

/**
 * Reads the POOL6 global's value (nested: ADDR 1 = 16 bytes, LEN 2 = u8;
 * an empty pool6 is LEN 0 alone).
 *
 * @returns The prefix, or null if the pool6 is empty.
 * @throws {JoolDecodeError} If the value is not such a prefix.
 */
export function decodePool6(value: Uint8Array): Ipv6Prefix | null {
  const ad = new AttributeDecoder(value);
  let address: Uint8Array | null = null;
  let length: number | null = null;
  while (ad.next()) {
    const bytes = ad.bytes();
    if (ad.type === POOL6_ADDR && bytes.byteLength === 16) address = bytes.slice();
    else if (ad.type === POOL6_LEN && bytes.byteLength === 1) length = bytes[0];
  }
  if (ad.error !== null) throw new JoolDecodeError(`pool6: ${ad.error.message}`);
  if (length === null) throw new JoolDecodeError("pool6 has no prefix length");
  if (length === 0 && address === null) return null;
  if (address === null) throw new JoolDecodeError(`pool6 has length ${length} but no address`);
  return { address, length };
}

/** One answer to SESSION_FOREACH. */
export interface SessionsPage {
  /**
   * The entries, each a JNLAL_ENTRY attribute, back to back: the same run
   * of attributes as a session batch's payload. A view into the datagram.
   */
  entries: Uint8Array;
  /** How many entries. */
  count: number;
  /** The last entry (a view), to ask for the next page; null if none. */
  last: Uint8Array | null;
  /** True if the kernel has more sessions for another request. */
  more: boolean;
}

/**
 * Reads an answer to SESSION_FOREACH (check {@link decodeJoolError}
 * first). The kernel puts the entries right after the Jool header, one
 * JNLAL_ENTRY attribute each, and sets the M flag when the page is full.
 *
 * @throws {JoolDecodeError} If the header does not decode or an attribute
 * is not an entry.
 * @throws {AttributeDecodeError} If the attributes do not decode.
 */
export function decodeSessionsPage(message: GenericMessage): SessionsPage {
  const { header, attributes } = decodeJoolMessage(message);
  const ad = new AttributeDecoder(attributes);
  let count = 0;
  let last: Uint8Array | null = null;
  while (ad.next()) {
    if (ad.type !== JNLAL_ENTRY) {
      throw new JoolDecodeError(`session page holds attribute ${ad.type}, not a session entry`);
    }
    last = ad.attribute();
    count++;
  }
  if (ad.error !== null) throw ad.error;
  // Walked to the end without error: the entries are all the attributes.
  return { entries: attributes, count, last, more: (header.flags & JoolHeaderFlag.M) !== 0 };
}

/** A Jool message: its header and the attributes after it. */
export interface JoolMessage {
  header: JoolHeader;
  /** The attributes after the Jool header; a view into the datagram. */
  attributes: Uint8Array;
}

/**
 * Reads the Jool header of a Generic Netlink message of the Jool family.
 *
 * @throws {JoolDecodeError} If the message is too short for the header or
 * its magic is not "jool".
 */
export function decodeJoolMessage(message: GenericMessage): JoolMessage {
  return {
    header: decodeJoolHeader(message.data),
    attributes: message.data.subarray(JOOL_HEADER_LENGTH),
  };
}

/** A batch of sessions the kernel multicast. */
export interface SessionBatch {
  /** The Jool header; `instance` is the sending instance, `version` the kernel's. */
  header: JoolHeader;
  /**
   * The SESSION_ENTRIES attribute's payload: what goes to the peers, as is.
   * A view into the datagram: copy it to keep it.
   */
  payload: Uint8Array;
}

/**
 * Decodes a session batch, checking what the C daemon checks: a Jool header
 * of version 4.1 for NAT64, no ERROR flag, and a first attribute of type
 * SESSION_ENTRIES (with or without NLA_F_NESTED; anything after it is
 * ignored). The instance name is left to the caller (see `sameInstance`):
 * every daemon of a namespace sees the batches of every instance.
 *
 * @throws {JoolDecodeError} If the message is not such a batch.
 */
export function decodeSessionBatch(message: GenericMessage): SessionBatch {
  const { header, attributes } = decodeJoolMessage(message);
  if (!versionCompatible(header.version, JOOL_VERSION)) {
    throw new JoolDecodeError(
      `session batch of Jool ${formatVersion(header.version)}, not ${formatVersion(JOOL_VERSION)}`,
    );
  }
  if ((header.xt & TranslatorType.NAT64) === 0) {
    throw new JoolDecodeError(`session batch for translator type ${header.xt}, not NAT64`);
  }
  if ((header.flags & JoolHeaderFlag.ERROR) !== 0) {
    throw new JoolDecodeError("expected a session batch, got an error report");
  }
  if (attributes.byteLength < NLA_HDRLEN) {
    throw new JoolDecodeError("session batch lacks a session container");
  }
  const view = viewOf(attributes);
  const length = view.getUint16(0, NATIVE_LITTLE_ENDIAN);
  const type = view.getUint16(2, NATIVE_LITTLE_ENDIAN) & NLA_TYPE_MASK;
  if (type !== RootAttribute.SESSION_ENTRIES) {
    throw new JoolDecodeError(`session batch starts with attribute ${type}, not SESSION_ENTRIES`);
  }
  if (length < NLA_HDRLEN || length > attributes.byteLength) {
    throw new JoolDecodeError(
      `session container length ${length} does not fit the ${attributes.byteLength} bytes left`,
    );
  }
  return { header, payload: attributes.subarray(NLA_HDRLEN, length) };
}

/** The kernel's error report. */
export interface JoolError {
  /** Positive errno (ErrorAttribute.CODE). */
  code: number;
  /** The kernel's explanation (ErrorAttribute.MSG); "" if it sent none. */
  message: string;
}

/**
 * Reads the error report of a reply whose Jool header has the ERROR flag.
 *
 * @returns The error, or null if the reply is not an error report.
 * @throws {JoolDecodeError} If the header does not decode or the report
 * lacks its code.
 * @throws {AttributeDecodeError} If the attributes do not decode.
 */
export function decodeJoolError(message: GenericMessage): JoolError | null {
  const { header, attributes } = decodeJoolMessage(message);
  if ((header.flags & JoolHeaderFlag.ERROR) === 0) return null;
  let code: number | null = null;
  let text = "";
  const ad = new AttributeDecoder(attributes);
  while (ad.next()) {
    if (ad.type === ErrorAttribute.CODE) code = ad.uint16();
    else if (ad.type === ErrorAttribute.MSG) text = ad.string();
  }
  if (ad.error !== null) throw ad.error;
  if (code === null) {
    throw new JoolDecodeError(
      `error report lacks an error code${text === "" ? "" : `; its message: ${text}`}`,
    );
  }
  return { code, message: text };
}

/**
 * Reads the answer to INSTANCE_HELLO (check {@link decodeJoolError} first).
 *
 * @returns True if the instance exists.
 * @throws {JoolDecodeError} If the status is missing or unknown.
 * @throws {AttributeDecodeError} If the attributes do not decode.
 */
export function decodeInstanceStatus(message: GenericMessage): boolean {
  const { attributes } = decodeJoolMessage(message);
  let status: number | null = null;
  const ad = new AttributeDecoder(attributes);
  while (ad.next()) {
    if (ad.type === InstanceStatusAttribute.STATUS) status = ad.uint8();
  }
  if (ad.error !== null) throw ad.error;
  if (status === InstanceHelloStatus.ALIVE) return true;
  if (status === InstanceHelloStatus.DEAD) return false;
  throw new JoolDecodeError(
    status === null ? "instance status is missing" : `instance status ${status} is unknown`,
  );
}
