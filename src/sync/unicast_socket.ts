/**
 * The UDP socket of `"unicast peers"`: bound to the family's any-address on
 * our port, no group joined, and not shared: without SO_REUSEADDR no other
 * socket (a local user's) can bind the port beside it and take its
 * datagrams, and a socket already there makes the bind fail. Every
 * datagram goes to each peer in turn. Used for the sync port and, with the
 * peers' ports moved by the same offset, for the resync control port. Each
 * datagram comes with the interface it arrived on, which {@link PeerRoutes}
 * checks: a peer's address spoofed from another interface (rp_filter off or
 * loose) is not the peer.
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  IP_PKTINFO,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_RECVPKTINFO,
  MSG_TRUNC,
  SOCK_DGRAM,
} from "../../ffi/constants.ts";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import {
  parseIpSockaddr,
  SOCKADDR_STORAGE_SIZE,
  sockaddrIn,
  sockaddrIn6,
} from "../../ffi/sockaddr.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { interfaceHolding, type NetworkEnvironment } from "../config/environment.ts";
import type { NetsocketConfig } from "../config/netsocket.ts";
import type { UnicastPeer } from "../config/unicast_peers.ts";
import { formatIp, sameAddress } from "../net/ip.ts";
import { RECEIVE_BUFFER_BYTES } from "../net/drain.ts";
import { MAX_DATAGRAM, type PeerDatagram } from "./multicast_socket.ts";

/** What {@link UnicastSocket.open} uses of a netsocket configuration. */
export type UnicastSocketOptions = Pick<NetsocketConfig, "family" | "port" | "inInterface">;

/** A UDP socket that sends to a list of peers and receives on our port. */
export class UnicastSocket {
  readonly fd: number;
  readonly #sockets: Sockets;
  readonly #destinations: Uint8Array[];
  readonly #buffer = new Uint8Array(MAX_DATAGRAM);
  readonly #address = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  readonly #received: PeerDatagram = { data: new Uint8Array(0), fullLength: 0, from: null };
  #closed = false;

  private constructor(sockets: Sockets, fd: number, destinations: Uint8Array[]) {
    this.#sockets = sockets;
    this.fd = fd;
    this.#destinations = destinations;
  }

  /**
   * Opens and binds our port; `portOffset` moves every peer's port (the
   * control port is each peer's sync port plus the same offset as ours).
   * Throws SyscallError; the socket is closed on failure.
   */
  static open(
    sockets: Sockets,
    options: UnicastSocketOptions,
    peers: readonly UnicastPeer[],
    portOffset = 0,
  ): UnicastSocket {
    const ipv4 = options.family === "ipv4";
    // Link-local peers need a scope: the in interface's, when it is named.
    const scope = options.inInterface?.kind === "name" ? options.inInterface.index : 0;
    const destinations = peers.map((peer) => {
      const port = peer.port + portOffset;
      if (ipv4) return sockaddrIn(peer.address, port);
      const linkLocal = peer.address[0] === 0xfe && (peer.address[1] & 0xc0) === 0x80;
      return sockaddrIn6(peer.address, port, linkLocal ? scope : 0);
    });
    const fd = sockets.open(
      ipv4 ? AF_INET : AF_INET6,
      SOCK_DGRAM,
      0,
      ipv4 ? "AF_INET" : "AF_INET6",
    );
    const socket = new UnicastSocket(sockets, fd, destinations);
    try {
      const any = ipv4
        ? sockaddrIn(new Uint8Array(4), options.port)
        : sockaddrIn6(new Uint8Array(16), options.port);
      if (ipv4) sockets.setIntOption(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
      else sockets.setIntOption(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
      const where = `${ipv4 ? "0.0.0.0" : "::"} port ${options.port}`;
      try {
        sockets.bind(fd, any, where);
      } catch (error) {
        if (!(error instanceof SyscallError && error.errno === Errno.EADDRINUSE)) throw error;
        throw new SyscallError(
          `bind(${where}: taken by another socket; unicast peers' ports are not shared ` +
            "(ss -ulpn shows who holds it))",
          error.errno,
          "Address already in use",
        );
      }
      sockets.setReceiveBuffer(fd, RECEIVE_BUFFER_BYTES, "unicast");
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /**
   * Sends one datagram to every peer. Returns false if a peer's send found
   * the buffer full; throws the first SyscallError after trying every peer
   * (one unreachable peer does not keep the others from their sessions).
   */
  send(payload: Uint8Array): boolean {
    let sentAll = true;
    let failure: SyscallError | null = null;
    for (const destination of this.#destinations) {
      try {
        if (this.#sockets.send(this.fd, payload, destination, "unicast") === null) sentAll = false;
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
    return sentAll;
  }

  /** Reads one queued datagram, or null if none is queued. */
  receive(): PeerDatagram | null {
    const got = this.#sockets.receiveMessage(
      this.fd,
      this.#buffer,
      this.#address,
      MSG_TRUNC,
      "unicast",
    );
    if (got === null) return null;
    this.#received.data = this.#buffer.subarray(0, got.length);
    this.#received.fullLength = got.fullLength;
    this.#received.from = parseIpSockaddr(this.#address, got.addressLength);
    this.#received.interfaceIndex = got.interfaceIndex;
    return this.#received;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sockets.close(this.fd, "unicast");
  }
}

/** A route is looked up again after a mismatch at most this often (an interface re-created). */
export const ROUTE_RECHECK_MS = 5_000;

/**
 * The interface each unicast peer's datagrams must arrive on: the named
 * `in interface`, else the one holding the address the kernel sends to the
 * peer from (its route), looked up at first use and again after a mismatch
 * (at most every {@link ROUTE_RECHECK_MS}).
 */
export class PeerRoutes {
  readonly #sockets: Sockets;
  readonly #options: Pick<NetsocketConfig, "family" | "inInterface">;
  readonly #peers: readonly UnicastPeer[];
  readonly #network: Pick<NetworkEnvironment, "interfaceIndex" | "interfaceAddresses">;
  /** Peer address key → the interface, and when it was looked up. */
  readonly #looked = new Map<string, { index: number; atMs: number }>();

  constructor(
    sockets: Sockets,
    options: Pick<NetsocketConfig, "family" | "inInterface">,
    peers: readonly UnicastPeer[],
    network: Pick<NetworkEnvironment, "interfaceIndex" | "interfaceAddresses">,
  ) {
    this.#sockets = sockets;
    this.#options = options;
    this.#peers = peers;
    this.#network = network;
  }

  /**
   * Why a datagram from `address` that arrived on `interfaceIndex` is not
   * the peer's, or null if it is. `address` must be a configured peer's.
   */
  problem(address: Uint8Array, interfaceIndex: number, nowMs: number): string | null {
    const key = address.join(".");
    let looked = this.#looked.get(key);
    if (
      looked === undefined ||
      (looked.index !== interfaceIndex && nowMs - looked.atMs >= ROUTE_RECHECK_MS)
    ) {
      looked = { index: this.#lookUp(address), atMs: nowMs };
      this.#looked.set(key, looked);
    }
    if (looked.index !== 0 && looked.index === interfaceIndex) return null;
    const arrived = interfaceIndex === 0 ? "an unknown interface" : `interface ${interfaceIndex}`;
    return looked.index === 0
      ? `arrived on ${arrived}; no interface reaches that peer`
      : `arrived on ${arrived}, but the peer is reached over interface ${looked.index} ` +
        "(a spoofed address?)";
  }

  #lookUp(address: Uint8Array): number {
    const inInterface = this.#options.inInterface;
    if (inInterface?.kind === "name") return inInterface.index;
    if (inInterface?.kind === "address") return this.#network.interfaceIndex(inInterface.name);
    const peer = this.#peers.find((candidate) => sameAddress(candidate.address, address));
    if (peer === undefined) return 0;
    let local: Uint8Array;
    try {
      local = sourceBytesTowards(this.#sockets, this.#options, peer);
    } catch (error) {
      if (error instanceof SyscallError) return 0;
      throw error;
    }
    return interfaceHolding(this.#network, local);
  }
}

/**
 * The local address the kernel would send to `peer` from (a UDP connect(),
 * which sends nothing), as text: whether the peer is reachable on the
 * family at all. Throws SyscallError (ENETUNREACH: no route).
 */
export function sourceAddressTowards(
  sockets: Sockets,
  options: Pick<NetsocketConfig, "family" | "inInterface">,
  peer: UnicastPeer,
): string {
  const local = sourceBytesTowards(sockets, options, peer);
  return local.byteLength === 0 ? "an unknown address" : formatIp(local);
}

/** {@link sourceAddressTowards} as address bytes (none if the kernel gave no IP address). */
export function sourceBytesTowards(
  sockets: Sockets,
  options: Pick<NetsocketConfig, "family" | "inInterface">,
  peer: UnicastPeer,
): Uint8Array {
  const ipv4 = options.family === "ipv4";
  const fd = sockets.open(ipv4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0, ipv4 ? "AF_INET" : "AF_INET6");
  try {
    const scope = options.inInterface?.kind === "name" ? options.inInterface.index : 0;
    const linkLocal = !ipv4 && peer.address[0] === 0xfe && (peer.address[1] & 0xc0) === 0x80;
    const destination = ipv4
      ? sockaddrIn(peer.address, peer.port)
      : sockaddrIn6(peer.address, peer.port, linkLocal ? scope : 0);
    sockets.connect(fd, destination, peer.text);
    const local = sockets.localAddress(fd, peer.text);
    const parsed = parseIpSockaddr(local, local.byteLength);
    return parsed === null ? new Uint8Array(0) : parsed.address;
  } finally {
    sockets.close(fd, peer.text);
  }
}
