/**
 * What the configuration loader needs to know about the machine it runs on,
 * behind an interface so that tests can describe a machine of their own.
 *
 * @module
 */

import { ResolveError } from "../../ffi/errors.ts";
import { interfaceAddresses, interfaceIndex } from "../../ffi/interfaces.ts";
import type { Libc } from "../../ffi/libc.ts";
import { resolveUdp } from "../../ffi/resolve.ts";
import { sameAddress } from "../net/ip.ts";

/** One address held by a network interface. */
export interface InterfaceAddressEntry {
  /** Interface name, e.g. `eth0`. */
  name: string;
  /** AF_INET (2) or AF_INET6 (10). */
  family: 2 | 10;
  /** 4 or 16 address bytes, network order. */
  address: Uint8Array;
}

/** The network namespace the daemon runs in, as the loader sees it. */
export interface NetworkEnvironment {
  /** if_nametoindex(3): the index of the interface called `name`, 0 if there is none. */
  interfaceIndex(name: string): number;
  /** Every IPv4 and IPv6 address of every interface (getifaddrs(3)). */
  interfaceAddresses(): readonly InterfaceAddressEntry[];
  /** The UDP port of an /etc/services name (e.g. `domain` is 53), null if unknown. */
  resolveService(name: string): number | null;
}

/**
 * The real environment, through the C library.
 *
 * `resolveService` is only meant for names: callers read numeric ports
 * themselves (getaddrinfo would also accept `+53` or ` 53`).
 */
export function systemEnvironment(libc: Libc): NetworkEnvironment {
  return {
    interfaceIndex(name: string): number {
      // A NUL would cut the name short on the C side and find another interface.
      if (name.includes("\0")) return 0;
      return interfaceIndex(libc, name);
    },
    interfaceAddresses(): readonly InterfaceAddressEntry[] {
      return interfaceAddresses(libc);
    },
    resolveService(name: string): number | null {
      if (name === "" || name.includes("\0")) return null;
      let results;
      try {
        results = resolveUdp(libc, null, name, true);
      } catch (error) {
        if (error instanceof ResolveError) return null;
        throw error;
      }
      for (const { sockaddr } of results) {
        // sin_port and sin6_port both sit at offset 2, big-endian.
        if (sockaddr.length >= 4) return (sockaddr[2] << 8) | sockaddr[3];
      }
      return null;
    },
  };
}

/** The index of the interface holding `address` (4 or 16 bytes), or 0 if none does. */
export function interfaceHolding(
  env: Pick<NetworkEnvironment, "interfaceIndex" | "interfaceAddresses">,
  address: Uint8Array,
): number {
  const holder = env.interfaceAddresses().find((entry) => sameAddress(entry.address, address));
  return holder === undefined ? 0 : env.interfaceIndex(holder.name);
}
