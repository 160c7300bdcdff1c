import assert from "node:assert/strict";
import { AF_INET, SOCK_DGRAM } from "../ffi/constants.ts";
import { Libc } from "../ffi/libc.ts";
import { parseIpSockaddr, sockaddrIn } from "../ffi/sockaddr.ts";
import { Sockets } from "../ffi/sockets.ts";
import { DatagramBatch } from "./datagram_batch.ts";

const LOOPBACK = Uint8Array.of(127, 0, 0, 1);

Deno.test("a datagram batch sends each slot, with its own length, in one call", () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const receiver = sockets.open(AF_INET, SOCK_DGRAM, 0, "receiver");
  const sender = sockets.open(AF_INET, SOCK_DGRAM, 0, "sender");
  try {
    sockets.bind(receiver, sockaddrIn(LOOPBACK, 0), "receiver");
    const address = parseIpSockaddr(sockets.localAddress(receiver, "receiver"), 16);
    assert.ok(address !== null);
    // A 16-byte destination and 4 slots of 8 bytes: each buffer alone would
    // sit inside V8's heap, where it could move under the kernel's pointers.
    const batch = new DatagramBatch(libc, 4, 8, sockaddrIn(LOOPBACK, address.port));
    for (let i = 0; i < 3; i++) {
      batch.slot(i).fill(0xa0 + i);
      batch.setLength(i, i + 1);
    }
    assert.equal(batch.send(sender, 3, "sender"), 3);
    const buffer = new Uint8Array(16);
    const got: number[][] = [];
    for (let r = sockets.receive(receiver, buffer, null, 0, "r"); r !== null;) {
      got.push([...buffer.subarray(0, r.length)]);
      r = sockets.receive(receiver, buffer, null, 0, "r");
    }
    assert.deepEqual(got, [[0xa0], [0xa1, 0xa1], [0xa2, 0xa2, 0xa2]]);
  } finally {
    sockets.close(receiver, "receiver");
    sockets.close(sender, "sender");
    libc.close();
  }
});

Deno.test("a datagram batch rejects bad sizes and reports failed calls", () => {
  const libc = Libc.open();
  try {
    assert.throws(() => new DatagramBatch(libc, 0, 8, sockaddrIn(LOOPBACK, 9)), RangeError);
    const batch = new DatagramBatch(libc, 2, 8, sockaddrIn(LOOPBACK, 9));
    assert.throws(() => batch.setLength(0, 9), RangeError);
    assert.throws(() => batch.send(-1, 3, "nothing"), RangeError);
    assert.throws(
      () => batch.send(-1, 1, "nothing"),
      /^SyscallError: sendmmsg\(nothing\) failed: EBADF \(Bad file descriptor\)$/,
    );
  } finally {
    libc.close();
  }
});
