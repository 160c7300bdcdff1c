/**
 * The rtnetlink (NETLINK_ROUTE) events the daemon listens to: links and
 * addresses appearing and going (linux/rtnetlink.h, linux/if_link.h,
 * linux/if_addr.h). Pure codecs: the socket is src/sync/route_socket.ts.
 *
 * @module
 */

import { AttributeCursor } from "./attribute_decoder.ts";
import type { Message } from "./message.ts";
import { NATIVE_LITTLE_ENDIAN, viewOf } from "../../ffi/native_endian.ts";

/** A link appeared or changed. */
export const RTM_NEWLINK = 16;
/** A link went away. */
export const RTM_DELLINK = 17;
/** An address was added. */
export const RTM_NEWADDR = 20;
/** An address was removed. */
export const RTM_DELADDR = 21;

/** Multicast groups (the legacy bit mask of sockaddr_nl.nl_groups). */
export const RTMGRP_LINK = 0x1;
/** IPv4 address events. */
export const RTMGRP_IPV4_IFADDR = 0x10;
/** IPv6 address events. */
export const RTMGRP_IPV6_IFADDR = 0x100;

/** ifinfomsg attribute: the interface's name (NUL-terminated). */
export const IFLA_IFNAME = 3;
/** ifaddrmsg attribute: the peer address (the local one on broadcast links). */
export const IFA_ADDRESS = 1;
/** ifaddrmsg attribute: the local address (IPv4). */
export const IFA_LOCAL = 2;

/** Interface flag: administratively up. */
export const IFF_UP = 0x1;

/** struct ifinfomsg: family u8, pad u8, type u16, index i32, flags u32, change u32. */
export const IFINFOMSG_SIZE = 16;
/** struct ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32. */
export const IFADDRMSG_SIZE = 8;

/** A link event (RTM_NEWLINK / RTM_DELLINK). */
export interface LinkEvent {
  kind: "link";
  /** False for RTM_DELLINK. */
  present: boolean;
  index: number;
  /** IFLA_IFNAME, or null if the message had none. */
  name: string | null;
  /** ifi_flags (IFF_UP, IFF_RUNNING, ...). */
  flags: number;
}

/** An address event (RTM_NEWADDR / RTM_DELADDR). */
export interface AddressEvent {
  kind: "address";
  /** False for RTM_DELADDR. */
  present: boolean;
  /** The interface holding it. */
  index: number;
  /** AF_INET (2) or AF_INET6 (10). */
  family: number;
  /** IFA_LOCAL if present, else IFA_ADDRESS; null if neither. */
  address: Uint8Array | null;
}

/** What one rtnetlink message says, or null if it is none of the four events. */
export type RouteEvent = LinkEvent | AddressEvent;

/** A message too short for its fixed header or with broken attributes. */
export class RouteEventDecodeError extends Error {
  constructor(detail: string) {
    super(`Malformed rtnetlink message: ${detail}`);
    this.name = "RouteEventDecodeError";
  }
}

const decoder = new TextDecoder();

/**
 * Decodes a link or address event; null for other message types.
 * Throws {@link RouteEventDecodeError} if the message does not fit its
 * header or attributes.
 */
export function decodeRouteEvent(message: Message): RouteEvent | null {
  const { type } = message.header;
  const data = message.data;
  if (type === RTM_NEWLINK || type === RTM_DELLINK) {
    if (data.byteLength < IFINFOMSG_SIZE) {
      throw new RouteEventDecodeError(`ifinfomsg needs 16 bytes, got ${data.byteLength}`);
    }
    const view = viewOf(data);
    let name: string | null = null;
    const cursor = new AttributeCursor(data, IFINFOMSG_SIZE);
    while (cursor.next()) {
      if (cursor.type === IFLA_IFNAME) {
        const payload = cursor.payload();
        const end = payload.indexOf(0);
        name = decoder.decode(end < 0 ? payload : payload.subarray(0, end));
      }
    }
    if (cursor.malformed) throw new RouteEventDecodeError(`bad attribute at ${cursor.offset}`);
    return {
      kind: "link",
      present: type === RTM_NEWLINK,
      index: view.getInt32(4, NATIVE_LITTLE_ENDIAN),
      name,
      flags: view.getUint32(8, NATIVE_LITTLE_ENDIAN),
    };
  }
  if (type === RTM_NEWADDR || type === RTM_DELADDR) {
    if (data.byteLength < IFADDRMSG_SIZE) {
      throw new RouteEventDecodeError(`ifaddrmsg needs 8 bytes, got ${data.byteLength}`);
    }
    const view = viewOf(data);
    let local: Uint8Array | null = null;
    let address: Uint8Array | null = null;
    const cursor = new AttributeCursor(data, IFADDRMSG_SIZE);
    while (cursor.next()) {
      if (cursor.type === IFA_LOCAL) local = cursor.payload().slice();
      else if (cursor.type === IFA_ADDRESS) address = cursor.payload().slice();
    }
    if (cursor.malformed) throw new RouteEventDecodeError(`bad attribute at ${cursor.offset}`);
    return {
      kind: "address",
      present: type === RTM_NEWADDR,
      index: view.getUint32(4, NATIVE_LITTLE_ENDIAN),
      family: data[0],
      address: local ?? address,
    };
  }
  return null;
}
