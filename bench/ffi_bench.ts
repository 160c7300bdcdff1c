/**
 * Micro-benchmark of what most of the daemon's time goes to: system calls
 * through Deno's FFI. One datagram of a relay's size sent to a loopback UDP
 * socket and read back: a sendto(2) and a recvfrom(2), as the daemon makes
 * them. Compare it with the codecs (codecs_bench.ts) and across V8 tiers:
 * `deno task bench` runs with the daemon's V8 flags, `deno bench
 * --allow-ffi bench/` with V8's defaults.
 */

import { AF_INET, SOCK_DGRAM } from "../ffi/constants.ts";
import { Libc } from "../ffi/libc.ts";
import { parseIpSockaddr, sockaddrIn } from "../ffi/sockaddr.ts";
import { Sockets } from "../ffi/sockets.ts";

const LOOPBACK = Uint8Array.of(127, 0, 0, 1);
const DATAGRAM_BYTES = 1400;

const libc = Libc.open();
const sockets = new Sockets(libc);
const socket = sockets.open(AF_INET, SOCK_DGRAM, 0, "bench socket");
sockets.bind(socket, sockaddrIn(LOOPBACK, 0), "bench socket");
const bound = parseIpSockaddr(sockets.localAddress(socket, "bench socket"), 16);
if (bound === null) throw new Error("Cannot benchmark: the loopback socket has no address");
const destination = sockaddrIn(LOOPBACK, bound.port);
const datagram = new Uint8Array(DATAGRAM_BYTES).fill(0x5a);
const buffer = new Uint8Array(2048);

Deno.bench("send a 1400-byte datagram over loopback and read it back (sendto + recvfrom)", () => {
  sockets.send(socket, datagram, destination, "bench socket");
  if (sockets.receive(socket, buffer, null, 0, "bench socket") === null) {
    throw new Error("The datagram sent to the loopback socket did not arrive");
  }
});
