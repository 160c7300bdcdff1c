/**
 * The host (address without the port) of a client's sockaddr, as text, for
 * the servers' per-host budgets and logs.
 *
 * @module
 */

import { parseIpSockaddr } from "../../ffi/sockaddr.ts";
import { formatIp } from "./ip.ts";

/**
 * The address of a sockaddr_in or sockaddr_in6 of `length` bytes as text
 * (IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d), or
 * `unknown` for anything else.
 */
export function sockaddrHost(sockaddr: Uint8Array, length: number): string {
  const from = parseIpSockaddr(sockaddr, length);
  return from === null ? "unknown" : formatIp(from.address);
}
