import assert from "node:assert/strict";
import { decodeMessages } from "./message.ts";
import { NATIVE_LITTLE_ENDIAN } from "../../ffi/native_endian.ts";
import { decodeRouteEvent, type RouteEvent, RouteEventDecodeError } from "./rtnetlink.ts";

// The byte literals below spell host-order fields little-endian.
assert.ok(NATIVE_LITTLE_ENDIAN, "these tests assume a little-endian host (x86_64, aarch64)");

Deno.test("decodeRouteEvent() reads link and address events", () => {
  const cases: { name: string; bytes: number[]; expected: RouteEvent | null }[] = [
    {
      name: "RTM_NEWLINK eth0, up",
      // deno-fmt-ignore
      bytes: [
        0x2c, 0x00, 0x00, 0x00, // nlmsg_len 44
        0x10, 0x00, 0x00, 0x00, // RTM_NEWLINK, flags 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // seq, pid
        0x00, 0x00, 0x01, 0x00, // ifi_family AF_UNSPEC, pad, ifi_type 1 (ether)
        0x07, 0x00, 0x00, 0x00, // ifi_index 7
        0x43, 0x10, 0x01, 0x00, // ifi_flags UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
        0x00, 0x00, 0x00, 0x00, // ifi_change
        0x09, 0x00, 0x03, 0x00, 0x65, 0x74, 0x68, 0x30, 0x00, 0x00, 0x00, 0x00, // IFLA_IFNAME "eth0\0"
      ],
      expected: { kind: "link", present: true, index: 7, name: "eth0", flags: 0x11043 },
    },
    {
      name: "RTM_DELLINK without a name",
      // deno-fmt-ignore
      bytes: [
        0x20, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, // len 32, RTM_DELLINK
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, // index 7
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // flags, change
      ],
      expected: { kind: "link", present: false, index: 7, name: null, flags: 0 },
    },
    {
      name: "RTM_NEWADDR 198.51.100.1/24: IFA_LOCAL wins over IFA_ADDRESS",
      // deno-fmt-ignore
      bytes: [
        0x28, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, // len 40, RTM_NEWADDR
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x18, 0x80, 0x00, // AF_INET, /24, IFA_F_PERMANENT, scope universe
        0x07, 0x00, 0x00, 0x00, // ifa_index 7
        0x08, 0x00, 0x01, 0x00, 198, 51, 100, 9, // IFA_ADDRESS (a peer's, on point-to-point)
        0x08, 0x00, 0x02, 0x00, 198, 51, 100, 1, // IFA_LOCAL
      ],
      expected: {
        kind: "address",
        present: true,
        index: 7,
        family: 2,
        address: new Uint8Array([198, 51, 100, 1]),
      },
    },
    {
      name: "RTM_DELADDR 2001:db8::1 (IFA_ADDRESS only)",
      // deno-fmt-ignore
      bytes: [
        0x2c, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, // len 44, RTM_DELADDR
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x0a, 0x40, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, // AF_INET6, /64, index 3
        0x14, 0x00, 0x01, 0x00, // IFA_ADDRESS, 16 bytes
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
      ],
      expected: {
        kind: "address",
        present: false,
        index: 3,
        family: 10,
        address: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
      },
    },
    {
      name: "RTM_NEWROUTE: not an event we read",
      // deno-fmt-ignore
      bytes: [
        0x1c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, // len 28, RTM_NEWROUTE
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x18, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // rtmsg
      ],
      expected: null,
    },
  ];
  for (const { name, bytes, expected } of cases) {
    const [message] = decodeMessages(new Uint8Array(bytes));
    assert.deepEqual(decodeRouteEvent(message), expected, name);
  }
});

Deno.test("decodeRouteEvent() refuses a short header or a broken attribute", () => {
  const cases: { name: string; bytes: number[]; detail: RegExp }[] = [
    {
      name: "ifinfomsg cut short",
      // deno-fmt-ignore
      bytes: [
        0x18, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, // 8 of 16 bytes
      ],
      detail: /ifinfomsg needs 16 bytes, got 8/,
    },
    {
      name: "address attribute longer than the message",
      // deno-fmt-ignore
      bytes: [
        0x1c, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x18, 0x80, 0x00, 0x07, 0x00, 0x00, 0x00,
        0x40, 0x00, 0x02, 0x00, // IFA_LOCAL claiming 64 bytes
      ],
      detail: /bad attribute at 8/,
    },
  ];
  for (const { name, bytes, detail } of cases) {
    const [message] = decodeMessages(new Uint8Array(bytes));
    assert.throws(() => decodeRouteEvent(message), RouteEventDecodeError, name);
    assert.throws(() => decodeRouteEvent(message), detail, name);
  }
});
