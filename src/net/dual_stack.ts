/**
 * Sockets that serve IPv4 and IPv6 on one descriptor: bound to `::` with
 * IPV6_V6ONLY off, or, on a host without IPv6, to 0.0.0.0.
 *
 * @module
 */

import { AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY } from "../../ffi/constants.ts";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import { sockaddrIn, sockaddrIn6 } from "../../ffi/sockaddr.ts";
import type { Sockets } from "../../ffi/sockets.ts";

/** A socket open on every local address, not bound yet. */
export interface DualStackSocket {
  fd: number;
  /** The wildcard address and `port`, to bind to once every option is set. */
  address: Uint8Array;
}

/**
 * Opens a socket of `type` for `port` on every address. The caller sets
 * its own options, then binds to `address`; on failure it closes `fd`.
 *
 * @throws {SyscallError} If the socket cannot be opened or configured
 * (closed again first).
 */
export function openDualStack(
  sockets: Sockets,
  type: number,
  port: number,
  label: string,
): DualStackSocket {
  let fd: number;
  try {
    fd = sockets.open(AF_INET6, type, 0, `AF_INET6 ${label}`);
  } catch (error) {
    if (!(error instanceof SyscallError && error.errno === Errno.EAFNOSUPPORT)) throw error;
    fd = sockets.open(AF_INET, type, 0, `AF_INET ${label}`);
    return { fd, address: sockaddrIn(new Uint8Array(4), port) };
  }
  try {
    sockets.setIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY");
  } catch (error) {
    sockets.close(fd, label);
    throw error;
  }
  return { fd, address: sockaddrIn6(new Uint8Array(16), port) };
}
