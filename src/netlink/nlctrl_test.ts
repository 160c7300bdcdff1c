import assert from "node:assert/strict";
import { AttributeDecodeError } from "./attribute_decoder.ts";
import { decodeGenericMessage } from "./genetlink.ts";
import { decodeMessages } from "./message.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import {
  CTRL_CMD_NEWFAMILY,
  decodeFamilyReply,
  encodeGetFamilyRequest,
  GENL_ID_CTRL,
} from "./nlctrl.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("encodeGetFamilyRequest() builds CTRL_CMD_GETFAMILY", () => {
  const cases: { name: string; sequence: number; expected: number[] }[] = [
    {
      name: "nlctrl",
      sequence: 1,
      // deno-fmt-ignore
      expected: [
        0x20, 0x00, 0x00, 0x00, // nlmsg_len 32
        0x10, 0x00, // nlmsg_type GENL_ID_CTRL
        0x05, 0x00, // nlmsg_flags REQUEST|ACK
        0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
        0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
        0x03, 0x01, 0x00, 0x00, // genl: cmd GETFAMILY, version 1
        0x0b, 0x00, 0x02, 0x00, // nla_len 11, CTRL_ATTR_FAMILY_NAME
        0x6e, 0x6c, 0x63, 0x74, 0x72, 0x6c, 0x00, // "nlctrl\0"
        0x00, // padding
      ],
    },
    {
      name: "Jool",
      sequence: 0x01020304,
      // deno-fmt-ignore
      expected: [
        0x20, 0x00, 0x00, 0x00, // nlmsg_len 32
        0x10, 0x00, // nlmsg_type GENL_ID_CTRL
        0x05, 0x00, // nlmsg_flags REQUEST|ACK
        0x04, 0x03, 0x02, 0x01, // nlmsg_seq 0x01020304
        0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
        0x03, 0x01, 0x00, 0x00, // genl: cmd GETFAMILY, version 1
        0x09, 0x00, 0x02, 0x00, // nla_len 9, CTRL_ATTR_FAMILY_NAME
        0x4a, 0x6f, 0x6f, 0x6c, 0x00, // "Jool\0"
        0x00, 0x00, 0x00, // padding
      ],
    },
  ];
  for (const { name, sequence, expected } of cases) {
    assert.deepEqual(encodeGetFamilyRequest(name, sequence), Uint8Array.from(expected), name);
  }
});

Deno.test("decodeFamilyReply() reads nlctrl's NEWFAMILY about itself", () => {
  // Captured from Linux 6.18 in answer to the "nlctrl" request above.
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x88, 0x00, 0x00, 0x00, // nlmsg_len 136
    0x10, 0x00, // nlmsg_type GENL_ID_CTRL
    0x00, 0x00, // nlmsg_flags 0
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
    0x9b, 0x0c, 0x00, 0x00, // nlmsg_pid 3227
    0x01, 0x02, 0x00, 0x00, // genl: cmd NEWFAMILY, version 2
    0x0b, 0x00, 0x02, 0x00, // nla_len 11, CTRL_ATTR_FAMILY_NAME
    0x6e, 0x6c, 0x63, 0x74, 0x72, 0x6c, 0x00, 0x00, // "nlctrl\0", padding
    0x06, 0x00, 0x01, 0x00, // nla_len 6, CTRL_ATTR_FAMILY_ID
    0x10, 0x00, 0x00, 0x00, // u16 16, padding
    0x08, 0x00, 0x03, 0x00, // nla_len 8, CTRL_ATTR_VERSION
    0x02, 0x00, 0x00, 0x00, // u32 2
    0x08, 0x00, 0x04, 0x00, // nla_len 8, CTRL_ATTR_HDRSIZE
    0x00, 0x00, 0x00, 0x00, // u32 0
    0x08, 0x00, 0x05, 0x00, // nla_len 8, CTRL_ATTR_MAXATTR
    0x00, 0x00, 0x00, 0x00, // u32 0
    0x2c, 0x00, 0x06, 0x00, // nla_len 44, CTRL_ATTR_OPS
    0x14, 0x00, 0x01, 0x00, //   nla_len 20, op 1
    0x08, 0x00, 0x01, 0x00, //     CTRL_ATTR_OP_ID
    0x03, 0x00, 0x00, 0x00, //     u32 3 (GETFAMILY)
    0x08, 0x00, 0x02, 0x00, //     CTRL_ATTR_OP_FLAGS
    0x0e, 0x00, 0x00, 0x00, //     u32 DO|DUMP|HASPOL
    0x14, 0x00, 0x02, 0x00, //   nla_len 20, op 2
    0x08, 0x00, 0x01, 0x00, //     CTRL_ATTR_OP_ID
    0x0a, 0x00, 0x00, 0x00, //     u32 10 (GETPOLICY)
    0x08, 0x00, 0x02, 0x00, //     CTRL_ATTR_OP_FLAGS
    0x0c, 0x00, 0x00, 0x00, //     u32 DUMP|HASPOL
    0x1c, 0x00, 0x07, 0x00, // nla_len 28, CTRL_ATTR_MCAST_GROUPS
    0x18, 0x00, 0x01, 0x00, //   nla_len 24, group 1
    0x08, 0x00, 0x02, 0x00, //     CTRL_ATTR_MCAST_GRP_ID
    0x10, 0x00, 0x00, 0x00, //     u32 16
    0x0b, 0x00, 0x01, 0x00, //     nla_len 11, CTRL_ATTR_MCAST_GRP_NAME
    0x6e, 0x6f, 0x74, 0x69, 0x66, 0x79, 0x00, 0x00, //     "notify\0", padding
  ]);
  assert.equal(datagram.byteLength, 136);
  const [message] = decodeMessages(datagram);
  assert.equal(message.header.type, GENL_ID_CTRL);
  const generic = decodeGenericMessage(message);
  assert.equal(generic.generic.command, CTRL_CMD_NEWFAMILY);
  assert.deepEqual(decodeFamilyReply(generic), {
    id: 16,
    name: "nlctrl",
    version: 2,
    groups: new Map([["notify", 16]]),
  });
});

Deno.test("decodeFamilyReply() reads a NEWFAMILY for Jool", () => {
  // What nlctrl says of Jool 4.1 (fields in the order nlctrl writes them).
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x5c, 0x00, 0x00, 0x00, // nlmsg_len 92
    0x10, 0x00, // nlmsg_type GENL_ID_CTRL
    0x00, 0x00, // nlmsg_flags 0
    0x02, 0x00, 0x00, 0x00, // nlmsg_seq 2
    0x9b, 0x0c, 0x00, 0x00, // nlmsg_pid 3227
    0x01, 0x02, 0x00, 0x00, // genl: cmd NEWFAMILY, version 2
    0x09, 0x00, 0x02, 0x00, // nla_len 9, CTRL_ATTR_FAMILY_NAME
    0x4a, 0x6f, 0x6f, 0x6c, 0x00, 0x00, 0x00, 0x00, // "Jool\0", padding
    0x06, 0x00, 0x01, 0x00, // nla_len 6, CTRL_ATTR_FAMILY_ID
    0x22, 0x00, 0x00, 0x00, // u16 34, padding
    0x08, 0x00, 0x03, 0x00, // nla_len 8, CTRL_ATTR_VERSION
    0x02, 0x00, 0x00, 0x00, // u32 2
    0x08, 0x00, 0x04, 0x00, // nla_len 8, CTRL_ATTR_HDRSIZE
    0x1c, 0x00, 0x00, 0x00, // u32 28 (struct joolnlhdr)
    0x08, 0x00, 0x05, 0x00, // nla_len 8, CTRL_ATTR_MAXATTR
    0x0d, 0x00, 0x00, 0x00, // u32 13
    0x1c, 0x00, 0x07, 0x00, // nla_len 28, CTRL_ATTR_MCAST_GROUPS
    0x18, 0x00, 0x01, 0x00, //   nla_len 24, group 1
    0x08, 0x00, 0x02, 0x00, //     CTRL_ATTR_MCAST_GRP_ID
    0x0b, 0x00, 0x00, 0x00, //     u32 11
    0x0a, 0x00, 0x01, 0x00, //     nla_len 10, CTRL_ATTR_MCAST_GRP_NAME
    0x6a, 0x6f, 0x6f, 0x6c, 0x64, 0x00, 0x00, 0x00, //     "joold\0", padding
  ]);
  assert.equal(datagram.byteLength, 92);
  const [message] = decodeMessages(datagram);
  assert.deepEqual(decodeFamilyReply(decodeGenericMessage(message)), {
    id: 34,
    name: "Jool",
    version: 2,
    groups: new Map([["joold", 11]]),
  });
});

Deno.test("decodeFamilyReply() rejects malformed replies", () => {
  // deno-fmt-ignore
  const prefix = (length: number) => [
    length, 0x00, 0x00, 0x00, // nlmsg_len
    0x10, 0x00, 0x00, 0x00, // nlmsg_type GENL_ID_CTRL, flags 0
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x01, 0x02, 0x00, 0x00, // genl: cmd NEWFAMILY, version 2
  ];
  const cases: { name: string; attributes: number[]; error: RegExp }[] = [
    {
      name: "no family id",
      // deno-fmt-ignore
      attributes: [
        0x09, 0x00, 0x02, 0x00, 0x4a, 0x6f, 0x6f, 0x6c, 0x00, 0x00, 0x00, 0x00, // "Jool"
      ],
      error: /nlctrl reply lacks CTRL_ATTR_FAMILY_ID/,
    },
    {
      name: "family id of 4 bytes",
      // deno-fmt-ignore
      attributes: [
        0x08, 0x00, 0x01, 0x00, 0x22, 0x00, 0x00, 0x00, // CTRL_ATTR_FAMILY_ID as a u32
      ],
      error: /attribute 1 should be a u16 \(2 bytes\), has 4/,
    },
    {
      name: "group id of 2 bytes",
      // deno-fmt-ignore
      attributes: [
        0x06, 0x00, 0x01, 0x00, 0x22, 0x00, 0x00, 0x00, // CTRL_ATTR_FAMILY_ID 34
        0x10, 0x00, 0x07, 0x00, // CTRL_ATTR_MCAST_GROUPS, nla_len 16
        0x0c, 0x00, 0x01, 0x00, //   group 1, nla_len 12
        0x06, 0x00, 0x02, 0x00, 0x0b, 0x00, 0x00, 0x00, //     CTRL_ATTR_MCAST_GRP_ID as a u16
      ],
      error: /attribute 2 should be a u32 \(4 bytes\), has 2/,
    },
    {
      name: "group entry overflowing its container",
      // deno-fmt-ignore
      attributes: [
        0x06, 0x00, 0x01, 0x00, 0x22, 0x00, 0x00, 0x00, // CTRL_ATTR_FAMILY_ID 34
        0x08, 0x00, 0x07, 0x00, // CTRL_ATTR_MCAST_GROUPS, nla_len 8
        0x20, 0x00, 0x01, 0x00, //   group 1, nla_len 32: past the 4 bytes left
      ],
      error: /length 32 at offset 0 does not fit the remaining 4 bytes/,
    },
  ];
  for (const { name, attributes, error } of cases) {
    const datagram = Uint8Array.from([...prefix(20 + attributes.length), ...attributes]);
    const [message] = decodeMessages(datagram);
    assert.throws(
      () => decodeFamilyReply(decodeGenericMessage(message)),
      (thrown) => thrown instanceof AttributeDecodeError && error.test(thrown.message),
      name,
    );
  }
});
