/**
 * A machine for unit tests: the one of joold(8)'s examples.
 *
 * @module
 */

import { ConfigError } from "../../src/config/errors.ts";
import type { InterfaceAddressEntry, NetworkEnvironment } from "../../src/config/environment.ts";
import {
  defaultModsocketConfig,
  type ModsocketResult,
  parseModsocketConfig,
} from "../../src/config/modsocket.ts";

/**
 * eth0 (index 2) holds 192.0.2.1 and 2001:db8:ff08::4, eth1 (index 3) only
 * the link-local fe80::1, lo (index 1) 127.0.0.1; no other interface
 * exists, and only the services `domain` (53) and `joold-sync` (6464) are
 * known.
 */
export function fakeEnvironment(): NetworkEnvironment {
  const indexes = new Map([["lo", 1], ["eth0", 2], ["eth1", 3]]);
  const addresses: InterfaceAddressEntry[] = [
    { name: "lo", family: 2, address: new Uint8Array([127, 0, 0, 1]) },
    { name: "eth0", family: 2, address: new Uint8Array([192, 0, 2, 1]) },
    {
      name: "eth0",
      family: 10,
      // 2001:db8:ff08::4
      address: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0xff, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]),
    },
    {
      name: "eth1",
      family: 10,
      // fe80::1
      address: new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    },
  ];
  const services = new Map([["domain", 53], ["joold-sync", 6464]]);
  return {
    interfaceIndex: (name) => indexes.get(name) ?? 0,
    interfaceAddresses: () => addresses,
    resolveService: (name) => services.get(name) ?? null,
  };
}

/**
 * A MODSOCKET loader (as `loadModsocketConfigOrDefault`) over a file whose
 * text is `text`, or that does not exist (`null`).
 */
export function fakeModsocketLoader(
  text: string | null,
): (file: string, defaulted: boolean) => Promise<ModsocketResult> {
  return (file, defaulted) =>
    Promise.resolve().then(() => {
      if (text !== null) return parseModsocketConfig(text, file);
      if (defaulted) return defaultModsocketConfig();
      throw new ConfigError(file, null, "cannot read the file: No such file or directory");
    });
}
