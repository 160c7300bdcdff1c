/**
 * Netlink message framing: struct nlmsghdr, NLMSG_ERROR and multipart
 * datagrams. Pure code: no sockets.
 *
 * @module
 */

import { AttributeCursor } from "./attribute_decoder.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";

/** #define NLMSG_ALIGNTO 4U */
export const NLMSG_ALIGNTO = 4;

/** #define NLMSG_ALIGN(len) ( ((len)+NLMSG_ALIGNTO-1) & ~(NLMSG_ALIGNTO-1) ) */
export function nlmsgAlign(length: number): number {
  return (length + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

/** #define NLMSG_HDRLEN ((int) NLMSG_ALIGN(sizeof(struct nlmsghdr))) */
export const NLMSG_HDRLEN = 16;

/** Control message types (linux/netlink.h). */
export const NLMSG_NOOP = 0x1;
/** An error or, with error 0, an ACK. */
export const NLMSG_ERROR = 0x2;
/** End of a multipart dump. */
export const NLMSG_DONE = 0x3;
/** nlmsg_flags (linux/netlink.h). */
export const NLM_F_REQUEST = 0x01;
/** Part of a multipart message, ended by NLMSG_DONE. */
export const NLM_F_MULTI = 0x02;
/** Ask for an ACK (an NLMSG_ERROR with error 0). */
export const NLM_F_ACK = 0x04;
/** NLMSG_ERROR: the echoed request was cut to its header. */
export const NLM_F_CAPPED = 0x100;
/** NLMSG_ERROR: extended-ACK attributes follow. */
export const NLM_F_ACK_TLVS = 0x200;

/** enum nlmsgerr_attrs: NLMSGERR_ATTR_MSG = 1 (a NUL-terminated string). */
export const NLMSGERR_ATTR_MSG = 1;

/**
 * struct nlmsghdr {
 *     __u32 nlmsg_len;   // length including this header
 *     __u16 nlmsg_type;
 *     __u16 nlmsg_flags;
 *     __u32 nlmsg_seq;
 *     __u32 nlmsg_pid;   // port id
 * };
 */
export interface MessageHeader {
  /** Total length, header included (set by the encoder). */
  length: number;
  type: number;
  flags: number;
  sequence: number;
  portId: number;
}

/** A netlink message: its header and the bytes after it. */
export interface Message {
  header: MessageHeader;
  /** Payload, `header.length - NLMSG_HDRLEN` bytes; a view into the datagram. */
  data: Uint8Array;
}

/** A datagram that does not parse as netlink messages. */
export class MessageDecodeError extends Error {
  constructor(detail: string) {
    super(`Malformed netlink message: ${detail}`);
    this.name = "MessageDecodeError";
  }
}

/** Writes a header at `offset` of `target`. */
export function putMessageHeader(target: Uint8Array, offset: number, header: MessageHeader): void {
  const view = viewOf(target);
  view.setUint32(offset, header.length, NATIVE_LITTLE_ENDIAN);
  view.setUint16(offset + 4, header.type, NATIVE_LITTLE_ENDIAN);
  view.setUint16(offset + 6, header.flags, NATIVE_LITTLE_ENDIAN);
  view.setUint32(offset + 8, header.sequence, NATIVE_LITTLE_ENDIAN);
  view.setUint32(offset + 12, header.portId, NATIVE_LITTLE_ENDIAN);
}

/** Encodes one message; `header.length` is computed. */
export function encodeMessage(
  header: Omit<MessageHeader, "length">,
  payload: Uint8Array,
): Uint8Array {
  const length = NLMSG_HDRLEN + payload.byteLength;
  const bytes = new Uint8Array(nlmsgAlign(length));
  putMessageHeader(bytes, 0, { ...header, length });
  bytes.set(payload, NLMSG_HDRLEN);
  return bytes;
}

/**
 * Splits a datagram into messages (NLMSG_OK / NLMSG_NEXT). Payloads are
 * views into `datagram`. Throws {@link MessageDecodeError} if a length
 * field is impossible.
 */
export function decodeMessages(datagram: Uint8Array): Message[] {
  const messages: Message[] = [];
  const view = viewOf(datagram);
  let offset = 0;
  while (offset < datagram.byteLength) {
    if (datagram.byteLength - offset < NLMSG_HDRLEN) {
      throw new MessageDecodeError(
        `${datagram.byteLength - offset} trailing bytes are too few for a header`,
      );
    }
    const length = view.getUint32(offset, NATIVE_LITTLE_ENDIAN);
    if (length < NLMSG_HDRLEN || length > datagram.byteLength - offset) {
      throw new MessageDecodeError(
        `length ${length} at offset ${offset} does not fit the ${datagram.byteLength}-byte datagram`,
      );
    }
    messages.push({
      header: {
        length,
        type: view.getUint16(offset + 4, NATIVE_LITTLE_ENDIAN),
        flags: view.getUint16(offset + 6, NATIVE_LITTLE_ENDIAN),
        sequence: view.getUint32(offset + 8, NATIVE_LITTLE_ENDIAN),
        portId: view.getUint32(offset + 12, NATIVE_LITTLE_ENDIAN),
      },
      data: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += nlmsgAlign(length);
  }
  return messages;
}

/**
 * struct nlmsgerr { int error; struct nlmsghdr msg; };
 * followed, with NLM_F_ACK_TLVS, by extended-ACK attributes.
 */
export interface ErrorPayload {
  /** 0 for an ACK, otherwise a positive errno. */
  errno: number;
  /** The header of the request this answers. */
  request: MessageHeader;
  /** NLMSGERR_ATTR_MSG, if the kernel gave one. */
  extendedMessage: string | null;
}

/** Decodes the payload of an NLMSG_ERROR message. */
export function decodeErrorPayload(message: Message): ErrorPayload {
  const data = message.data;
  if (data.byteLength < 4 + NLMSG_HDRLEN) {
    throw new MessageDecodeError(`NLMSG_ERROR payload of ${data.byteLength} bytes is too short`);
  }
  const view = viewOf(data);
  const error = view.getInt32(0, NATIVE_LITTLE_ENDIAN);
  const request: MessageHeader = {
    length: view.getUint32(4, NATIVE_LITTLE_ENDIAN),
    type: view.getUint16(8, NATIVE_LITTLE_ENDIAN),
    flags: view.getUint16(10, NATIVE_LITTLE_ENDIAN),
    sequence: view.getUint32(12, NATIVE_LITTLE_ENDIAN),
    portId: view.getUint32(16, NATIVE_LITTLE_ENDIAN),
  };
  let extendedMessage: string | null = null;
  if ((message.header.flags & NLM_F_ACK_TLVS) !== 0) {
    // The echoed request is cut to its header when CAPPED, whole otherwise.
    const echoed = (message.header.flags & NLM_F_CAPPED) !== 0
      ? NLMSG_HDRLEN
      : nlmsgAlign(Math.max(request.length, NLMSG_HDRLEN));
    extendedMessage = findExtendedMessage(data.subarray(Math.min(data.byteLength, 4 + echoed)));
  }
  // -0 for an ACK would fail Object.is() comparisons.
  return { errno: error === 0 ? 0 : -error, request, extendedMessage };
}

/** NLMSGERR_ATTR_MSG's text; null if absent, or if a malformed TLV comes first. */
function findExtendedMessage(tlvs: Uint8Array): string | null {
  const cursor = new AttributeCursor(tlvs);
  while (cursor.next()) {
    if (cursor.type === NLMSGERR_ATTR_MSG) {
      let text = cursor.payload();
      const nul = text.indexOf(0);
      if (nul >= 0) text = text.subarray(0, nul);
      return new TextDecoder().decode(text);
    }
  }
  return null;
}
