/**
 * The multicast group in memory, for unit tests: datagrams the test
 * delivers are received in order, and what is sent is kept. No sockets.
 *
 * @module
 */

import { AF_INET6 } from "../../ffi/constants.ts";
import type { IpSocketAddress } from "../../ffi/sockaddr.ts";
import type { PeerChannel } from "../../src/daemon/peer_channel.ts";
import type { PeerDatagram } from "../../src/sync/multicast_socket.ts";

/** What the channel's sends do. */
export type SendOutcome = "sent" | "buffer full" | Error;

/** A {@link PeerChannel} whose other end is the test. */
export class MemoryPeerChannel implements PeerChannel {
  /** Every datagram sent so far (copies), failed sends included. */
  readonly sent: Uint8Array[] = [];
  /** What the next sends do: "sent" (true), "buffer full" (false), or throw the error. */
  sendOutcome: SendOutcome = "sent";
  /** Called on each send before its outcome, e.g. to see what happened before it. */
  onSend: ((datagram: Uint8Array) => void) | null = null;
  readonly #queue: (PeerDatagram | Error)[] = [];

  /**
   * Queues a datagram from `from` (the same object for the same peer, as a
   * socket gives it); `fullLength` larger than `data` means it was cut.
   */
  deliver(data: Uint8Array, from: IpSocketAddress | null, fullLength = data.byteLength): void {
    this.#queue.push({ data: data.slice(), fullLength, from });
  }

  /** Makes the receive after the queued datagrams throw `error`. */
  failReceive(error: Error): void {
    this.#queue.push(error);
  }

  /** Datagrams delivered and not received yet. */
  get queued(): number {
    return this.#queue.length;
  }

  send(datagram: Uint8Array): boolean {
    this.sent.push(datagram.slice());
    this.onSend?.(datagram);
    if (this.sendOutcome instanceof Error) throw this.sendOutcome;
    return this.sendOutcome === "sent";
  }

  receive(): PeerDatagram | null {
    const next = this.#queue.shift();
    if (next === undefined) return null;
    if (next instanceof Error) throw next;
    return next;
  }
}

/** A peer's address, as the socket reports it: `[2001:db8::N]:6464`. */
export function peerAddress(n: number, port = 6464): IpSocketAddress {
  const address = new Uint8Array(16);
  address.set([0x20, 0x01, 0x0d, 0xb8]);
  address[15] = n;
  return { family: AF_INET6, address, port, scopeId: 0 };
}
