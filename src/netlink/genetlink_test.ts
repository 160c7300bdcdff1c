import assert from "node:assert/strict";
import { decodeGenericMessage, encodeGenericMessage, GENL_HDRLEN } from "./genetlink.ts";
import { decodeMessages, MessageDecodeError, NLM_F_ACK, NLM_F_REQUEST } from "./message.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("encodeGenericMessage() puts the genl header between nlmsghdr and data", () => {
  const cases: {
    name: string;
    header: { familyId: number; flags: number; sequence: number; portId?: number };
    generic: { command: number; version: number };
    data: number[];
    expected: number[];
  }[] = [
    {
      name: "with data, port id defaulted",
      header: { familyId: 0x23, flags: NLM_F_REQUEST | NLM_F_ACK, sequence: 0x100 },
      generic: { command: 29, version: 2 },
      data: [0xaa, 0xbb, 0xcc],
      // deno-fmt-ignore
      expected: [
        0x17, 0x00, 0x00, 0x00, // nlmsg_len 23
        0x23, 0x00, // nlmsg_type: family id 0x23
        0x05, 0x00, // nlmsg_flags REQUEST|ACK
        0x00, 0x01, 0x00, 0x00, // nlmsg_seq 256
        0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
        0x1d, 0x02, 0x00, 0x00, // genl: cmd 29, version 2, reserved
        0xaa, 0xbb, 0xcc, // data
        0x00, // padding
      ],
    },
    {
      name: "no data, explicit port id",
      header: { familyId: 0x10, flags: NLM_F_REQUEST, sequence: 1, portId: 77 },
      generic: { command: 3, version: 1 },
      data: [],
      // deno-fmt-ignore
      expected: [
        0x14, 0x00, 0x00, 0x00, // nlmsg_len 20
        0x10, 0x00, // nlmsg_type 0x10
        0x01, 0x00, // nlmsg_flags REQUEST
        0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
        0x4d, 0x00, 0x00, 0x00, // nlmsg_pid 77
        0x03, 0x01, 0x00, 0x00, // genl: cmd 3, version 1, reserved
      ],
    },
  ];
  for (const { name, header, generic, data, expected } of cases) {
    assert.deepEqual(
      encodeGenericMessage(header, generic, Uint8Array.from(data)),
      Uint8Array.from(expected),
      name,
    );
  }
});

Deno.test("decodeGenericMessage() splits off the genl header", () => {
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x1c, 0x00, 0x00, 0x00, // nlmsg_len 28
    0x23, 0x00, // nlmsg_type 0x23
    0x00, 0x00, // nlmsg_flags 0
    0x00, 0x00, 0x00, 0x00, // nlmsg_seq 0
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x00, 0x02, 0x00, 0x00, // genl: cmd 0, version 2
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // data
  ]);
  const [message] = decodeMessages(datagram);
  const generic = decodeGenericMessage(message);
  assert.equal(generic.header, message.header);
  assert.deepEqual(generic.generic, { command: 0, version: 2 });
  assert.deepEqual(generic.data, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  assert.equal(generic.data.buffer, datagram.buffer);
  assert.equal(generic.data.byteOffset, 16 + GENL_HDRLEN);
});

Deno.test("decodeGenericMessage() rejects a payload shorter than the genl header", () => {
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x13, 0x00, 0x00, 0x00, // nlmsg_len 19
    0x23, 0x00, 0x00, 0x00, // nlmsg_type 0x23, flags 0
    0x00, 0x00, 0x00, 0x00, // nlmsg_seq 0
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x01, 0x02, 0x00, // 3 bytes of genl header
  ]);
  const [message] = decodeMessages(datagram);
  assert.throws(
    () => decodeGenericMessage(message),
    (error) =>
      error instanceof MessageDecodeError &&
      error.message ===
        "Malformed netlink message: 3 bytes are too few for a Generic Netlink header",
  );
});
