/**
 * The `in interface` and `out interface` keys of a netsocket file: what
 * names an interface depends on the group's family (see
 * {@link InterfaceChoice}), and the messages say what was meant instead.
 *
 * @module
 */

import { formatIPv4, parseIp, parseIPv4, parseIPv6, sameAddress } from "../net/ip.ts";
import { hasSpaceOrControl } from "../net/port.ts";
import type { NetworkEnvironment } from "./environment.ts";
import { ConfigError } from "./errors.ts";
import { type JsonMember, jsonTypeName } from "./json_file.ts";

/**
 * Where multicast traffic enters or leaves.
 *
 * - For an IPv4 group, an address the interface holds (ip_mreq.imr_interface
 *   and IP_MULTICAST_IF take an `in_addr`), and the interface that holds it.
 * - For an IPv6 group, the interface by name and index (ipv6_mreq and
 *   IPV6_MULTICAST_IF take an index).
 */
export type InterfaceChoice =
  | {
    kind: "address";
    /** The value as written in the file. */
    text: string;
    /** 4 address bytes. */
    address: Uint8Array;
    /** The interface holding the address, e.g. `eth0`. */
    name: string;
  }
  | {
    kind: "name";
    /** The interface name as written in the file. */
    text: string;
    /** if_nametoindex() of the name; never 0. */
    index: number;
  };

/**
 * Checks `in interface` or `out interface` for a group of `family`.
 *
 * @returns The interface, or null where the kernel chooses (`0.0.0.0`).
 * @throws {ConfigError} If the value does not name an interface of `env`.
 */
export function parseInterface(
  member: JsonMember,
  family: "ipv4" | "ipv6",
  file: string,
  env: NetworkEnvironment,
): InterfaceChoice | null {
  const value = member.value;
  if (typeof value !== "string") {
    throw new ConfigError(file, member.key, `must be a string, got ${jsonTypeName(value)}`);
  }
  if (value === "") {
    throw new ConfigError(
      file,
      member.key,
      "must not be empty; leave the key out to let the kernel choose",
    );
  }
  return family === "ipv4"
    ? ipv4Interface(value, member.key, file, env)
    : ipv6Interface(value, member.key, file, env);
}

/**
 * Linux's dev_valid_name(): at most 15 bytes, no `/`, `:` or white space,
 * not `.` or `..`. Checked before if_nametoindex() so that nothing odd
 * (such as a NUL) reaches the C library.
 */
function isValidInterfaceName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." &&
    new TextEncoder().encode(name).length <= 15 && !/[/:]/.test(name) && !hasSpaceOrControl(name);
}

/** `in interface` or `out interface` of an IPv4 group: an address some interface holds. */
function ipv4Interface(
  text: string,
  key: string,
  file: string,
  env: NetworkEnvironment,
): InterfaceChoice | null {
  const fail = (problem: string): never => {
    throw new ConfigError(file, key, problem);
  };
  const address = parseIPv4(text);
  if (address !== null) {
    if (address.every((byte) => byte === 0)) return null; // INADDR_ANY: the kernel chooses.
    const owner = env.interfaceAddresses().find((entry) =>
      entry.family === 2 && sameAddress(entry.address, address)
    );
    if (owner === undefined) {
      return fail(`no interface in this network namespace has the address ${text}`);
    }
    return { kind: "address", text, address, name: owner.name };
  }
  const why = "the multicast address is IPv4, so this must be an IPv4 address of the interface";
  if (parseIPv6(text) !== null) return fail(`${why}, got the IPv6 address ${JSON.stringify(text)}`);
  if (isValidInterfaceName(text) && env.interfaceIndex(text) !== 0) {
    const held = env.interfaceAddresses()
      .filter((entry) => entry.family === 2 && entry.name === text)
      .map((entry) => formatIPv4(entry.address));
    return fail(
      `${why}, not its name; ` +
        (held.length === 0 ? `${text} has no IPv4 address` : `${text} has ${held.join(", ")}`),
    );
  }
  return fail(`${why}, got ${JSON.stringify(text)}`);
}

/** `in interface` or `out interface` of an IPv6 group: the name of an interface. */
function ipv6Interface(
  text: string,
  key: string,
  file: string,
  env: NetworkEnvironment,
): InterfaceChoice {
  const fail = (problem: string): never => {
    throw new ConfigError(file, key, problem);
  };
  const address = parseIp(text);
  if (address !== null) {
    const owner = env.interfaceAddresses().find((entry) => sameAddress(entry.address, address));
    return fail(
      "the multicast address is IPv6, so this must be the name of an interface, not an address" +
        (owner === undefined ? "" : `; ${text} belongs to ${JSON.stringify(owner.name)}`),
    );
  }
  if (!isValidInterfaceName(text)) {
    return fail(`must be an interface name, got ${JSON.stringify(text)}`);
  }
  const index = env.interfaceIndex(text);
  if (index === 0) {
    return fail(`no interface in this network namespace is called ${JSON.stringify(text)}`);
  }
  return { kind: "name", text, index };
}
