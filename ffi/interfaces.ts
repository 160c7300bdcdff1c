/**
 * Network interface look-ups: name to index, and the addresses each
 * interface holds (getifaddrs).
 *
 * @module
 */

import { AF_INET, AF_INET6 } from "./constants.ts";
import { SyscallError } from "./errors.ts";
import type { Libc } from "./libc.ts";

/** One address held by an interface. */
export interface InterfaceAddress {
  /** Interface name, e.g. `eth0`. */
  name: string;
  family: typeof AF_INET | typeof AF_INET6;
  /** 4 or 16 raw address bytes. */
  address: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * if_nametoindex(3): the index of the interface called `name`, or 0 if no
 * interface has that name in this network namespace.
 */
export function interfaceIndex(libc: Libc, name: string): number {
  return libc.symbols.if_nametoindex(encoder.encode(name + "\0"));
}

/**
 * struct ifaddrs (LP64): ifa_next @0, ifa_name @8, ifa_flags @16,
 * ifa_addr @24, ifa_netmask @32, ...
 *
 * Returns every IPv4 and IPv6 address of every interface.
 */
export function interfaceAddresses(libc: Libc): InterfaceAddress[] {
  const head = new BigUint64Array(1);
  if (libc.symbols.getifaddrs(head) !== 0) {
    const errno = libc.errno();
    throw new SyscallError("getifaddrs", errno, libc.strerror(errno));
  }
  const found: InterfaceAddress[] = [];
  const first = Deno.UnsafePointer.create(head[0]);
  try {
    let node = first;
    while (node !== null) {
      const entry = new Deno.UnsafePointerView(node);
      const namePointer = entry.getPointer(8);
      const addressPointer = entry.getPointer(24);
      if (namePointer !== null && addressPointer !== null) {
        const sockaddr = new Deno.UnsafePointerView(addressPointer);
        const family = sockaddr.getUint16(0);
        const name = Deno.UnsafePointerView.getCString(namePointer);
        // getArrayBuffer() views C memory that freeifaddrs() releases: copy.
        if (family === AF_INET) {
          found.push({
            name,
            family,
            address: new Uint8Array(sockaddr.getArrayBuffer(4, 4).slice(0)),
          });
        } else if (family === AF_INET6) {
          found.push({
            name,
            family,
            address: new Uint8Array(sockaddr.getArrayBuffer(16, 8).slice(0)),
          });
        }
      }
      node = entry.getPointer(0);
    }
  } finally {
    if (first !== null) libc.symbols.freeifaddrs(first);
  }
  return found;
}
