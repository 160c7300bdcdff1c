/** The arrival interface in recvmsg's control buffer, from annotated bytes. */

import assert from "node:assert/strict";
import { arrivalInterface } from "./sockets.ts";

function le64(value: number): number[] {
  return [value, 0, 0, 0, 0, 0, 0, 0];
}

Deno.test("arrivalInterface: in_pktinfo, in6_pktinfo, other messages, and short buffers", () => {
  const ipv4 = [
    ...le64(28), // cmsg_len: header 16 + in_pktinfo 12
    ...[0, 0, 0, 0], // cmsg_level IPPROTO_IP
    ...[8, 0, 0, 0], // cmsg_type IP_PKTINFO
    ...[3, 0, 0, 0], // ipi_ifindex 3
    ...[198, 51, 100, 1], // ipi_spec_dst
    ...[198, 51, 100, 1], // ipi_addr
    ...[0, 0, 0, 0], // padding to 8
  ];
  const ipv6 = [
    ...le64(36), // cmsg_len: header 16 + in6_pktinfo 20
    ...[41, 0, 0, 0], // cmsg_level IPPROTO_IPV6
    ...[50, 0, 0, 0], // cmsg_type IPV6_PKTINFO
    ...new Array(16).fill(0), // ipi6_addr
    ...[7, 0, 0, 0], // ipi6_ifindex 7
  ];
  const other = [
    ...le64(20), // cmsg_len
    ...[1, 0, 0, 0], // SOL_SOCKET
    ...[29, 0, 0, 0], // SO_TIMESTAMP
    ...[0, 0, 0, 0, 0, 0, 0, 0], // data and padding
  ];
  const cases: [string, number[], number][] = [
    ["IPv4", ipv4, 3],
    ["IPv6", ipv6, 7],
    ["another message first", [...other, ...ipv4], 3],
    ["none", [], 0],
    ["cut short", ipv4.slice(0, 20), 0],
    ["a length past the end", [...le64(200), ...ipv4.slice(8)], 0],
  ];
  for (const [name, bytes, expected] of cases) {
    const control = Uint8Array.from(bytes);
    assert.equal(arrivalInterface(control, control.byteLength), expected, name);
  }
});
