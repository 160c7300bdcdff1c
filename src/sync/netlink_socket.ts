/**
 * A Generic Netlink socket on the FFI layer: the only netlink code that
 * touches the OS, kept beside the daemon's other sockets so that
 * src/netlink/ holds pure codecs. Non-blocking; the owner drains it when
 * the reactor says it is readable.
 *
 * @module
 */

import {
  AF_NETLINK,
  MSG_TRUNC,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_EXT_ACK,
  NETLINK_GENERIC,
  SOCK_RAW,
  SOL_NETLINK,
} from "../../ffi/constants.ts";
import { SyscallError } from "../../ffi/errors.ts";
import { sockaddrNl } from "../../ffi/sockaddr.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import type { NetlinkTransport } from "../netlink/client.ts";
import { drain } from "../net/drain.ts";

/**
 * Largest datagram read at once. Jool's batches are a few KiB; the kernel
 * caps a netlink skb it builds with GENLMSG_DEFAULT_SIZE-ish sizes, but a
 * large ss-max-payload can exceed a page, so leave generous room.
 */
export const NETLINK_RECEIVE_BUFFER = 256 * 1024;

/** The kernel's address: port id 0. */
const KERNEL = sockaddrNl(0, 0);

/** A datagram was larger than the receive buffer and got cut. */
export class TruncatedDatagramError extends Error {
  constructor(length: number) {
    super(`Netlink datagram of ${length} bytes exceeds the ${NETLINK_RECEIVE_BUFFER}-byte buffer`);
    this.name = "TruncatedDatagramError";
  }
}

/** An AF_NETLINK / NETLINK_GENERIC socket. */
export class GenericNetlinkSocket implements NetlinkTransport {
  readonly fd: number;
  readonly #sockets: Sockets;
  readonly #buffer = new Uint8Array(NETLINK_RECEIVE_BUFFER);
  #closed = false;

  private constructor(sockets: Sockets, fd: number) {
    this.#sockets = sockets;
    this.fd = fd;
  }

  /**
   * Opens and binds the socket (the kernel picks the port id) and asks for
   * extended ACKs, so kernel errors come with their text.
   */
  static open(sockets: Sockets): GenericNetlinkSocket {
    const fd = sockets.open(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC, "AF_NETLINK, NETLINK_GENERIC");
    const socket = new GenericNetlinkSocket(sockets, fd);
    try {
      sockets.bind(fd, sockaddrNl(0, 0), "AF_NETLINK");
      try {
        sockets.setIntOption(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
      } catch {
        // Kernels before 4.12 lack extended ACKs; errors then carry no text.
      }
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /**
   * Sets the receive buffer, which bounds how many kernel batches can queue
   * while the daemon is busy. SO_RCVBUFFORCE (CAP_NET_ADMIN) ignores
   * net.core.rmem_max; without the capability fall back to SO_RCVBUF.
   * Returns the size the kernel reports.
   */
  setReceiveBuffer(bytes: number): number {
    return this.#sockets.setReceiveBuffer(this.fd, bytes, "netlink");
  }

  /** Joins a multicast group by id (from nlctrl). */
  joinGroup(groupId: number): void {
    this.#sockets.setIntOption(
      this.fd,
      SOL_NETLINK,
      NETLINK_ADD_MEMBERSHIP,
      groupId,
      `NETLINK_ADD_MEMBERSHIP ${groupId}`,
    );
  }

  /** Sends one datagram to the kernel. Throws SyscallError on failure. */
  send(datagram: Uint8Array): void {
    const sent = this.#sockets.send(this.fd, datagram, KERNEL, "netlink");
    if (sent === null) {
      // The kernel processes unicast netlink synchronously; EAGAIN only
      // arises if its receive queue is saturated.
      throw new SyscallError("sendto(netlink)", 11, "Resource temporarily unavailable");
    }
  }

  /**
   * Reads one datagram if one is queued, without waiting. The returned view
   * is only valid until the next call. ENOBUFS (the kernel dropped
   * multicast because our buffer was full) surfaces as a SyscallError.
   */
  receive(): Uint8Array | null {
    const got = this.#sockets.receive(this.fd, this.#buffer, null, MSG_TRUNC, "netlink");
    if (got === null) return null;
    if (got.fullLength > got.length) throw new TruncatedDatagramError(got.fullLength);
    return this.#buffer.subarray(0, got.length);
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sockets.close(this.fd, "netlink");
  }
}

/**
 * Reads what the kernel queued on `socket`, within the bound of one
 * wake-up: each datagram to `onDatagram`; ENOBUFS (the kernel dropped
 * multicast the buffer had no room for) to `onOverrun`.
 */
export function drainNetlink(
  socket: GenericNetlinkSocket,
  onDatagram: (datagram: Uint8Array) => void,
  onOverrun: () => void,
): void {
  drain(() => {
    let datagram: Uint8Array | null;
    try {
      datagram = socket.receive();
    } catch (error) {
      if (!(error instanceof SyscallError && error.code === "ENOBUFS")) throw error;
      onOverrun();
      return true;
    }
    if (datagram === null) return false;
    onDatagram(datagram);
    return true;
  });
}
