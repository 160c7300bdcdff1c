/**
 * A machine for the commands' tests: the one of joold(8)'s examples.
 *
 * @module
 */

import type { InterfaceAddressEntry, NetworkEnvironment } from "../config/environment.ts";

/**
 * eth0 (index 2) holds 192.0.2.1 and 2001:db8:ff08::4, lo (index 1)
 * 127.0.0.1; no other interface exists and only the service `joold-sync`
 * (6464) is known.
 */
export function fakeEnvironment(): NetworkEnvironment {
  const indexes = new Map([["lo", 1], ["eth0", 2]]);
  const addresses: InterfaceAddressEntry[] = [
    { name: "lo", family: 2, address: new Uint8Array([127, 0, 0, 1]) },
    { name: "eth0", family: 2, address: new Uint8Array([192, 0, 2, 1]) },
    {
      name: "eth0",
      family: 10,
      // 2001:db8:ff08::4
      address: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0xff, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]),
    },
  ];
  return {
    interfaceIndex: (name) => indexes.get(name) ?? 0,
    interfaceAddresses: () => addresses,
    resolveService: (name) => name === "joold-sync" ? 6464 : null,
  };
}
