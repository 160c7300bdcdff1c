/**
 * The UDP socket of `"unicast peers"`: bound to the family's any-address on
 * our port (SO_REUSEADDR, as the multicast socket), no group joined; every
 * datagram goes to each peer in turn. Used for the sync port and, with the
 * peers' ports moved by the same offset, for the resync control port.
 *
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  MSG_TRUNC,
  SO_REUSEADDR,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "../../ffi/constants.ts";
import { SyscallError } from "../../ffi/errors.ts";
import {
  parseIpSockaddr,
  SOCKADDR_STORAGE_SIZE,
  sockaddrIn,
  sockaddrIn6,
} from "../../ffi/sockaddr.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import type { NetsocketConfig } from "../config/netsocket.ts";
import type { UnicastPeer } from "../config/unicast_peers.ts";
import { formatIp } from "../net/ip.ts";
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
      sockets.setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
      const any = ipv4
        ? sockaddrIn(new Uint8Array(4), options.port)
        : sockaddrIn6(new Uint8Array(16), options.port);
      sockets.bind(fd, any, `${ipv4 ? "0.0.0.0" : "::"} port ${options.port}`);
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
    const got = this.#sockets.receive(this.fd, this.#buffer, this.#address, MSG_TRUNC, "unicast");
    if (got === null) return null;
    this.#received.data = this.#buffer.subarray(0, got.length);
    this.#received.fullLength = got.fullLength;
    this.#received.from = parseIpSockaddr(this.#address, got.addressLength);
    return this.#received;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sockets.close(this.fd, "unicast");
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
    return parsed === null ? "an unknown address" : formatIp(parsed.address);
  } finally {
    sockets.close(fd, peer.text);
  }
}
