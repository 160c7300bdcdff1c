/**
 * Byte layouts of the socket structs the wrappers pass to libc. Pure code:
 * builders return fresh bytes, parsers read them; no system calls.
 *
 * @module
 */

import { AF_INET, AF_INET6, AF_NETLINK, AF_UNIX } from "./constants.ts";
import { NATIVE_LITTLE_ENDIAN } from "./native_endian.ts";

/** Size of `struct sockaddr_storage`, big enough for any address. */
export const SOCKADDR_STORAGE_SIZE = 128;

/**
 * struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad;
 *                      __u32 nl_pid; __u32 nl_groups; };  // 12 bytes
 */
export function sockaddrNl(portId = 0, groups = 0): Uint8Array {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, AF_NETLINK, NATIVE_LITTLE_ENDIAN);
  view.setUint32(4, portId, NATIVE_LITTLE_ENDIAN);
  view.setUint32(8, groups, NATIVE_LITTLE_ENDIAN);
  return bytes;
}

/**
 * struct sockaddr_in { sa_family_t sin_family; in_port_t sin_port (be);
 *                      struct in_addr sin_addr; char sin_zero[8]; };  // 16 bytes
 */
export function sockaddrIn(address: Uint8Array, port: number): Uint8Array {
  if (address.length !== 4) throw new RangeError("sockaddr_in needs a 4-byte address");
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, AF_INET, NATIVE_LITTLE_ENDIAN);
  view.setUint16(2, port, false);
  bytes.set(address, 4);
  return bytes;
}

/**
 * struct sockaddr_in6 { sa_family_t sin6_family; in_port_t sin6_port (be);
 *                       uint32_t sin6_flowinfo; struct in6_addr sin6_addr;
 *                       uint32_t sin6_scope_id; };  // 28 bytes
 */
export function sockaddrIn6(address: Uint8Array, port: number, scopeId = 0): Uint8Array {
  if (address.length !== 16) throw new RangeError("sockaddr_in6 needs a 16-byte address");
  const bytes = new Uint8Array(28);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, AF_INET6, NATIVE_LITTLE_ENDIAN);
  view.setUint16(2, port, false);
  bytes.set(address, 8);
  view.setUint32(24, scopeId, NATIVE_LITTLE_ENDIAN);
  return bytes;
}

/** Room for a path in `struct sockaddr_un` (sun_path[108]). */
const SUN_PATH_BYTES = 108;

/**
 * struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; } for a
 * path, or for an abstract name when `name` starts with `@` (written as a
 * leading NUL, as systemd spells `$NOTIFY_SOCKET`). A path gets its NUL;
 * an abstract name's length is its own. Throws a RangeError for an empty
 * name, one longer than sun_path, or one with a NUL.
 */
export function sockaddrUn(name: string): Uint8Array {
  const abstract = name.startsWith("@");
  const bytes = new TextEncoder().encode(abstract ? `\0${name.slice(1)}` : `${name}\0`);
  if (bytes.length <= 1 || bytes.length > SUN_PATH_BYTES || name.includes("\0")) {
    throw new RangeError(`a local socket name has 1 to ${SUN_PATH_BYTES - 1} bytes, got '${name}'`);
  }
  const address = new Uint8Array(2 + bytes.length);
  new DataView(address.buffer).setUint16(0, AF_UNIX, NATIVE_LITTLE_ENDIAN);
  address.set(bytes, 2);
  return address;
}

/** struct ip_mreq { struct in_addr imr_multiaddr; struct in_addr imr_interface; }; */
export function ipMreq(group: Uint8Array, localAddress: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(8);
  bytes.set(group, 0);
  bytes.set(localAddress, 4);
  return bytes;
}

/** struct ipv6_mreq { struct in6_addr ipv6mr_multiaddr; unsigned int ipv6mr_interface; }; */
export function ipv6Mreq(group: Uint8Array, interfaceIndex: number): Uint8Array {
  const bytes = new Uint8Array(20);
  bytes.set(group, 0);
  new DataView(bytes.buffer).setUint32(16, interfaceIndex, NATIVE_LITTLE_ENDIAN);
  return bytes;
}

/** A native-endian C int, as setsockopt takes it. */
export function cInt(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value, NATIVE_LITTLE_ENDIAN);
  return bytes;
}

/** Reads a native-endian C int. */
export function readCInt(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(
    offset,
    NATIVE_LITTLE_ENDIAN,
  );
}

/** An IP socket address taken apart: family, raw address bytes and port. */
export interface IpSocketAddress {
  family: typeof AF_INET | typeof AF_INET6;
  address: Uint8Array;
  port: number;
  scopeId: number;
}

/**
 * Reads a sockaddr_in or sockaddr_in6. Returns null for other families or
 * a length too short for the family.
 */
export function parseIpSockaddr(bytes: Uint8Array, length: number): IpSocketAddress | null {
  if (length < 2) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = view.getUint16(0, NATIVE_LITTLE_ENDIAN);
  if (family === AF_INET && length >= 16) {
    return {
      family,
      address: bytes.slice(4, 8),
      port: view.getUint16(2, false),
      scopeId: 0,
    };
  }
  if (family === AF_INET6 && length >= 28) {
    return {
      family,
      address: bytes.slice(8, 24),
      port: view.getUint16(2, false),
      scopeId: view.getUint32(24, NATIVE_LITTLE_ENDIAN),
    };
  }
  return null;
}
