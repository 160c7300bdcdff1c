/**
 * Typed socket calls. Every call is synchronous (so errno is readable) and
 * every socket is opened non-blocking, so nothing here ever waits: readiness
 * comes from {@link Reactor}.
 *
 * @module
 */

import {
  IP_PKTINFO,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_PKTINFO,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "./constants.ts";
import { Errno, SyscallError } from "./errors.ts";
import type { Libc } from "./libc.ts";
import { cInt, readCInt, SOCKADDR_STORAGE_SIZE } from "./sockaddr.ts";

/** What {@link Sockets.receive} read: the datagram's length and sender. */
export interface Received {
  /** Bytes copied into the buffer. */
  length: number;
  /** Bytes the datagram really had (larger than `length` if truncated). */
  fullLength: number;
  /** Length of the sender's sockaddr in the address buffer. */
  addressLength: number;
}

/** What {@link Sockets.receiveMessage} read: also the interface it arrived on. */
export interface ReceivedMessage extends Received {
  /** The arrival interface's index (IP_PKTINFO / IPV6_PKTINFO); 0 if not told. */
  interfaceIndex: number;
}

/**
 * struct msghdr (LP64): msg_name @0, msg_namelen @8, msg_iov @16,
 * msg_iovlen @24, msg_control @32, msg_controllen @40, msg_flags @48.
 */
const MSGHDR_BYTES = 56;
/** struct iovec (LP64): iov_base @0, iov_len @8. */
const IOVEC_BYTES = 16;
/** Room for one pktinfo message: cmsghdr (16) and in6_pktinfo (20), aligned. */
const CONTROL_BYTES = 64;
/** struct cmsghdr (LP64): cmsg_len @0 (size_t), cmsg_level @8, cmsg_type @12, data @16. */
const CMSG_HEADER_BYTES = 16;

/**
 * Socket system calls on an opened {@link Libc}. Failures throw a
 * {@link SyscallError} naming the operation; "would block" is a value.
 */
export class Sockets {
  readonly #libc: Libc;
  readonly #lengthCell = new Uint8Array(4);
  readonly #received: Received = { length: 0, fullLength: 0, addressLength: 0 };
  readonly #message: ReceivedMessage = {
    length: 0,
    fullLength: 0,
    addressLength: 0,
    interfaceIndex: 0,
  };
  readonly #msghdr = new Uint8Array(MSGHDR_BYTES);
  readonly #iovec = new Uint8Array(IOVEC_BYTES);
  readonly #control = new Uint8Array(CONTROL_BYTES);

  constructor(libc: Libc) {
    this.#libc = libc;
  }

  #fail(operation: string): never {
    const errno = this.#libc.errno();
    throw new SyscallError(operation, errno, this.#libc.strerror(errno));
  }

  /** socket(2), always non-blocking and close-on-exec. */
  open(domain: number, type: number, protocol: number, label: string): number {
    const fd = this.#libc.symbols.socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) this.#fail(`socket(${label})`);
    return fd;
  }

  /** bind(2). */
  bind(fd: number, sockaddr: Uint8Array, label: string): void {
    if (this.#libc.symbols.bind(fd, sockaddr, sockaddr.byteLength) !== 0) {
      this.#fail(`bind(${label})`);
    }
  }

  /** connect(2); on a datagram socket it sends nothing, it picks the route. */
  connect(fd: number, sockaddr: Uint8Array, label: string): void {
    if (this.#libc.symbols.connect(fd, sockaddr, sockaddr.byteLength) !== 0) {
      this.#fail(`connect(${label})`);
    }
  }

  /** setsockopt(2) with a struct value. */
  setOption(fd: number, level: number, name: number, value: Uint8Array, label: string): void {
    if (this.#libc.symbols.setsockopt(fd, level, name, value, value.byteLength) !== 0) {
      this.#fail(`setsockopt(${label})`);
    }
  }

  /** setsockopt(2) with an int value. */
  setIntOption(fd: number, level: number, name: number, value: number, label: string): void {
    this.setOption(fd, level, name, cInt(value), label);
  }

  /**
   * Asks for a receive buffer of `bytes`: SO_RCVBUFFORCE, which passes
   * net.core.rmem_max but needs CAP_NET_ADMIN, else SO_RCVBUF (capped by
   * rmem_max). Returns the size the kernel granted (it doubles what it is
   * asked, for its bookkeeping).
   */
  setReceiveBuffer(fd: number, bytes: number, label: string): number {
    try {
      this.setIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes, `SO_RCVBUFFORCE(${label})`);
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      this.setIntOption(fd, SOL_SOCKET, SO_RCVBUF, bytes, `SO_RCVBUF(${label})`);
    }
    return this.getIntOption(fd, SOL_SOCKET, SO_RCVBUF, `SO_RCVBUF(${label})`);
  }

  /** getsockopt(2) of an int option. */
  getIntOption(fd: number, level: number, name: number, label: string): number {
    const value = new Uint8Array(4);
    this.#lengthCell.set(cInt(4));
    if (this.#libc.symbols.getsockopt(fd, level, name, value, this.#lengthCell) !== 0) {
      this.#fail(`getsockopt(${label})`);
    }
    return readCInt(value);
  }

  /** getsockname(2): the socket's own address, as sockaddr bytes. */
  localAddress(fd: number, label: string): Uint8Array {
    const address = new Uint8Array(SOCKADDR_STORAGE_SIZE);
    this.#lengthCell.set(cInt(address.byteLength));
    if (this.#libc.symbols.getsockname(fd, address, this.#lengthCell) !== 0) {
      this.#fail(`getsockname(${label})`);
    }
    return address.subarray(0, readCInt(this.#lengthCell));
  }

  /**
   * sendto(2) without waiting. Returns the bytes sent, or `null` if the
   * socket's buffer is full (EAGAIN). `destination` null sends to the
   * connected peer (or, on netlink, to the kernel).
   */
  send(fd: number, data: Uint8Array, destination: Uint8Array | null, label: string): number | null {
    const sent = this.#libc.symbols.sendto(
      fd,
      data,
      BigInt(data.byteLength),
      MSG_DONTWAIT | MSG_NOSIGNAL,
      destination,
      destination === null ? 0 : destination.byteLength,
    );
    if (sent < 0n) {
      if (this.#libc.errno() === Errno.EAGAIN) return null;
      this.#fail(`sendto(${label})`);
    }
    return Number(sent);
  }

  /**
   * recvfrom(2) without waiting. Returns `null` when nothing is queued
   * (EAGAIN). The returned object is reused by the next call.
   *
   * `flags` may add MSG_TRUNC so that `fullLength` reports oversized
   * datagrams.
   */
  receive(
    fd: number,
    buffer: Uint8Array,
    address: Uint8Array | null,
    flags: number,
    label: string,
  ): Received | null {
    this.#lengthCell.set(cInt(address === null ? 0 : address.byteLength));
    const got = this.#libc.symbols.recvfrom(
      fd,
      buffer,
      BigInt(buffer.byteLength),
      MSG_DONTWAIT | flags,
      address,
      address === null ? null : this.#lengthCell,
    );
    if (got < 0n) {
      if (this.#libc.errno() === Errno.EAGAIN) return null;
      this.#fail(`recvfrom(${label})`);
    }
    const fullLength = Number(got);
    this.#received.fullLength = fullLength;
    this.#received.length = Math.min(fullLength, buffer.byteLength);
    this.#received.addressLength = address === null ? 0 : readCInt(this.#lengthCell);
    return this.#received;
  }

  /**
   * recvmsg(2) without waiting, with the interface the datagram arrived on
   * (the socket must have IP_PKTINFO or IPV6_RECVPKTINFO on). Returns `null`
   * when nothing is queued (EAGAIN). The returned object is reused by the
   * next call. `flags` as for {@link receive}.
   */
  receiveMessage(
    fd: number,
    buffer: Uint8Array,
    address: Uint8Array,
    flags: number,
    label: string,
  ): ReceivedMessage | null {
    const iovec = new DataView(this.#iovec.buffer);
    iovec.setBigUint64(0, pointerOf(buffer), true);
    iovec.setBigUint64(8, BigInt(buffer.byteLength), true);
    const header = new DataView(this.#msghdr.buffer);
    this.#msghdr.fill(0);
    header.setBigUint64(0, pointerOf(address), true);
    header.setUint32(8, address.byteLength, true);
    header.setBigUint64(16, pointerOf(this.#iovec), true);
    header.setBigUint64(24, 1n, true);
    header.setBigUint64(32, pointerOf(this.#control), true);
    header.setBigUint64(40, BigInt(CONTROL_BYTES), true);
    const got = this.#libc.symbols.recvmsg(fd, this.#msghdr, MSG_DONTWAIT | flags);
    if (got < 0n) {
      if (this.#libc.errno() === Errno.EAGAIN) return null;
      this.#fail(`recvmsg(${label})`);
    }
    const fullLength = Number(got);
    const message = this.#message;
    message.fullLength = fullLength;
    message.length = Math.min(fullLength, buffer.byteLength);
    message.addressLength = header.getUint32(8, true);
    message.interfaceIndex = arrivalInterface(
      this.#control,
      Number(header.getBigUint64(40, true)),
    );
    return message;
  }

  /** listen(2). */
  listen(fd: number, backlog: number, label: string): void {
    if (this.#libc.symbols.listen(fd, backlog) !== 0) this.#fail(`listen(${label})`);
  }

  /**
   * accept4(2) without waiting: a new connection's descriptor (non-blocking,
   * close-on-exec), or `null` when none is pending (EAGAIN). With `peer`
   * (sockaddr_storage bytes), the client's address is written there.
   */
  accept(fd: number, label: string, peer: Uint8Array | null = null): number | null {
    if (peer !== null) this.#lengthCell.set(cInt(peer.byteLength));
    const connection = this.#libc.symbols.accept4(
      fd,
      peer,
      peer === null ? null : this.#lengthCell,
      SOCK_NONBLOCK | SOCK_CLOEXEC,
    );
    if (connection < 0) {
      const errno = this.#libc.errno();
      // A connection reset before we took it is gone; there may be others.
      if (errno === Errno.EAGAIN || errno === Errno.ECONNABORTED) return null;
      this.#fail(`accept4(${label})`);
    }
    return connection;
  }

  /** close(2). Errors are reported but the descriptor is gone either way. */
  close(fd: number, label: string): void {
    if (this.#libc.symbols.close(fd) !== 0) this.#fail(`close(${label})`);
  }
}

/** The address of `bytes` for C, as a pointer-sized integer. */
function pointerOf(bytes: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/** The interface index in the first pktinfo message of `control`; 0 if there is none. */
export function arrivalInterface(control: Uint8Array, length: number): number {
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  let at = 0;
  while (at + CMSG_HEADER_BYTES <= length) {
    const messageLength = Number(view.getBigUint64(at, true));
    if (messageLength < CMSG_HEADER_BYTES || at + messageLength > length) return 0;
    const level = view.getInt32(at + 8, true);
    const type = view.getInt32(at + 12, true);
    const data = at + CMSG_HEADER_BYTES;
    // in_pktinfo: ipi_ifindex @0; in6_pktinfo: ipi6_addr @0, ipi6_ifindex @16.
    if (level === IPPROTO_IP && type === IP_PKTINFO && messageLength >= CMSG_HEADER_BYTES + 12) {
      return view.getInt32(data, true);
    }
    if (
      level === IPPROTO_IPV6 && type === IPV6_PKTINFO && messageLength >= CMSG_HEADER_BYTES + 20
    ) {
      return view.getInt32(data + 16, true);
    }
    at += (messageLength + 7) & ~7;
  }
  return 0;
}
