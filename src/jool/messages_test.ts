/**
 * The Jool family's messages both ways: the requests of messages.ts and
 * what kernel_messages.ts reads back, often as round trips.
 */

import assert from "node:assert/strict";
import { AttributeDecodeError } from "../netlink/attribute_decoder.ts";
import { decodeGenericMessage, type GenericMessage } from "../netlink/genetlink.ts";
import { decodeMessages, NLM_F_ACK, NLM_F_REQUEST } from "../netlink/message.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import { JOOL_VERSION, JoolDecodeError, joolVersion } from "./header.ts";
import {
  decodeGlobalsPage,
  decodeInstanceStatus,
  decodeJoolError,
  decodeJoolMessage,
  decodeSessionBatch,
  decodeSessionsPage,
} from "./kernel_messages.ts";
import {
  encodeGlobalForeach,
  encodeGlobalUpdate,
  encodeInstanceHello,
  encodeJooldAck,
  encodeJooldAdd,
  encodeJooldAdvertise,
  encodeSessionForeach,
  JooldEncoder,
} from "./messages.ts";
import { GlobalAttribute, JoolOperation, RootAttribute } from "./protocol.ts";
import { decodeSessions, sessionEncodingFor } from "./session.ts";
import { genericMessage, OPTIONS, requestPrefix } from "../../tests/support/jool_bytes.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

const ascii = (text: string) => new TextEncoder().encode(text);

Deno.test("protocol constants match enum joolnl_operation and friends", () => {
  assert.equal(JoolOperation.INSTANCE_HELLO, 2);
  assert.equal(JoolOperation.GLOBAL_FOREACH, 8);
  assert.equal(JoolOperation.GLOBAL_UPDATE, 9);
  assert.equal(JoolOperation.JOOLD_ADD, 27);
  assert.equal(JoolOperation.JOOLD_ADVERTISE, 28);
  assert.equal(JoolOperation.JOOLD_ACK, 29);
  assert.equal(RootAttribute.GLOBALS, 2);
  assert.equal(RootAttribute.SESSION_ENTRIES, 7);
  assert.equal(GlobalAttribute.JOOLD_ENABLED, 27);
  assert.equal(GlobalAttribute.JOOLD_MAX_SESSIONS_PER_PACKET, 32);
});

Deno.test("encodeJooldAck() is a bare 48-byte JOOLD_ACK", () => {
  // deno-fmt-ignore
  const expected = [
    0x30, 0x00, 0x00, 0x00, // nlmsg_len 48
    0x22, 0x00, // nlmsg_type: family id 34
    0x01, 0x00, // nlmsg_flags REQUEST
    0x05, 0x00, 0x00, 0x00, // nlmsg_seq 5
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x1d, 0x02, 0x00, 0x00, // genl: cmd 29 JOOLD_ACK, version 2
    0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
    0x04, 0x01, 0x0e, 0x00, // version 4.1.14.0, big-endian
    0x02, // xt NAT64
    0x00, // flags
    0x00, 0x00, // reserved
    0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // iname "default\0"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   NUL padding
  ];
  assert.deepEqual(encodeJooldAck(OPTIONS), Uint8Array.from(expected));
});

Deno.test("request options: flags, port id and version", () => {
  const bytes = encodeJooldAck({
    familyId: 0x1234,
    sequence: 0xfffffffe,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    instance: "Nat64",
    portId: 3227,
    version: joolVersion(4, 1, 5),
  });
  // deno-fmt-ignore
  const expected = [
    0x30, 0x00, 0x00, 0x00, // nlmsg_len 48
    0x34, 0x12, // nlmsg_type: family id 0x1234
    0x05, 0x00, // nlmsg_flags REQUEST|ACK
    0xfe, 0xff, 0xff, 0xff, // nlmsg_seq 0xfffffffe
    0x9b, 0x0c, 0x00, 0x00, // nlmsg_pid 3227
    0x1d, 0x02, 0x00, 0x00, // genl: cmd 29 JOOLD_ACK, version 2
    0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
    0x04, 0x01, 0x05, 0x00, // version 4.1.5.0 (what a 4.1.5 kernel insists on)
    0x02, 0x00, 0x00, 0x00, // xt NAT64, flags 0, reserved
    0x4e, 0x61, 0x74, 0x36, 0x34, 0x00, 0x00, 0x00, // iname "Nat64\0"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   NUL padding
  ];
  assert.deepEqual(bytes, Uint8Array.from(expected));
  assert.throws(
    () => encodeJooldAck({ ...OPTIONS, instance: "sixteen-chars-xx" }),
    (error) => error instanceof RangeError && /longer than 15/.test(error.message),
  );
});

Deno.test("encodeJooldAdvertise() and encodeInstanceHello() are bare requests", () => {
  assert.deepEqual(
    encodeJooldAdvertise(OPTIONS),
    Uint8Array.from(requestPrefix(48, 0x1c)), // cmd 28 JOOLD_ADVERTISE
  );
  assert.deepEqual(
    encodeInstanceHello(OPTIONS),
    Uint8Array.from(requestPrefix(48, 0x02)), // cmd 2 INSTANCE_HELLO
  );
});

Deno.test("encodeJooldAdd() wraps the peer's bytes in one SESSION_ENTRIES", () => {
  // deno-fmt-ignore
  const payload = Uint8Array.from([
    0x28, 0x00, 0x01, 0x00, // nla_len 40, JNLAL_ENTRY
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, // src6 2001:db8::5
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0xc0, 0x00, 0x02, 0x01, // src4 192.0.2.1
    0xcb, 0x00, 0x71, 0x09, // dst4 203.0.113.9
    0x00, 0x6d, 0xdd, 0x00, // expiration 7200000 ms
    0x9c, 0x40, // src6 port 40000
    0xee, 0x49, // src4 port 61001
    0x01, 0xbb, // dst4 port 443
    0x00, 0x00, // TCP, ESTABLISHED, timer EST
  ]);
  // deno-fmt-ignore
  const expected = [
    0x5c, 0x00, 0x00, 0x00, // nlmsg_len 92
    0x22, 0x00, // nlmsg_type: family id 34
    0x01, 0x00, // nlmsg_flags REQUEST
    0x05, 0x00, 0x00, 0x00, // nlmsg_seq 5
    0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0
    0x1b, 0x02, 0x00, 0x00, // genl: cmd 27 JOOLD_ADD, version 2
    0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
    0x04, 0x01, 0x0e, 0x00, // version 4.1.14.0
    0x02, 0x00, 0x00, 0x00, // xt NAT64, flags 0, reserved
    0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // iname "default\0"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   NUL padding
    0x2c, 0x00, 0x07, 0x80, // nla_len 44, SESSION_ENTRIES | NLA_F_NESTED
    ...payload, // the peer's bytes, as they came
  ];
  const bytes = encodeJooldAdd(OPTIONS, payload);
  assert.deepEqual(bytes, Uint8Array.from(expected));
  // The kernel's view of it: one message with the payload intact.
  const [message] = decodeMessages(bytes);
  const jool = decodeJoolMessage(decodeGenericMessage(message));
  assert.deepEqual(jool.attributes.subarray(4), payload);
});

Deno.test("encodeJooldAdd() pads an unaligned payload and counts the padding", () => {
  const cases: { name: string; payload: number[]; tail: number[] }[] = [
    {
      name: "3 bytes",
      payload: [0xaa, 0xbb, 0xcc],
      // deno-fmt-ignore
      tail: [
        0x07, 0x00, 0x07, 0x80, // nla_len 7, SESSION_ENTRIES | NLA_F_NESTED
        0xaa, 0xbb, 0xcc, // payload
        0x00, // padding
      ],
    },
    {
      name: "empty",
      payload: [],
      // deno-fmt-ignore
      tail: [
        0x04, 0x00, 0x07, 0x80, // nla_len 4, SESSION_ENTRIES | NLA_F_NESTED
      ],
    },
  ];
  for (const { name, payload, tail } of cases) {
    const expected = [...requestPrefix(48 + tail.length, 0x1b), ...tail];
    assert.deepEqual(
      encodeJooldAdd(OPTIONS, Uint8Array.from(payload)),
      Uint8Array.from(expected),
      name,
    );
  }
  assert.equal(encodeJooldAdd(OPTIONS, new Uint8Array(65531)).byteLength, 48 + 65535 + 1);
  assert.throws(
    () => encodeJooldAdd(OPTIONS, new Uint8Array(65532)),
    (error) => error instanceof RangeError && /65532 bytes of sessions/.test(error.message),
  );
});

Deno.test("encodeGlobalUpdate() sends GLOBALS with the one global", () => {
  const cases: {
    name: string;
    global: { type: number; value: boolean | number };
    tail: number[];
  }[] = [
    {
      name: "ss-enabled true",
      global: { type: GlobalAttribute.JOOLD_ENABLED, value: true },
      // deno-fmt-ignore
      tail: [
        0x0c, 0x00, 0x02, 0x80, // nla_len 12, GLOBALS | NLA_F_NESTED
        0x05, 0x00, 0x1b, 0x00, //   nla_len 5, JOOLD_ENABLED
        0x01, 0x00, 0x00, 0x00, //   u8 1, padding
      ],
    },
    {
      name: "ss-enabled false",
      global: { type: GlobalAttribute.JOOLD_ENABLED, value: false },
      // deno-fmt-ignore
      tail: [
        0x0c, 0x00, 0x02, 0x80, // nla_len 12, GLOBALS | NLA_F_NESTED
        0x05, 0x00, 0x1b, 0x00, //   nla_len 5, JOOLD_ENABLED
        0x00, 0x00, 0x00, 0x00, //   u8 0, padding
      ],
    },
    {
      name: "ss-flush-deadline 2000",
      global: { type: GlobalAttribute.JOOLD_FLUSH_DEADLINE, value: 2000 },
      // deno-fmt-ignore
      tail: [
        0x0c, 0x00, 0x02, 0x80, // nla_len 12, GLOBALS | NLA_F_NESTED
        0x08, 0x00, 0x1d, 0x00, //   nla_len 8, JOOLD_FLUSH_DEADLINE
        0xd0, 0x07, 0x00, 0x00, //   u32 2000
      ],
    },
    {
      name: "tos 255 (a numeric u8)",
      global: { type: GlobalAttribute.TOS, value: 255 },
      // deno-fmt-ignore
      tail: [
        0x0c, 0x00, 0x02, 0x80, // nla_len 12, GLOBALS | NLA_F_NESTED
        0x05, 0x00, 0x07, 0x00, //   nla_len 5, TOS
        0xff, 0x00, 0x00, 0x00, //   u8 255, padding
      ],
    },
  ];
  for (const { name, global, tail } of cases) {
    const expected = [...requestPrefix(48 + tail.length, 0x09), ...tail]; // cmd 9 GLOBAL_UPDATE
    assert.deepEqual(encodeGlobalUpdate(OPTIONS, global), Uint8Array.from(expected), name);
  }
});

Deno.test("encodeGlobalUpdate() refuses values that do not fit", () => {
  const cases: { type: number; value: boolean | number; error: RegExp }[] = [
    { type: GlobalAttribute.POOL6, value: 1, error: /global 2 is not a scalar/ },
    { type: 99, value: 1, error: /global 99 is not a scalar/ },
    { type: GlobalAttribute.JOOLD_ENABLED, value: 256, error: /256 does not fit .* u8/ },
    { type: GlobalAttribute.JOOLD_CAPACITY, value: true, error: /true does not fit .* u32/ },
    { type: GlobalAttribute.JOOLD_CAPACITY, value: -1, error: /-1 does not fit/ },
    { type: GlobalAttribute.JOOLD_CAPACITY, value: 1.5, error: /1.5 does not fit/ },
    { type: GlobalAttribute.JOOLD_CAPACITY, value: 2 ** 32, error: /does not fit/ },
  ];
  for (const global of cases) {
    assert.throws(
      () => encodeGlobalUpdate(OPTIONS, global),
      (error) => error instanceof RangeError && global.error.test(error.message),
      `${global.type} ${global.value}`,
    );
  }
});

/**
 * A 4.1.14 kernel's batch, as joold receives it on the multicast group:
 * two sessions in the raw 36-byte encoding.
 */
// deno-fmt-ignore
const KERNEL_BATCH_4_1_14 = Uint8Array.from([
  0x84, 0x00, 0x00, 0x00, // nlmsg_len 132
  0x22, 0x00, // nlmsg_type: family id 34
  0x00, 0x00, // nlmsg_flags 0
  0x00, 0x00, 0x00, 0x00, // nlmsg_seq 0: not a reply
  0x00, 0x00, 0x00, 0x00, // nlmsg_pid 0: from the kernel
  0x00, 0x02, 0x00, 0x00, // genl: cmd 0, version 2
  0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
  0x04, 0x01, 0x0e, 0x00, // version 4.1.14.0: the kernel's own
  0x02, 0x00, 0x00, 0x00, // xt NAT64, flags 0, reserved
  0x44, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // iname "Default\0"
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   NUL padding
  0x54, 0x00, 0x07, 0x80, // nla_len 84, SESSION_ENTRIES | NLA_F_NESTED
  0x28, 0x00, 0x01, 0x00, //   nla_len 40, JNLAL_ENTRY: session 0
  0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, //     src6 2001:db8::5
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
  0xc0, 0x00, 0x02, 0x01, //     src4 192.0.2.1
  0xcb, 0x00, 0x71, 0x09, //     dst4 203.0.113.9
  0x00, 0x6d, 0xdd, 0x00, //     expiration 7200000 ms
  0x9c, 0x40, 0xee, 0x49, //     src6 port 40000, src4 port 61001
  0x01, 0xbb, 0x00, 0x00, //     dst4 port 443; TCP, ESTABLISHED, EST
  0x28, 0x00, 0x01, 0x00, //   nla_len 40, JNLAL_ENTRY: session 1
  0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, //     src6 2001:db8::6
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
  0xc0, 0x00, 0x02, 0x01, //     src4 192.0.2.1
  0xc6, 0x33, 0x64, 0x07, //     dst4 198.51.100.7
  0x00, 0x04, 0x93, 0xe0, //     expiration 300000 ms
  0x13, 0x88, 0xee, 0x4a, //     src6 port 5000, src4 port 61002
  0x00, 0x35, 0x00, 0x20, //     dst4 port 53; UDP (1<<5), ESTABLISHED, EST
]);

Deno.test("decodeSessionBatch() finds the payload to relay, without copying", () => {
  const [message] = decodeMessages(KERNEL_BATCH_4_1_14);
  assert.equal(message.header.sequence, 0);
  const batch = decodeSessionBatch(decodeGenericMessage(message));
  assert.deepEqual(batch.header, {
    version: JOOL_VERSION,
    xt: 2,
    flags: 0,
    instance: "Default",
  });
  assert.equal(batch.payload.byteLength, 80);
  assert.equal(batch.payload.buffer, KERNEL_BATCH_4_1_14.buffer);
  assert.equal(batch.payload.byteOffset, 52);
  assert.deepEqual(batch.payload, KERNEL_BATCH_4_1_14.subarray(52));

  const { sessions } = decodeSessions(batch.payload, sessionEncodingFor(batch.header.version));
  assert.deepEqual(sessions, [
    {
      proto: "TCP",
      src6: { address: "2001:db8::5", port: 40000 },
      src4: { address: "192.0.2.1", port: 61001 },
      dst4: { address: "203.0.113.9", port: 443 },
      state: 0,
      timer: 0,
      expirationMs: 7200000,
    },
    {
      proto: "UDP",
      src6: { address: "2001:db8::6", port: 5000 },
      src4: { address: "192.0.2.1", port: 61002 },
      dst4: { address: "198.51.100.7", port: 53 },
      state: 0,
      timer: 0,
      expirationMs: 300000,
    },
  ]);
});

Deno.test("decodeSessionBatch() accepts a container without NLA_F_NESTED (pre-5.2 kernels)", () => {
  const datagram = KERNEL_BATCH_4_1_14.slice();
  datagram[51] = 0x00; // nla_type 7 alone
  const batch = decodeSessionBatch(decodeGenericMessage(decodeMessages(datagram)[0]));
  assert.equal(batch.payload.byteLength, 80);
});

Deno.test("decodeSessionBatch() rejects what is not a session batch", () => {
  const entries = [0x04, 0x00, 0x07, 0x80]; // empty SESSION_ENTRIES
  const cases: { name: string; message: GenericMessage; error: string }[] = [
    {
      name: "too short for a Jool header",
      message: { ...genericMessage({}), data: new Uint8Array(20) },
      error: "20 bytes are too few for a Jool header",
    },
    {
      name: "foreign magic",
      message: {
        ...genericMessage({}),
        data: Uint8Array.from([0, ...genericMessage({}).data.subarray(1)]),
      },
      error: "magic is 0x006f6f6c",
    },
    {
      name: "Jool 4.2",
      message: genericMessage({ version: joolVersion(4, 2, 0), attributes: entries }),
      error: "session batch of Jool 4.2.0.0, not 4.1.14.0",
    },
    {
      name: "Jool 3.5",
      message: genericMessage({ version: joolVersion(3, 5, 7), attributes: entries }),
      error: "session batch of Jool 3.5.7.0",
    },
    {
      name: "SIIT",
      message: genericMessage({ xt: 1, attributes: entries }),
      error: "session batch for translator type 1, not NAT64",
    },
    {
      name: "error report",
      message: genericMessage({ flags: 1, attributes: entries }),
      error: "expected a session batch, got an error report",
    },
    {
      name: "no attributes",
      message: genericMessage({}),
      error: "session batch lacks a session container",
    },
    {
      name: "GLOBALS first",
      message: genericMessage({ attributes: [0x04, 0x00, 0x02, 0x80] }),
      error: "session batch starts with attribute 2, not SESSION_ENTRIES",
    },
    {
      name: "container longer than the message",
      message: genericMessage({ attributes: [0x2c, 0x00, 0x07, 0x80, 0x00, 0x00, 0x00, 0x00] }),
      error: "session container length 44 does not fit the 8 bytes left",
    },
    {
      name: "container length below its header",
      message: genericMessage({ attributes: [0x03, 0x00, 0x07, 0x80] }),
      error: "session container length 3",
    },
  ];
  for (const { name, message, error } of cases) {
    assert.throws(
      () => decodeSessionBatch(message),
      (thrown) =>
        thrown instanceof JoolDecodeError &&
        thrown.message.startsWith("Malformed Jool message: ") && thrown.message.includes(error),
      name,
    );
  }
});

Deno.test("decodeSessionBatch() returns an empty payload as is", () => {
  const batch = decodeSessionBatch(genericMessage({ attributes: [0x04, 0x00, 0x07, 0x80] }));
  assert.equal(batch.payload.byteLength, 0);
});

Deno.test("decodeJoolError() reads the kernel's error report", () => {
  // The answer to the JOOLD_ADD above when ss-enabled is false.
  // deno-fmt-ignore
  const datagram = Uint8Array.from([
    0x68, 0x00, 0x00, 0x00, // nlmsg_len 104
    0x22, 0x00, // nlmsg_type: family id 34
    0x00, 0x00, // nlmsg_flags 0
    0x05, 0x00, 0x00, 0x00, // nlmsg_seq 5: the request's
    0x9b, 0x0c, 0x00, 0x00, // nlmsg_pid 3227: our port
    0x00, 0x02, 0x00, 0x00, // genl: cmd 0, version 2
    0x6a, 0x6f, 0x6f, 0x6c, // magic "jool"
    0x04, 0x01, 0x0e, 0x00, // version 4.1.14.0: copied from the request
    0x02, // xt NAT64
    0x01, // flags ERROR
    0x00, 0x00, // reserved
    0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // iname "default\0"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   NUL padding
    0x06, 0x00, 0x01, 0x00, // nla_len 6, CODE
    0x16, 0x00, 0x00, 0x00, //   u16 22 (EINVAL), padding
    0x2f, 0x00, 0x02, 0x00, // nla_len 47, MSG
    ...ascii("Session sync is disabled on this instance.\0"), // 43 bytes
    0x00, // padding
  ]);
  assert.equal(datagram.byteLength, 104);
  const message = decodeGenericMessage(decodeMessages(datagram)[0]);
  assert.deepEqual(decodeJoolError(message), {
    code: 22,
    message: "Session sync is disabled on this instance.",
  });
  assert.throws(() => decodeSessionBatch(message), /got an error report/);
});

Deno.test("decodeJoolError() on other replies", () => {
  // deno-fmt-ignore
  const cases: { name: string; flags: number; attributes: number[]; result: unknown }[] = [
    { name: "success: no ERROR flag", flags: 0, attributes: [], result: null },
    {
      name: "code without message",
      flags: 1,
      attributes: [0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00], // CODE 1 (EPERM)
      result: { code: 1, message: "" },
    },
    {
      name: "message before code, unknown attribute ignored",
      flags: 1 | 8,
      attributes: [
        0x07, 0x00, 0x02, 0x00, 0x4e, 0x6f, 0x00, 0x00, // MSG "No"
        0x05, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, // attribute 9
        0x06, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, // CODE 3 (ESRCH)
      ],
      result: { code: 3, message: "No" },
    },
  ];
  for (const { name, flags, attributes, result } of cases) {
    assert.deepEqual(decodeJoolError(genericMessage({ flags, attributes })), result, name);
  }
  assert.throws(
    () =>
      decodeJoolError(
        genericMessage({ flags: 1, attributes: [0x07, 0x00, 0x02, 0x00, 0x4e, 0x6f, 0x00, 0x00] }),
      ),
    (error) =>
      error instanceof JoolDecodeError &&
      error.message === "Malformed Jool message: error report lacks an error code; its message: No",
  );
  assert.throws(
    () =>
      decodeJoolError(
        genericMessage({ flags: 1, attributes: [0x08, 0x00, 0x01, 0x00, 0x16, 0x00, 0x00, 0x00] }),
      ),
    (error) => error instanceof AttributeDecodeError && /should be a u16/.test(error.message),
  );
});

Deno.test("decodeInstanceStatus() reads the INSTANCE_HELLO answer", () => {
  // deno-fmt-ignore
  const alive = [
    0x05, 0x00, 0x01, 0x00, // nla_len 5, STATUS
    0x00, 0x00, 0x00, 0x00, // u8 IHS_ALIVE, padding
  ];
  // deno-fmt-ignore
  const dead = [
    0x05, 0x00, 0x01, 0x00, // nla_len 5, STATUS
    0x01, 0x00, 0x00, 0x00, // u8 IHS_DEAD, padding
  ];
  assert.equal(decodeInstanceStatus(genericMessage({ attributes: alive })), true);
  assert.equal(decodeInstanceStatus(genericMessage({ attributes: dead })), false);
  assert.throws(
    () => decodeInstanceStatus(genericMessage({})),
    (error) => error instanceof JoolDecodeError && /instance status is missing/.test(error.message),
  );
  assert.throws(
    () =>
      decodeInstanceStatus(genericMessage({ attributes: [0x05, 0x00, 0x01, 0x00, 0x07, 0, 0, 0] })),
    (error) =>
      error instanceof JoolDecodeError && /instance status 7 is unknown/.test(error.message),
  );
});

Deno.test("encodeGlobalForeach() asks for every global, or for those after one", () => {
  assert.deepEqual(encodeGlobalForeach(OPTIONS), Uint8Array.from(requestPrefix(48, 0x08)));
  // deno-fmt-ignore
  const after = [
    ...requestPrefix(56, 0x08), // cmd 8 GLOBAL_FOREACH
    0x05, 0x00, 0x09, 0x00, // nla_len 5, OFFSET_U8
    0x1b, 0x00, 0x00, 0x00, // u8 27 (JOOLD_ENABLED), padding
  ];
  assert.deepEqual(encodeGlobalForeach(OPTIONS, 27), Uint8Array.from(after));
  assert.throws(() => encodeGlobalForeach(OPTIONS, 256), /offset 256 is not a u8/);
});

Deno.test("decodeGlobalsPage() reads the globals of a GLOBAL_FOREACH answer", () => {
  // deno-fmt-ignore
  const attributes = [
    0x05, 0x00, 0x1b, 0x00, // nla_len 5, JOOLD_ENABLED
    0x01, 0x00, 0x00, 0x00, //   u8 1, padding
    0x08, 0x00, 0x1f, 0x00, // nla_len 8, JOOLD_MAX_PAYLOAD
    0xac, 0x05, 0x00, 0x00, //   u32 1452
  ];
  const page = decodeGlobalsPage(genericMessage({ attributes }));
  assert.deepEqual([...page.values.keys()], [27, 31]);
  assert.deepEqual(
    page.values.get(GlobalAttribute.JOOLD_MAX_PAYLOAD),
    Uint8Array.of(0xac, 5, 0, 0),
  );
  assert.equal(page.last, 31);
  assert.equal(page.more, false);
  const partial = decodeGlobalsPage(
    genericMessage({ flags: 8, attributes: attributes.slice(0, 8) }),
  );
  assert.deepEqual([partial.last, partial.more], [27, true]); // flags M: ask again after 27
  assert.deepEqual(decodeGlobalsPage(genericMessage({})), {
    values: new Map(),
    last: 0,
    more: false,
  });
  assert.throws(
    () => decodeGlobalsPage(genericMessage({ attributes: [0x09, 0x00, 0x1f, 0x00] })),
    AttributeDecodeError,
  );
});

// Two short session entries as SESSION_FOREACH answers carry them (real
// ones hold four addresses and four numbers; the codec does not look inside).
// deno-fmt-ignore
const PAGE_ENTRIES = [
  0x0c, 0x00, 0x01, 0x80, // nla_len 12, JNLAL_ENTRY | NLA_F_NESTED
  0x05, 0x00, 0x05, 0x00, //   nla_len 5, PROTO
  0x01, 0x00, 0x00, 0x00, //     u8 1 (UDP), padding
  0x0c, 0x00, 0x01, 0x80, // nla_len 12, JNLAL_ENTRY | NLA_F_NESTED
  0x08, 0x00, 0x08, 0x00, //   nla_len 8, EXPIRATION
  0xe8, 0x03, 0x00, 0x00, //     u32 1000
];

Deno.test("encodeSessionForeach() asks for a protocol's sessions, or for those after one", () => {
  // deno-fmt-ignore
  const first = [
    ...requestPrefix(56, 0x19), // cmd 25 SESSION_FOREACH
    0x05, 0x00, 0x0b, 0x00, // nla_len 5, PROTO
    0x01, 0x00, 0x00, 0x00, //   u8 1 (UDP), padding
  ];
  assert.deepEqual(encodeSessionForeach(OPTIONS, 1), Uint8Array.from(first));
  // deno-fmt-ignore
  const after = [
    ...requestPrefix(68, 0x19),
    0x05, 0x00, 0x0b, 0x00, // nla_len 5, PROTO
    0x01, 0x00, 0x00, 0x00, //   u8 1 (UDP), padding
    0x0c, 0x00, 0x08, 0x80, // nla_len 12, OFFSET | NLA_F_NESTED: the entry, retyped
    0x08, 0x00, 0x08, 0x00, //   nla_len 8, EXPIRATION
    0xe8, 0x03, 0x00, 0x00, //     u32 1000
  ];
  const last = Uint8Array.from(PAGE_ENTRIES.slice(12));
  assert.deepEqual(encodeSessionForeach(OPTIONS, 1, last), Uint8Array.from(after));
  assert.throws(
    () => encodeSessionForeach(OPTIONS, 1, Uint8Array.of(0x20, 0, 1, 0x80)),
    /the offset is not a whole attribute/,
  );
});

Deno.test("decodeSessionsPage() reads the entries of a SESSION_FOREACH answer", () => {
  const page = decodeSessionsPage(genericMessage({ flags: 8, attributes: PAGE_ENTRIES }));
  assert.deepEqual(page.entries, Uint8Array.from(PAGE_ENTRIES));
  assert.equal(page.count, 2);
  assert.deepEqual(page.last, Uint8Array.from(PAGE_ENTRIES.slice(12)));
  assert.equal(page.more, true); // flags M: ask again after the last entry
  const empty = decodeSessionsPage(genericMessage({}));
  assert.deepEqual([empty.count, empty.last, empty.more, empty.entries.byteLength], [
    0,
    null,
    false,
    0,
  ]);
  assert.throws(
    () => decodeSessionsPage(genericMessage({ attributes: [0x05, 0x00, 0x0b, 0x00, 1, 0, 0, 0] })),
    (error) =>
      error instanceof JoolDecodeError && /attribute 11, not a session entry/.test(error.message),
  );
  assert.throws(
    () => decodeSessionsPage(genericMessage({ attributes: [0x20, 0x00, 0x01, 0x80] })),
    AttributeDecodeError,
  );
});

Deno.test("JooldEncoder: the same bytes as encodeJooldAck/Add, from one buffer", () => {
  const encoder = new JooldEncoder({ familyId: 0x22, instance: "default" });
  const payloads = [
    new Uint8Array(1400).fill(0xab),
    Uint8Array.of(5, 0, 1, 0, 0xcd), // unaligned: padding after longer data must be zero
    new Uint8Array(0),
    new Uint8Array(65531).fill(0x5a),
  ];
  let sequence = 7;
  for (const payload of payloads) {
    sequence = sequence * 7919 % 0xffffffff;
    const add = encoder.add(sequence, payload);
    assert.deepEqual(add, encodeJooldAdd({ ...OPTIONS, sequence }, payload), `${payload.length}`);
    const ack = encoder.ack(sequence);
    assert.deepEqual(ack, encodeJooldAck({ ...OPTIONS, sequence }));
  }
  assert.equal(encoder.ack(1).buffer, encoder.ack(2).buffer, "one buffer, reused");
  assert.throws(() => encoder.add(1, new Uint8Array(65532)), /65532 bytes of sessions/);
});
