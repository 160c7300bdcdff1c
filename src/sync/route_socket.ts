/**
 * An rtnetlink (NETLINK_ROUTE) socket subscribed to link and address
 * events, so that the daemon notices its sync interface going and coming
 * back. Non-blocking; the owner drains it when the reactor says it is
 * readable. The events are decoded by src/netlink/rtnetlink.ts.
 *
 * @module
 */

import { AF_NETLINK, NETLINK_ROUTE, SOCK_RAW } from "../../ffi/constants.ts";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import { sockaddrNl } from "../../ffi/sockaddr.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { decodeMessages } from "../netlink/message.ts";
import {
  decodeRouteEvent,
  type RouteEvent,
  RTMGRP_IPV4_IFADDR,
  RTMGRP_IPV6_IFADDR,
  RTMGRP_LINK,
} from "../netlink/rtnetlink.ts";

/** Link and address events are small; a page holds several. */
const ROUTE_RECEIVE_BUFFER = 16 * 1024;

/** What one read of the socket gave. */
export type RouteReading =
  | { kind: "events"; events: RouteEvent[] }
  /** The kernel dropped events (ENOBUFS): the state must be read afresh. */
  | { kind: "overrun" };

/** An AF_NETLINK / NETLINK_ROUTE socket on the link and address groups. */
export class RouteEventSocket {
  readonly fd: number;
  readonly #sockets: Sockets;
  readonly #buffer = new Uint8Array(ROUTE_RECEIVE_BUFFER);
  #closed = false;

  private constructor(sockets: Sockets, fd: number) {
    this.#sockets = sockets;
    this.fd = fd;
  }

  /** Opens the socket and subscribes to link, IPv4 and IPv6 address events. */
  static open(sockets: Sockets): RouteEventSocket {
    const fd = sockets.open(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, "AF_NETLINK, NETLINK_ROUTE");
    const socket = new RouteEventSocket(sockets, fd);
    try {
      const groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
      sockets.bind(fd, sockaddrNl(0, groups), "AF_NETLINK, NETLINK_ROUTE link and address groups");
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /**
   * Reads one datagram of events if one is queued, without waiting; null if
   * none is. Messages that are not link or address events are left out.
   * Throws MessageDecodeError or RouteEventDecodeError on a malformed one.
   */
  receive(): RouteReading | null {
    let got;
    try {
      got = this.#sockets.receive(this.fd, this.#buffer, null, 0, "rtnetlink");
    } catch (error) {
      if (error instanceof SyscallError && error.errno === Errno.ENOBUFS) {
        return { kind: "overrun" };
      }
      throw error;
    }
    if (got === null) return null;
    // A datagram larger than the buffer was cut: its events are unknown.
    if (got.fullLength > got.length) return { kind: "overrun" };
    const events: RouteEvent[] = [];
    for (const message of decodeMessages(this.#buffer.subarray(0, got.length))) {
      const event = decodeRouteEvent(message);
      if (event !== null) events.push(event);
    }
    return { kind: "events", events };
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sockets.close(this.fd, "rtnetlink");
  }
}
