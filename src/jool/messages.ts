/**
 * Whole netlink datagrams of the Jool family that joold sends (what the
 * kernel sends back: kernel_messages.ts). Pure code: no sockets.
 *
 * Every request is nlmsghdr + genlmsghdr + Jool header (48 bytes), then its
 * attributes. The kernel answers JOOLD_ADD only on error and JOOLD_ACK
 * never; a reply (error or not) copies the request's Jool header and
 * sequence number, has genl command 0 and the requester's port id, while a
 * session batch has sequence 0 and port id 0.
 *
 * @module
 */

import {
  AttributeEncoder,
  NLA_F_NESTED,
  NLA_HDRLEN,
  nlaAlign,
  putAttributeHeader,
} from "../netlink/attribute.ts";
import { AttributeCursor } from "../netlink/attribute_decoder.ts";
import { GENL_HDRLEN } from "../netlink/genetlink.ts";
import { NLM_F_REQUEST, NLMSG_HDRLEN, putMessageHeader } from "../netlink/message.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";
import { JOOL_HEADER_LENGTH, JOOL_VERSION, putJoolHeader } from "./header.ts";
import {
  globalAttributeSize,
  JOOL_FAMILY_VERSION,
  JoolOperation,
  RootAttribute,
  TranslatorType,
} from "./protocol.ts";

/** What every request needs besides its content. */
export interface JoolRequestOptions {
  /** The Jool family's id, from nlctrl. */
  familyId: number;
  /** nlmsg_seq; use non-zero values so replies cannot pass for batches. */
  sequence: number;
  /** nlmsg_flags; default NLM_F_REQUEST (like the C daemon: no ACK). */
  flags?: number;
  /** The instance name (iname). */
  instance: string;
  /** nlmsg_pid; default 0 (the kernel). */
  portId?: number;
  /**
   * The Jool header's version; default {@link JOOL_VERSION}. Kernels 4.1.0 to
   * 4.1.8 refuse any version but their own.
   */
  version?: number;
}

/** nlmsghdr + genlmsghdr + joolnlhdr. */
const PREFIX_LENGTH = NLMSG_HDRLEN + GENL_HDRLEN + JOOL_HEADER_LENGTH;

/** The largest payload that fits in one attribute (nla_len is a u16). */
export const MAX_ATTRIBUTE_PAYLOAD = 0xffff - NLA_HDRLEN;

function putPrefix(
  target: Uint8Array,
  command: number,
  options: JoolRequestOptions,
  joolFlags: number,
): void {
  putMessageHeader(target, 0, {
    length: target.byteLength,
    type: options.familyId,
    flags: options.flags ?? NLM_F_REQUEST,
    sequence: options.sequence,
    portId: options.portId ?? 0,
  });
  target[NLMSG_HDRLEN] = command;
  target[NLMSG_HDRLEN + 1] = JOOL_FAMILY_VERSION;
  // genlmsghdr.reserved stays zero: the array is new.
  putJoolHeader(target, NLMSG_HDRLEN + GENL_HDRLEN, {
    version: options.version ?? JOOL_VERSION,
    xt: TranslatorType.NAT64,
    flags: joolFlags,
    instance: options.instance,
  });
}

/** A request: the prefix, then `attributes`. */
function withAttributes(
  command: number,
  options: JoolRequestOptions,
  attributes: AttributeEncoder,
): Uint8Array {
  const encoded = attributes.encode();
  const bytes = new Uint8Array(PREFIX_LENGTH + encoded.byteLength);
  putPrefix(bytes, command, options, 0);
  bytes.set(encoded, PREFIX_LENGTH);
  return bytes;
}

function headerOnly(command: number, options: JoolRequestOptions): Uint8Array {
  const bytes = new Uint8Array(PREFIX_LENGTH);
  putPrefix(bytes, command, options, 0);
  return bytes;
}

/**
 * JOOLD_ACK: "I took your batch; send the next one". 48 bytes, no
 * attributes. The kernel does not answer it.
 *
 * @throws {RangeError} If the instance name is not valid.
 */
export function encodeJooldAck(options: JoolRequestOptions): Uint8Array {
  return headerOnly(JoolOperation.JOOLD_ACK, options);
}

/**
 * JOOLD_ADVERTISE: asks the kernel to multicast its whole session table.
 * The kernel answers with a Jool message (ERROR flag set on failure).
 *
 * @throws {RangeError} If the instance name is not valid.
 */
export function encodeJooldAdvertise(options: JoolRequestOptions): Uint8Array {
  return headerOnly(JoolOperation.JOOLD_ADVERTISE, options);
}

/**
 * INSTANCE_HELLO: does the instance exist? Answered with a Jool message
 * holding {@link InstanceStatusAttribute.STATUS} (see
 * `decodeInstanceStatus`).
 *
 * @throws {RangeError} If the instance name is not valid.
 */
export function encodeInstanceHello(options: JoolRequestOptions): Uint8Array {
  return headerOnly(JoolOperation.INSTANCE_HELLO, options);
}

/**
 * JOOLD_ADD: sessions a peer sent, for the kernel to add. `payload` becomes
 * the payload of one SESSION_ENTRIES attribute (with NLA_F_NESTED, which
 * kernels since 5.2 require) byte for byte; validate it first (see
 * `validateSessions`). The kernel answers only on error.
 *
 * @throws {RangeError} If the instance name is not valid, or `payload` is
 * longer than 65531 bytes.
 */
export function encodeJooldAdd(options: JoolRequestOptions, payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_ATTRIBUTE_PAYLOAD) {
    throw new RangeError(
      `Cannot encode JOOLD_ADD: ${payload.byteLength} bytes of sessions exceed the ${MAX_ATTRIBUTE_PAYLOAD} an attribute holds`,
    );
  }
  const attributeLength = NLA_HDRLEN + payload.byteLength;
  // Like libnl, count the attribute's padding in nlmsg_len.
  const bytes = new Uint8Array(PREFIX_LENGTH + nlaAlign(attributeLength));
  putPrefix(bytes, JoolOperation.JOOLD_ADD, options, 0);
  putAttributeHeader(
    viewOf(bytes),
    PREFIX_LENGTH,
    attributeLength,
    RootAttribute.SESSION_ENTRIES | NLA_F_NESTED,
  );
  bytes.set(payload, PREFIX_LENGTH + NLA_HDRLEN);
  return bytes;
}

/**
 * JOOLD_ACK and JOOLD_ADD for one family and instance, encoded into buffers
 * made once: joold sends one of these per kernel batch or peer datagram, and
 * this way the hot path allocates nothing. Each result is a view into the
 * encoder's buffer, valid until its next call (send it at once); it is byte
 * for byte what {@link encodeJooldAck} and {@link encodeJooldAdd} produce.
 */
export class JooldEncoder {
  readonly #ack: Uint8Array;
  readonly #ackView: DataView;
  readonly #add: Uint8Array;
  readonly #addView: DataView;

  /** @throws {RangeError} If the instance name is not valid. */
  constructor(options: Omit<JoolRequestOptions, "sequence">) {
    this.#ack = encodeJooldAck({ ...options, sequence: 0 });
    this.#ackView = viewOf(this.#ack);
    this.#add = new Uint8Array(PREFIX_LENGTH + nlaAlign(NLA_HDRLEN + MAX_ATTRIBUTE_PAYLOAD));
    putPrefix(this.#add, JoolOperation.JOOLD_ADD, { ...options, sequence: 0 }, 0);
    this.#addView = viewOf(this.#add);
    // nla_len changes with each payload: add() writes it.
    putAttributeHeader(
      this.#addView,
      PREFIX_LENGTH,
      0,
      RootAttribute.SESSION_ENTRIES | NLA_F_NESTED,
    );
  }

  /** JOOLD_ACK with this sequence number. */
  ack(sequence: number): Uint8Array {
    this.#ackView.setUint32(8, sequence, NATIVE_LITTLE_ENDIAN);
    return this.#ack;
  }

  /**
   * JOOLD_ADD of `payload` with this sequence number.
   *
   * @throws {RangeError} If `payload` is longer than 65531 bytes.
   */
  add(sequence: number, payload: Uint8Array): Uint8Array {
    if (payload.byteLength > MAX_ATTRIBUTE_PAYLOAD) {
      throw new RangeError(
        `Cannot encode JOOLD_ADD: ${payload.byteLength} bytes of sessions exceed the ${MAX_ATTRIBUTE_PAYLOAD} an attribute holds`,
      );
    }
    const attributeLength = NLA_HDRLEN + payload.byteLength;
    const length = PREFIX_LENGTH + nlaAlign(attributeLength);
    this.#addView.setUint32(0, length, NATIVE_LITTLE_ENDIAN);
    this.#addView.setUint32(8, sequence, NATIVE_LITTLE_ENDIAN);
    this.#addView.setUint16(PREFIX_LENGTH, attributeLength, NATIVE_LITTLE_ENDIAN);
    this.#add.set(payload, PREFIX_LENGTH + NLA_HDRLEN);
    // A longer payload before may have left bytes in the padding.
    this.#add.fill(0, PREFIX_LENGTH + attributeLength, length);
    return this.#add.subarray(0, length);
  }
}

/** One global value: a {@link GlobalAttribute} and its value. */
export interface GlobalValue {
  type: number;
  /** A boolean or a number for u8 globals, a number for u32 globals. */
  value: boolean | number;
}

/**
 * GLOBAL_UPDATE: changes one global of the instance. The kernel answers with
 * a Jool message (ERROR flag set on failure).
 *
 * @throws {RangeError} If the global is not a scalar one, the value does not
 * fit it, or the instance name is not valid.
 */
export function encodeGlobalUpdate(options: JoolRequestOptions, global: GlobalValue): Uint8Array {
  const size = globalAttributeSize(global.type);
  if (size === null) {
    throw new RangeError(`Cannot encode GLOBAL_UPDATE: global ${global.type} is not a scalar`);
  }
  const value = typeof global.value === "boolean" ? (global.value ? 1 : 0) : global.value;
  const max = size === 1 ? 0xff : 0xffffffff;
  if (
    !Number.isInteger(value) || value < 0 || value > max ||
    (size === 4 && typeof global.value === "boolean")
  ) {
    throw new RangeError(
      `Cannot encode GLOBAL_UPDATE: ${global.value} does not fit global ${global.type} (a u${
        size * 8
      })`,
    );
  }
  const attributes = new AttributeEncoder();
  attributes.nested(RootAttribute.GLOBALS, (globals) => {
    if (size === 1) globals.uint8(global.type, value);
    else globals.uint32(global.type, value);
  });
  return withAttributes(JoolOperation.GLOBAL_UPDATE, options, attributes);
}

/**
 * GLOBAL_FOREACH: asks for the instance's globals. The kernel answers with
 * one Jool message whose attributes are the globals themselves (see
 * `decodeGlobalsPage`); if they did not all fit, its header has the
 * M flag and the rest comes in answer to a request whose `after` is the
 * last global received.
 *
 * @throws {RangeError} If the instance name is not valid or `after` is not a u8.
 */
export function encodeGlobalForeach(options: JoolRequestOptions, after = 0): Uint8Array {
  return listAfter(JoolOperation.GLOBAL_FOREACH, "GLOBAL_FOREACH", options, after);
}

/**
 * STATS_FOREACH: asks for the instance's stat counters. The kernel answers
 * with one Jool message whose attributes are the counters (see
 * `decodeStatsPage` in stats.ts); if they did not all fit, its header has
 * the M flag and the rest comes in answer to a request whose `after` is
 * the last counter received.
 *
 * @throws {RangeError} If the instance name is not valid or `after` is not a u8.
 */
export function encodeStatsForeach(options: JoolRequestOptions, after = 0): Uint8Array {
  return listAfter(JoolOperation.STATS_FOREACH, "STATS_FOREACH", options, after);
}

/** A request for a list keyed by u8 ids, from the one after `after` (OFFSET_U8; 0: all). */
function listAfter(
  command: number,
  name: string,
  options: JoolRequestOptions,
  after: number,
): Uint8Array {
  if (!Number.isInteger(after) || after < 0 || after > 0xff) {
    throw new RangeError(`Cannot encode ${name}: offset ${after} is not a u8`);
  }
  if (after === 0) return headerOnly(command, options);
  const attributes = new AttributeEncoder();
  attributes.uint8(RootAttribute.OFFSET_U8, after);
  return withAttributes(command, options, attributes);
}

/**
 * SESSION_FOREACH: asks for one page of the instance's sessions of one
 * protocol. `after` is the last entry of the previous page, as the kernel
 * sent it (a JNLAL_ENTRY attribute, header included); the kernel resumes
 * right after the session with that entry's src4 and dst4. It goes back
 * as the OFFSET attribute, marked nested: Linux 5.2+ parses it strictly.
 *
 * @throws {RangeError} If the instance name is not valid or `after` is
 * not an attribute.
 */
export function encodeSessionForeach(
  options: JoolRequestOptions,
  protocol: number,
  after: Uint8Array | null = null,
): Uint8Array {
  const attributes = new AttributeEncoder();
  attributes.uint8(RootAttribute.PROTO, protocol);
  if (after !== null) {
    const entry = new AttributeCursor(after);
    if (!entry.next()) {
      throw new RangeError("Cannot encode SESSION_FOREACH: the offset is not a whole attribute");
    }
    attributes.bytes(RootAttribute.OFFSET | NLA_F_NESTED, entry.payload());
  }
  return withAttributes(JoolOperation.SESSION_FOREACH, options, attributes);
}
