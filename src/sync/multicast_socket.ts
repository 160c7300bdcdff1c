/**
 * The UDP socket joined to the sync group, configured as the reference
 * joold does (bind group:port with SO_REUSEADDR, join on the in interface,
 * loopback off, TTL / hop limit, out interface) plus IP(V6)_MULTICAST_ALL
 * off, so that only our own group's datagrams arrive.
 *
 * One deliberate difference: with an in interface and no out interface,
 * the reference leaves the outgoing interface to the routing table (IPv4
 * then fails with ENETUNREACH on a box without a default route); we send
 * out of the in interface, where the peers evidently are.
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  IP_ADD_MEMBERSHIP,
  IP_MULTICAST_ALL,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_ADD_MEMBERSHIP,
  IPV6_MULTICAST_ALL,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  MSG_TRUNC,
  SO_REUSEADDR,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "../../ffi/constants.ts";
import {
  ipMreq,
  type IpSocketAddress,
  ipv6Mreq,
  parseIpSockaddr,
  SOCKADDR_STORAGE_SIZE,
  sockaddrIn,
  sockaddrIn6,
} from "../../ffi/sockaddr.ts";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import type { InterfaceChoice, NetsocketConfig } from "../config/netsocket.ts";
import { RECEIVE_BUFFER_BYTES } from "../net/drain.ts";

/**
 * Largest datagram accepted from a peer. The C daemon reads into 2048
 * bytes; peers that pack more sessions per datagram (larger
 * ss-max-payload) need more, and UDP allows 65507.
 */
export const MAX_DATAGRAM = 65535;

/** What one receive produced. Reused by the next call. */
export interface PeerDatagram {
  /** The payload (a view into the socket's buffer). */
  data: Uint8Array;
  /** Bytes the datagram really had; more than `data.length` if cut. */
  fullLength: number;
  /** Sender, or null if the kernel gave no usable address. */
  from: IpSocketAddress | null;
  /** The interface it arrived on, where the socket tells it (unicast); else absent or 0. */
  interfaceIndex?: number;
}

const ANY4 = new Uint8Array(4);

/**
 * What {@link MulticastSocket.open} uses of a netsocket configuration: the
 * group and its port, where to join and send, the TTL. A
 * {@link NetsocketConfig} is one, and so is a copy with another port (the
 * resync control port).
 */
export type MulticastSocketOptions = Pick<
  NetsocketConfig,
  "family" | "address" | "group" | "port" | "inInterface" | "outInterface" | "ttl"
>;

/** A UDP socket on the sync multicast group. */
export class MulticastSocket {
  readonly fd: number;
  readonly #sockets: Sockets;
  readonly #destination: Uint8Array;
  readonly #buffer = new Uint8Array(MAX_DATAGRAM);
  readonly #address = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  readonly #received: PeerDatagram = { data: new Uint8Array(0), fullLength: 0, from: null };
  /** The last sender's sockaddr bytes: the next datagram is likely from it too. */
  readonly #lastAddress = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  #lastAddressLength = -1;
  #closed = false;

  private constructor(sockets: Sockets, fd: number, destination: Uint8Array) {
    this.#sockets = sockets;
    this.fd = fd;
    this.#destination = destination;
  }

  /**
   * Opens, binds and joins. Throws SyscallError naming the failing option;
   * the socket is closed on failure.
   */
  static open(sockets: Sockets, options: MulticastSocketOptions): MulticastSocket {
    const ipv4 = options.family === "ipv4";
    const destination = ipv4
      ? sockaddrIn(options.group, options.port)
      : sockaddrIn6(options.group, options.port);
    const fd = sockets.open(
      ipv4 ? AF_INET : AF_INET6,
      SOCK_DGRAM,
      0,
      ipv4 ? "AF_INET" : "AF_INET6",
    );
    const socket = new MulticastSocket(sockets, fd, destination);
    try {
      // SO_REUSEADDR must precede bind() so a restarted daemon can rebind.
      sockets.setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
      sockets.bind(fd, destination, `${options.address} port ${options.port}`);
      sockets.setReceiveBuffer(fd, RECEIVE_BUFFER_BYTES, "multicast");
      if (ipv4) configureIPv4(sockets, fd, options);
      else configureIPv6(sockets, fd, options);
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /**
   * Sends one datagram to the group. Returns false if the socket buffer is
   * full (EAGAIN); throws SyscallError on other failures.
   */
  send(payload: Uint8Array): boolean {
    return this.#sockets.send(this.fd, payload, this.#destination, "multicast") !== null;
  }

  /**
   * Reads one queued datagram, or null if none is queued. `from` is the
   * same object as before while the sender stays the same (do not modify it).
   */
  receive(): PeerDatagram | null {
    const got = this.#sockets.receive(this.fd, this.#buffer, this.#address, MSG_TRUNC, "multicast");
    if (got === null) return null;
    this.#received.data = this.#buffer.subarray(0, got.length);
    this.#received.fullLength = got.fullLength;
    if (!this.#sameSender(got.addressLength)) {
      this.#received.from = parseIpSockaddr(this.#address, got.addressLength);
      this.#lastAddress.set(this.#address.subarray(0, got.addressLength));
      this.#lastAddressLength = got.addressLength;
    }
    return this.#received;
  }

  #sameSender(length: number): boolean {
    if (length !== this.#lastAddressLength) return false;
    for (let i = 0; i < length; i++) {
      if (this.#address[i] !== this.#lastAddress[i]) return false;
    }
    return true;
  }

  /**
   * Joins the group again and points sends at the out interface again,
   * after the sync interface went away and came back: the kernel dropped
   * the membership with the old device, and IP(V6)_MULTICAST_IF still
   * names the old index. `options` carry the interfaces as they are now
   * (IPv6: the new index). A membership that survived (EADDRINUSE: the
   * interface kept its index) counts as joined. Throws SyscallError.
   */
  rejoin(options: MulticastSocketOptions): void {
    const ipv4 = options.family === "ipv4";
    try {
      if (ipv4) joinIPv4(this.#sockets, this.fd, options);
      else joinIPv6(this.#sockets, this.fd, options);
    } catch (error) {
      if (!(error instanceof SyscallError && error.errno === Errno.EADDRINUSE)) throw error;
    }
    if (ipv4) sendOutIPv4(this.#sockets, this.fd, options);
    else sendOutIPv6(this.#sockets, this.fd, options);
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sockets.close(this.fd, "multicast");
  }
}

function configureIPv4(sockets: Sockets, fd: number, options: MulticastSocketOptions): void {
  joinIPv4(sockets, fd, options);
  sockets.setIntOption(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  sockets.setIntOption(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
  sockets.setIntOption(fd, IPPROTO_IP, IP_MULTICAST_TTL, options.ttl, "IP_MULTICAST_TTL");
  sendOutIPv4(sockets, fd, options);
}

function joinIPv4(sockets: Sockets, fd: number, options: MulticastSocketOptions): void {
  const inAddress = addressOf(options.inInterface) ?? ANY4;
  sockets.setOption(
    fd,
    IPPROTO_IP,
    IP_ADD_MEMBERSHIP,
    ipMreq(options.group, inAddress),
    "IP_ADD_MEMBERSHIP",
  );
}

/** IP_MULTICAST_IF by address: the kernel resolves it to an interface index now, once. */
function sendOutIPv4(sockets: Sockets, fd: number, options: MulticastSocketOptions): void {
  const outAddress = addressOf(options.outInterface ?? options.inInterface);
  if (outAddress !== null) {
    sockets.setOption(fd, IPPROTO_IP, IP_MULTICAST_IF, outAddress, "IP_MULTICAST_IF");
  }
}

function configureIPv6(sockets: Sockets, fd: number, options: MulticastSocketOptions): void {
  joinIPv6(sockets, fd, options);
  sockets.setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL");
  sockets.setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
  sockets.setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, options.ttl, "IPV6_MULTICAST_HOPS");
  sendOutIPv6(sockets, fd, options);
}

function joinIPv6(sockets: Sockets, fd: number, options: MulticastSocketOptions): void {
  const inIndex = indexOf(options.inInterface) ?? 0;
  sockets.setOption(
    fd,
    IPPROTO_IPV6,
    IPV6_ADD_MEMBERSHIP,
    ipv6Mreq(options.group, inIndex),
    "IPV6_ADD_MEMBERSHIP",
  );
}

function sendOutIPv6(sockets: Sockets, fd: number, options: MulticastSocketOptions): void {
  const outIndex = indexOf(options.outInterface ?? options.inInterface);
  if (outIndex !== null) {
    sockets.setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, outIndex, "IPV6_MULTICAST_IF");
  }
}

function addressOf(choice: InterfaceChoice | null): Uint8Array | null {
  return choice?.kind === "address" ? choice.address : null;
}

function indexOf(choice: InterfaceChoice | null): number | null {
  return choice?.kind === "name" ? choice.index : null;
}
