import assert from "node:assert/strict";
import {
  decodeErrorPayload,
  decodeMessages,
  encodeMessage,
  MessageDecodeError,
  type MessageHeader,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  nlmsgAlign,
} from "./message.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("nlmsgAlign() rounds up to 4", () => {
  const cases: [number, number][] = [[0, 0], [1, 4], [3, 4], [4, 4], [5, 8], [16, 16], [21, 24]];
  for (const [length, aligned] of cases) assert.equal(nlmsgAlign(length), aligned, `${length}`);
});

Deno.test("encodeMessage() writes the header and pads the payload", () => {
  const cases: {
    name: string;
    header: Omit<MessageHeader, "length">;
    payload: number[];
    expected: number[];
  }[] = [
    {
      name: "aligned payload",
      header: { type: 0x10, flags: NLM_F_REQUEST | NLM_F_ACK, sequence: 1, portId: 0 },
      payload: [0x03, 0x01, 0x00, 0x00],
      // deno-fmt-ignore
      expected: [
        0x14, 0x00, 0x00, 0x00, // nlmsg_len 20
        0x10, 0x00, // nlmsg_type 0x10 (nlctrl)
        0x05, 0x00, // nlmsg_flags REQUEST|ACK
        0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
        0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
        0x03, 0x01, 0x00, 0x00, // payload
      ],
    },
    {
      name: "5-byte payload: length 21, 3 bytes of padding",
      header: { type: 0x1234, flags: NLM_F_REQUEST, sequence: 0x01020304, portId: 0xdeadbeef },
      payload: [0xaa, 0xbb, 0xcc, 0xdd, 0xee],
      // deno-fmt-ignore
      expected: [
        0x15, 0x00, 0x00, 0x00, // nlmsg_len 21 (padding not counted)
        0x34, 0x12, // nlmsg_type 0x1234
        0x01, 0x00, // nlmsg_flags REQUEST
        0x04, 0x03, 0x02, 0x01, // nlmsg_seq 0x01020304
        0xef, 0xbe, 0xad, 0xde, // nlmsg_pid 0xdeadbeef
        0xaa, 0xbb, 0xcc, 0xdd, 0xee, // payload
        0x00, 0x00, 0x00, // padding
      ],
    },
    {
      name: "empty payload",
      header: { type: NLMSG_DONE, flags: NLM_F_MULTI, sequence: 7, portId: 42 },
      payload: [],
      // deno-fmt-ignore
      expected: [
        0x10, 0x00, 0x00, 0x00, // nlmsg_len 16
        0x03, 0x00, // nlmsg_type NLMSG_DONE
        0x02, 0x00, // nlmsg_flags MULTI
        0x07, 0x00, 0x00, 0x00, // nlmsg_seq 7
        0x2a, 0x00, 0x00, 0x00, // nlmsg_pid 42
      ],
    },
  ];
  for (const { name, header, payload, expected } of cases) {
    assert.deepEqual(
      encodeMessage(header, Uint8Array.from(payload)),
      Uint8Array.from(expected),
      name,
    );
  }
});

Deno.test("decodeMessages() splits a multipart datagram at aligned offsets", () => {
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    // message 1: 5-byte payload, padded to 8
    0x15, 0x00, 0x00, 0x00, // nlmsg_len 21
    0x20, 0x00, // nlmsg_type 0x20
    0x02, 0x00, // nlmsg_flags MULTI
    0x09, 0x00, 0x00, 0x00, // nlmsg_seq 9
    0x64, 0x00, 0x00, 0x00, // nlmsg_pid 100
    0x01, 0x02, 0x03, 0x04, 0x05, // payload
    0xff, 0xff, 0xff, // padding (content ignored)
    // message 2: 6-byte payload, padded to 8
    0x16, 0x00, 0x00, 0x00, // nlmsg_len 22
    0x20, 0x00, // nlmsg_type 0x20
    0x02, 0x00, // nlmsg_flags MULTI
    0x09, 0x00, 0x00, 0x00, // nlmsg_seq 9
    0x64, 0x00, 0x00, 0x00, // nlmsg_pid 100
    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, // payload
    0x00, 0x00, // padding
    // message 3: NLMSG_DONE with its int payload
    0x14, 0x00, 0x00, 0x00, // nlmsg_len 20
    0x03, 0x00, // nlmsg_type NLMSG_DONE
    0x02, 0x00, // nlmsg_flags MULTI
    0x09, 0x00, 0x00, 0x00, // nlmsg_seq 9
    0x64, 0x00, 0x00, 0x00, // nlmsg_pid 100
    0x00, 0x00, 0x00, 0x00, // int 0
  ]);
  const messages = decodeMessages(datagram);
  assert.equal(messages.length, 3);
  assert.deepEqual(messages.map((m) => m.header), [
    { length: 21, type: 0x20, flags: NLM_F_MULTI, sequence: 9, portId: 100 },
    { length: 22, type: 0x20, flags: NLM_F_MULTI, sequence: 9, portId: 100 },
    { length: 20, type: NLMSG_DONE, flags: NLM_F_MULTI, sequence: 9, portId: 100 },
  ]);
  assert.deepEqual(messages[0].data, Uint8Array.of(1, 2, 3, 4, 5));
  assert.deepEqual(messages[1].data, Uint8Array.of(10, 11, 12, 13, 14, 15));
  assert.deepEqual(messages[2].data, Uint8Array.of(0, 0, 0, 0));
  // Payloads are views, not copies.
  assert.equal(messages[1].data.buffer, datagram.buffer);
  assert.equal(messages[1].data.byteOffset, 40);
});

Deno.test("decodeMessages() accepts a last message without its padding", () => {
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x11, 0x00, 0x00, 0x00, // nlmsg_len 17
    0x20, 0x00, // nlmsg_type
    0x00, 0x00, // nlmsg_flags
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x7f, // payload, datagram ends here
  ]);
  const messages = decodeMessages(datagram);
  assert.equal(messages.length, 1);
  assert.deepEqual(messages[0].data, Uint8Array.of(0x7f));
  assert.deepEqual(decodeMessages(new Uint8Array(0)), []);
});

Deno.test("decodeMessages() rejects impossible lengths", () => {
  // deno-fmt-ignore
  const header = (length: number) => [
    length, 0x00, 0x00, 0x00, // nlmsg_len
    0x20, 0x00, // nlmsg_type
    0x00, 0x00, // nlmsg_flags
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
  ];
  const cases: { name: string; datagram: number[]; message: RegExp }[] = [
    {
      name: "fewer bytes than a header",
      datagram: [0x10, 0x00, 0x00],
      message: /3 trailing bytes/,
    },
    { name: "nlmsg_len below the header", datagram: header(15), message: /length 15 at offset 0/ },
    { name: "nlmsg_len zero", datagram: header(0), message: /length 0 at offset 0/ },
    {
      name: "nlmsg_len past the datagram",
      datagram: [...header(24), 0x00, 0x00, 0x00, 0x00],
      message: /length 24 at offset 0 does not fit the 20-byte datagram/,
    },
    {
      name: "a good message, then a second one cut short",
      datagram: [...header(16), ...header(32)],
      message: /length 32 at offset 16/,
    },
    {
      name: "a good message, then 8 stray bytes",
      datagram: [...header(16), 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
      message: /8 trailing bytes/,
    },
  ];
  for (const { name, datagram, message } of cases) {
    assert.throws(
      () => decodeMessages(Uint8Array.from(datagram)),
      (error) => error instanceof MessageDecodeError && message.test(error.message),
      name,
    );
  }
});

// The NLMSG_ERROR datagrams below were captured from Linux 6.18.

Deno.test("decodeErrorPayload() reads an ACK (error 0, always capped)", () => {
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x24, 0x00, 0x00, 0x00, // nlmsg_len 36
    0x02, 0x00, // nlmsg_type NLMSG_ERROR
    0x00, 0x01, // nlmsg_flags CAPPED
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
    0x9b, 0x0c, 0x00, 0x00, // nlmsg_pid 3227 (our port)
    0x00, 0x00, 0x00, 0x00, // error 0: ACK
    // the request's header only
    0x20, 0x00, 0x00, 0x00, // nlmsg_len 32
    0x10, 0x00, // nlmsg_type nlctrl
    0x05, 0x00, // nlmsg_flags REQUEST|ACK
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
  ]);
  const [message] = decodeMessages(datagram);
  assert.equal(message.header.type, NLMSG_ERROR);
  assert.deepEqual(decodeErrorPayload(message), {
    errno: 0,
    request: { length: 32, type: 0x10, flags: 5, sequence: 1, portId: 0 },
    extendedMessage: null,
  });
});

Deno.test("decodeErrorPayload() reads -ENOENT with the whole request echoed", () => {
  // nlctrl's answer to CTRL_CMD_GETFAMILY "Jool" with the module not loaded.
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x34, 0x00, 0x00, 0x00, // nlmsg_len 52
    0x02, 0x00, // nlmsg_type NLMSG_ERROR
    0x00, 0x00, // nlmsg_flags 0: not capped, no TLVs
    0x02, 0x00, 0x00, 0x00, // nlmsg_seq 2
    0xe5, 0x0c, 0x00, 0x00, // nlmsg_pid 3301
    0xfe, 0xff, 0xff, 0xff, // error -2 (-ENOENT)
    // the whole request
    0x20, 0x00, 0x00, 0x00, // nlmsg_len 32
    0x10, 0x00, // nlmsg_type nlctrl
    0x05, 0x00, // nlmsg_flags REQUEST|ACK
    0x02, 0x00, 0x00, 0x00, // nlmsg_seq 2
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x03, 0x01, 0x00, 0x00, // genl: cmd GETFAMILY, version 1
    0x09, 0x00, 0x02, 0x00, // nla_len 9, CTRL_ATTR_FAMILY_NAME
    0x4a, 0x6f, 0x6f, 0x6c, 0x00, // "Jool\0"
    0x00, 0x00, 0x00, // padding
  ]);
  const [message] = decodeMessages(datagram);
  assert.deepEqual(decodeErrorPayload(message), {
    errno: 2,
    request: { length: 32, type: 0x10, flags: 5, sequence: 2, portId: 0 },
    extendedMessage: null,
  });
});

Deno.test("decodeErrorPayload() reads NLMSGERR_ATTR_MSG after a capped request", () => {
  // rtnetlink's answer to a bad RTM_GETROUTE on a socket with
  // NETLINK_EXT_ACK, NETLINK_CAP_ACK and NETLINK_GET_STRICT_CHK.
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x60, 0x00, 0x00, 0x00, // nlmsg_len 96
    0x02, 0x00, // nlmsg_type NLMSG_ERROR
    0x00, 0x03, // nlmsg_flags CAPPED|ACK_TLVS
    0x07, 0x00, 0x00, 0x00, // nlmsg_seq 7
    0x3a, 0x0d, 0x00, 0x00, // nlmsg_pid 3386
    0xea, 0xff, 0xff, 0xff, // error -22 (-EINVAL)
    // the request's header only
    0x1c, 0x00, 0x00, 0x00, // nlmsg_len 28
    0x1a, 0x00, // nlmsg_type RTM_GETROUTE
    0x05, 0x00, // nlmsg_flags REQUEST|ACK
    0x07, 0x00, 0x00, 0x00, // nlmsg_seq 7
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x39, 0x00, 0x01, 0x00, // nla_len 57, NLMSGERR_ATTR_MSG
    // "ipv4: Invalid values in header for route get request\0"
    ...new TextEncoder().encode("ipv4: Invalid values in header for route get request\0"),
    0x00, 0x00, 0x00, // padding
  ]);
  assert.equal(datagram.byteLength, 96);
  const [message] = decodeMessages(datagram);
  assert.equal(message.header.flags, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  assert.deepEqual(decodeErrorPayload(message), {
    errno: 22,
    request: { length: 28, type: 0x1a, flags: 5, sequence: 7, portId: 0 },
    extendedMessage: "ipv4: Invalid values in header for route get request",
  });
});

Deno.test("decodeErrorPayload() reads NLMSGERR_ATTR_MSG after a whole request", () => {
  // The same, without NETLINK_CAP_ACK.
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x6c, 0x00, 0x00, 0x00, // nlmsg_len 108
    0x02, 0x00, // nlmsg_type NLMSG_ERROR
    0x00, 0x02, // nlmsg_flags ACK_TLVS
    0x07, 0x00, 0x00, 0x00, // nlmsg_seq 7
    0x3a, 0x0d, 0x00, 0x00, // nlmsg_pid 3386
    0xea, 0xff, 0xff, 0xff, // error -22 (-EINVAL)
    // the whole request
    0x1c, 0x00, 0x00, 0x00, // nlmsg_len 28
    0x1a, 0x00, // nlmsg_type RTM_GETROUTE
    0x05, 0x00, // nlmsg_flags REQUEST|ACK
    0x07, 0x00, 0x00, 0x00, // nlmsg_seq 7
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x02, 0x00, 0x00, 0x00, // struct rtmsg: AF_INET, lengths 0, tos 0
    0x00, 0x07, 0x00, 0x00, // table 0, protocol 7 (the bad value), scope, type
    0x00, 0x00, 0x00, 0x00, // rtm_flags
    0x39, 0x00, 0x01, 0x00, // nla_len 57, NLMSGERR_ATTR_MSG
    ...new TextEncoder().encode("ipv4: Invalid values in header for route get request\0"),
    0x00, 0x00, 0x00, // padding
  ]);
  assert.equal(datagram.byteLength, 108);
  const [message] = decodeMessages(datagram);
  const error = decodeErrorPayload(message);
  assert.equal(error.errno, 22);
  assert.equal(error.request.length, 28);
  assert.equal(error.extendedMessage, "ipv4: Invalid values in header for route get request");
});

Deno.test("decodeErrorPayload() rejects a payload shorter than struct nlmsgerr", () => {
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x1c, 0x00, 0x00, 0x00, // nlmsg_len 28
    0x02, 0x00, // nlmsg_type NLMSG_ERROR
    0x00, 0x00, // nlmsg_flags
    0x01, 0x00, 0x00, 0x00, // nlmsg_seq 1
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0xfe, 0xff, 0xff, 0xff, // error -2
    0x10, 0x00, 0x00, 0x00, // 8 of the 16 header bytes
    0x10, 0x00, 0x05, 0x00,
  ]);
  const [message] = decodeMessages(datagram);
  assert.throws(
    () => decodeErrorPayload(message),
    (error) =>
      error instanceof MessageDecodeError && /payload of 12 bytes is too short/.test(error.message),
  );
});
