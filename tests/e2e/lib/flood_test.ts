import assert from "node:assert/strict";
import { ipv4Checksum, parseEndpoint4, udpOverIPv4 } from "./flood.ts";

Deno.test("flood: a forged IPv4/UDP packet, byte for byte", () => {
  const packet = udpOverIPv4(
    Uint8Array.of(198, 51, 100, 1),
    45678,
    Uint8Array.of(198, 51, 100, 2),
    45678,
    new TextEncoder().encode("json"),
  );
  assert.deepEqual(
    packet,
    Uint8Array.of(
      ...[0x45, 0x00, 0x00, 0x20], // version 4, header 20 bytes; total 32
      ...[0x00, 0x00, 0x40, 0x00], // id 0; don't fragment
      ...[0x40, 0x11, 0xe6, 0x62], // TTL 64, UDP, header checksum (worked by hand)
      ...[198, 51, 100, 1], // source: j1's address
      ...[198, 51, 100, 2], // destination: j2's
      ...[0xb2, 0x6e, 0xb2, 0x6e], // ports 45678 -> 45678
      ...[0x00, 0x0c, 0x00, 0x00], // UDP length 12, no checksum
      ...[0x6a, 0x73, 0x6f, 0x6e], // "json"
    ),
  );
  // A header with its checksum in place sums to 0xffff: its checksum is then 0.
  assert.equal(ipv4Checksum(packet.subarray(0, 20)), 0);
});

Deno.test("flood: endpoints", () => {
  assert.deepEqual(parseEndpoint4("198.51.100.1:45678"), {
    address: Uint8Array.of(198, 51, 100, 1),
    port: 45678,
  });
  for (const bad of ["198.51.100.1", "198.51.100.1:0", "[::1]:45678", "x:1"]) {
    assert.throws(() => parseEndpoint4(bad), RangeError, bad);
  }
});
