/**
 * How peers are named in logs and stats.
 *
 * @module
 */

import type { IpSocketAddress } from "../../ffi/sockaddr.ts";
import { formatIPv4, formatIPv6 } from "../net/ip.ts";

/** `[2001:db8::1]:6464` or `192.0.2.1:6464`. */
export function describePeer(from: IpSocketAddress | null): string {
  if (from === null) return "an unknown peer";
  return from.address.byteLength === 4
    ? `${formatIPv4(from.address)}:${from.port}`
    : `[${formatIPv6(from.address)}]:${from.port}`;
}

/** A peer's host, without the port: `2001:db8::1` or `192.0.2.1`. */
export function describeHost(address: Uint8Array): string {
  return address.byteLength === 4 ? formatIPv4(address) : formatIPv6(address);
}
