/**
 * Many datagrams to one destination in one `sendmmsg(2)` call. The daemon
 * does not use it; the benchmark's load generator does, because under an
 * emulated CPU one system call per packet costs more than the packet. It
 * lives beside its only user rather than in ffi/, which holds what the
 * daemon runs on; it still reaches libc only through ffi/'s {@link Libc}.
 *
 * @module
 */

import { MSG_DONTWAIT } from "../ffi/constants.ts";
import { Errno, SyscallError } from "../ffi/errors.ts";
import type { Libc } from "../ffi/libc.ts";
import { SOCKADDR_STORAGE_SIZE } from "../ffi/sockaddr.ts";
import { NATIVE_LITTLE_ENDIAN } from "../ffi/native_endian.ts";

/**
 * struct msghdr on LP64 Linux: msg_name@0, msg_namelen@8, msg_iov@16,
 * msg_iovlen@24, msg_control@32, msg_controllen@40, msg_flags@48 (56
 * bytes); struct mmsghdr adds msg_len@56 and pads to 64.
 */
const MMSGHDR_SIZE = 64;
/** struct iovec { void *iov_base; size_t iov_len; } */
const IOVEC_SIZE = 16;

/**
 * A buffer whose address stays put: V8 keeps typed arrays of up to 64 bytes
 * inside its heap, where the garbage collector moves them, so pointers
 * stored in C structs would go stale. Larger ones live outside it.
 */
function pinned(length: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(Math.max(length, SOCKADDR_STORAGE_SIZE)), 0, length);
}

function address(buffer: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

/**
 * A fixed set of datagram slots, each `slotSize` bytes, sent to one
 * destination. Fill a slot through {@link slot}, set its length with
 * {@link setLength}, then {@link send} the first N.
 */
export class DatagramBatch {
  /** How many datagrams one call can send. */
  readonly slots: number;
  /** Largest datagram a slot holds. */
  readonly slotSize: number;
  readonly #libc: Libc;
  // Kept as fields: the kernel reads through the pointers stored in #headers.
  readonly #data: Uint8Array;
  readonly #destination: Uint8Array;
  readonly #destinationLength: number;
  readonly #headers: Uint8Array;
  readonly #iovecs: Uint8Array;
  readonly #iovecView: DataView;

  constructor(libc: Libc, slots: number, slotSize: number, destination: Uint8Array) {
    if (!Number.isInteger(slots) || slots < 1 || !Number.isInteger(slotSize) || slotSize < 1) {
      throw new RangeError(`A datagram batch needs whole slots: got ${slots} x ${slotSize}`);
    }
    this.#libc = libc;
    this.slots = slots;
    this.slotSize = slotSize;
    this.#data = pinned(slots * slotSize);
    this.#destination = pinned(destination.byteLength);
    this.#destination.set(destination);
    this.#destinationLength = destination.byteLength;
    this.#headers = pinned(slots * MMSGHDR_SIZE);
    this.#iovecs = pinned(slots * IOVEC_SIZE);
    this.#iovecView = new DataView(this.#iovecs.buffer);
    const headers = new DataView(this.#headers.buffer);
    const dataAddress = address(this.#data);
    const iovecAddress = address(this.#iovecs);
    const destinationAddress = address(this.#destination);
    for (let i = 0; i < slots; i++) {
      const iovec = i * IOVEC_SIZE;
      this.#iovecView.setBigUint64(iovec, dataAddress + BigInt(i * slotSize), NATIVE_LITTLE_ENDIAN);
      this.#iovecView.setBigUint64(iovec + 8, BigInt(slotSize), NATIVE_LITTLE_ENDIAN);
      const header = i * MMSGHDR_SIZE;
      headers.setBigUint64(header, destinationAddress, NATIVE_LITTLE_ENDIAN);
      headers.setUint32(header + 8, this.#destinationLength, NATIVE_LITTLE_ENDIAN);
      headers.setBigUint64(header + 16, iovecAddress + BigInt(iovec), NATIVE_LITTLE_ENDIAN);
      headers.setBigUint64(header + 24, 1n, NATIVE_LITTLE_ENDIAN);
    }
  }

  /** The bytes of slot `index` (a view: write the datagram here). */
  slot(index: number): Uint8Array {
    const start = index * this.slotSize;
    return this.#data.subarray(start, start + this.slotSize);
  }

  /** Sets how many bytes of slot `index` are sent (default: the whole slot). */
  setLength(index: number, length: number): void {
    if (length < 0 || length > this.slotSize) {
      throw new RangeError(`A slot holds at most ${this.slotSize} bytes: got ${length}`);
    }
    this.#iovecView.setBigUint64(index * IOVEC_SIZE + 8, BigInt(length), NATIVE_LITTLE_ENDIAN);
  }

  /**
   * Sends slots 0..count-1 on `fd` without waiting. Returns how many were
   * sent (0 if the socket's buffer was full); throws SyscallError otherwise.
   */
  send(fd: number, count: number, label: string): number {
    if (count < 1 || count > this.slots) {
      throw new RangeError(`A batch of ${this.slots} slots cannot send ${count}`);
    }
    const sent = this.#libc.symbols.sendmmsg(fd, this.#headers, count, MSG_DONTWAIT);
    if (sent < 0) {
      const errno = this.#libc.errno();
      if (errno === Errno.EAGAIN) return 0;
      throw new SyscallError(`sendmmsg(${label})`, errno, this.#libc.strerror(errno));
    }
    return sent;
  }
}
