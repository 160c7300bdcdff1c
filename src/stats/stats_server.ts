/**
 * The stats server: a UDP socket on the stats port that answers every
 * datagram with the counters. Bound to `::` with IPV6_V6ONLY off, so one
 * socket serves IPv4 and IPv6; on a host without IPv6, to 0.0.0.0.
 *
 * @module
 */

import { SOCK_DGRAM } from "../../ffi/constants.ts";
import { SyscallError } from "../../ffi/errors.ts";
import { SOCKADDR_STORAGE_SIZE } from "../../ffi/sockaddr.ts";
import { openDualStack } from "../net/dual_stack.ts";
import type { Sockets } from "../../ffi/sockets.ts";

/** Builds the answer to one request datagram. */
export type StatsResponder = (request: Uint8Array) => Uint8Array;

/** Largest request read; anything longer is cut (and still answered). */
const REQUEST_BUFFER = 1024;

/** A UDP stats endpoint. */
export class StatsServer {
  readonly fd: number;
  readonly #sockets: Sockets;
  readonly #respond: StatsResponder;
  readonly #request = new Uint8Array(REQUEST_BUFFER);
  readonly #peer = new Uint8Array(SOCKADDR_STORAGE_SIZE);
  #closed = false;

  private constructor(sockets: Sockets, fd: number, respond: StatsResponder) {
    this.#sockets = sockets;
    this.fd = fd;
    this.#respond = respond;
  }

  /** Opens the socket on `port` of every local address. */
  static open(sockets: Sockets, port: number, respond: StatsResponder): StatsServer {
    const { fd, address } = openDualStack(sockets, SOCK_DGRAM, port, "stats");
    const server = new StatsServer(sockets, fd, respond);
    try {
      sockets.bind(fd, address, `stats port ${port}`);
    } catch (error) {
      server.close();
      throw error;
    }
    return server;
  }

  /**
   * Answers every queued request. Returns how many were answered. A reply
   * that cannot be sent is dropped: the client asks again.
   */
  serve(): number {
    let answered = 0;
    for (;;) {
      const got = this.#sockets.receive(this.fd, this.#request, this.#peer, 0, "stats");
      if (got === null) return answered;
      const reply = this.#respond(this.#request.subarray(0, got.length));
      try {
        this.#sockets.send(this.fd, reply, this.#peer.subarray(0, got.addressLength), "stats");
        answered++;
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
      }
    }
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sockets.close(this.fd, "stats");
  }
}
