/**
 * IPv4 and IPv6 addresses as text and as bytes (network order).
 *
 * Parsing is strict on purpose: configuration files name multicast groups and
 * interface addresses, and a lenient reading (octal `010`, short `1.2.3`, a
 * zone index `%eth0`) would quietly pick an address the user did not mean.
 *
 * @module
 */

/**
 * Parses a dotted-quad IPv4 address such as `192.0.2.1` into 4 bytes.
 *
 * Exactly four decimal parts from 0 to 255. Leading zeros (`010`) are
 * rejected because inet_aton(3) reads them as octal while inet_pton(3)
 * refuses them; the short forms (`127.1`) are rejected for the same reason.
 *
 * @returns The 4 address bytes, or null if `text` is not such an address.
 */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

/**
 * Parses one of the IPv6 text forms of RFC 4291 section 2.2 into 16 bytes:
 * eight groups of 1 to 4 hex digits (`2001:db8:0:0:0:0:0:1`), one `::`
 * standing for one or more zero groups (`2001:db8::1`, `::`), and a
 * dotted-quad IPv4 address in place of the last two groups
 * (`::ffff:192.0.2.1`). Hex digits may be upper or lower case.
 *
 * Zone indexes (`fe80::1%eth0`) and prefix lengths (`/64`) are not part of an
 * address and are rejected.
 *
 * @returns The 16 address bytes, or null if `text` is not such an address.
 */
export function parseIPv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0], halves.length === 1);
  if (head === null) return null;
  let groups: number[];
  if (halves.length === 1) {
    if (head.length !== 8) return null;
    groups = head;
  } else {
    const tail = parseGroups(halves[1], true);
    if (tail === null) return null;
    // "::" stands for at least one zero group.
    if (head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = groups[i] >> 8;
    bytes[2 * i + 1] = groups[i] & 0xff;
  }
  return bytes;
}

/**
 * Parses one side of a `::` (or a whole address without one) into 16-bit
 * groups. An embedded IPv4 address counts as two groups and may only come
 * last, and only where the address ends (`allowIPv4`).
 */
function parseGroups(text: string, allowIPv4: boolean): number[] | null {
  if (text === "") return [];
  const fields = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (/^[0-9a-fA-F]{1,4}$/.test(field)) {
      groups.push(parseInt(field, 16));
    } else if (allowIPv4 && i === fields.length - 1) {
      const ipv4 = parseIPv4(field);
      if (ipv4 === null) return null;
      groups.push((ipv4[0] << 8) | ipv4[1], (ipv4[2] << 8) | ipv4[3]);
    } else {
      return null;
    }
  }
  return groups;
}

/** Either family's address, as {@link parseIPv4} and {@link parseIPv6} read them. */
export function parseIp(text: string): Uint8Array | null {
  return parseIPv4(text) ?? parseIPv6(text);
}

/** The problem with text that {@link parseIp} refuses, quoted as `shown`. */
export function ipProblem(shown: string): string {
  return `must be an IPv4 or IPv6 address, got ${shown}`;
}

/**
 * Formats 4 address bytes as a dotted quad, e.g. `192.0.2.1`.
 *
 * @throws {RangeError} If `bytes` does not hold exactly 4 bytes.
 */
export function formatIPv4(bytes: Uint8Array): string {
  if (bytes.length !== 4) throw new RangeError(`An IPv4 address has 4 bytes: got ${bytes.length}`);
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Formats 4 or 16 address bytes: {@link formatIPv4} or {@link formatIPv6}. */
export function formatIp(bytes: Uint8Array): string {
  return bytes.byteLength === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
}

/**
 * Formats 16 address bytes in the canonical text form of RFC 5952: lower-case
 * hex without leading zeros, the longest run of two or more zero groups (the
 * first one on a tie) written as `::`, and IPv4-mapped addresses as
 * `::ffff:192.0.2.1`.
 *
 * @throws {RangeError} If `bytes` does not hold exactly 16 bytes.
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) {
    throw new RangeError(`An IPv6 address has 16 bytes: got ${bytes.length}`);
  }
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);

  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes.subarray(12))}`;
  }

  let bestStart = -1;
  let bestLength = 1; // RFC 5952 4.2.2: a lone zero group is not shortened.
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }

  const hex = (list: number[]) => list.map((group) => group.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/**
 * Formats 16 address bytes as glibc's inet_ntop(3) does, which is what
 * Jool's tools print: {@link formatIPv6}'s form, except that an address
 * whose first six groups are zero and whose seventh is not (the old
 * IPv4-compatible form) ends in dotted IPv4, `::192.0.2.1`.
 *
 * @throws {RangeError} If `bytes` does not hold exactly 16 bytes.
 */
export function formatIPv6AsInetNtop(bytes: Uint8Array): string {
  const text = formatIPv6(bytes);
  const ipv4Compatible = bytes.length === 16 && bytes.subarray(0, 12).every((byte) => byte === 0) &&
    (bytes[12] !== 0 || bytes[13] !== 0);
  return ipv4Compatible ? `::${formatIPv4(bytes.subarray(12))}` : text;
}

/**
 * Whether an address (4 or 16 bytes) is a multicast group address:
 * 224.0.0.0/4 for IPv4, ff00::/8 for IPv6.
 *
 * An IPv4-mapped IPv6 address (`::ffff:233.252.0.64`) is not multicast: it
 * is an IPv6 address, and IPv6 sockets cannot join IPv4 groups through it.
 *
 * @throws {RangeError} If `bytes` holds neither 4 nor 16 bytes.
 */
export function isMulticast(bytes: Uint8Array): boolean {
  if (bytes.length === 4) return (bytes[0] & 0xf0) === 0xe0;
  if (bytes.length === 16) return bytes[0] === 0xff;
  throw new RangeError(`An IP address has 4 or 16 bytes: got ${bytes.length}`);
}

/** Whether two addresses (4 or 16 bytes) are the same. */
export function sameAddress(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
