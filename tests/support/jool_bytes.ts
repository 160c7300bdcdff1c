/**
 * Byte for byte, the frame of the Jool family's messages, for the codecs'
 * table-driven tests: a request's prefix (netlink, genetlink and Jool
 * headers) and a kernel answer's Jool message, with every field annotated.
 * The literals spell host-order fields little-endian.
 *
 * @module
 */

import type { GenericMessage } from "../../src/netlink/genetlink.ts";
import { JOOL_VERSION } from "../../src/jool/header.ts";
import type { JoolRequestOptions } from "../../src/jool/messages.ts";

/** Family id 34 (0x22), sequence 5, instance "default". */
export const OPTIONS: JoolRequestOptions = { familyId: 0x22, sequence: 5, instance: "default" };

/** nlmsghdr of a request from OPTIONS, then genlmsghdr, then the Jool header. */
// deno-fmt-ignore
export function requestPrefix(length: number, command: number): number[] {
  return [
    length, 0x00, 0x00, 0x00, // nlmsg_len
    0x22, 0x00, // nlmsg_type: the Jool family's id, 34
    0x01, 0x00, // nlmsg_flags REQUEST
    0x05, 0x00, 0x00, 0x00, // nlmsg_seq 5
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0 (the kernel)
    command, 0x02, 0x00, 0x00, // genl: cmd, version 2, reserved
    0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
    0x04, 0x01, 0x0e, 0x00, // version 4.1.14.0
    0x02, 0x00, 0x00, 0x00, // xt NAT64, flags 0, reserved
    0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // iname "default\0"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   NUL padding
  ];
}

/** A Jool message (no netlink framing) with the given header fields and attributes. */
export function genericMessage(
  { version = JOOL_VERSION, xt = 2, flags = 0, attributes = [] as number[] },
): GenericMessage {
  // deno-fmt-ignore
  const data = Uint8Array.from([
    0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
    version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff,
    xt, flags, 0x00, 0x00, // xt, flags, reserved
    0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // iname "default\0"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ...attributes,
  ]);
  return {
    header: { length: 20 + data.byteLength, type: 0x22, flags: 0, sequence: 0, portId: 0 },
    generic: { command: 0, version: 2 },
    data,
  };
}
