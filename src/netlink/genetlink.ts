/**
 * Generic Netlink: struct genlmsghdr on top of netlink framing.
 *
 * @module
 */

import { encodeMessage, type Message, MessageDecodeError, type MessageHeader } from "./message.ts";

/** #define GENL_HDRLEN NLMSG_ALIGN(sizeof(struct genlmsghdr)) */
export const GENL_HDRLEN = 4;

/**
 * struct genlmsghdr { __u8 cmd; __u8 version; __u16 reserved; };
 */
export interface GenericHeader {
  command: number;
  version: number;
}

/** A Generic Netlink message: netlink header, genl header, then `data`. */
export interface GenericMessage {
  header: MessageHeader;
  generic: GenericHeader;
  /** Bytes after the genl header (family header and attributes). */
  data: Uint8Array;
}

/** Encodes a Generic Netlink message addressed to family `familyId`. */
export function encodeGenericMessage(
  header: { familyId: number; flags: number; sequence: number; portId?: number },
  generic: GenericHeader,
  data: Uint8Array,
): Uint8Array {
  const payload = new Uint8Array(GENL_HDRLEN + data.byteLength);
  payload[0] = generic.command;
  payload[1] = generic.version;
  payload.set(data, GENL_HDRLEN);
  return encodeMessage(
    {
      type: header.familyId,
      flags: header.flags,
      sequence: header.sequence,
      portId: header.portId ?? 0,
    },
    payload,
  );
}

/** Reads the genl header of a netlink message of a Generic Netlink family. */
export function decodeGenericMessage(message: Message): GenericMessage {
  if (message.data.byteLength < GENL_HDRLEN) {
    throw new MessageDecodeError(
      `${message.data.byteLength} bytes are too few for a Generic Netlink header`,
    );
  }
  return {
    header: message.header,
    generic: { command: message.data[0], version: message.data[1] },
    data: message.data.subarray(GENL_HDRLEN),
  };
}
