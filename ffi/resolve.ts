/**
 * getaddrinfo(3), for the two things the reference daemon resolves with it:
 * a numeric multicast address and a port given as number or service name.
 *
 * @module
 */

import { AI_NUMERICHOST, AI_PASSIVE, SOCK_DGRAM } from "./constants.ts";
import { ResolveError } from "./errors.ts";
import type { Libc } from "./libc.ts";

const encoder = new TextEncoder();

/** One getaddrinfo result: the family and a copy of its sockaddr. */
export interface ResolvedAddress {
  family: number;
  sockaddr: Uint8Array;
}

/**
 * struct addrinfo (LP64): ai_flags @0, ai_family @4, ai_socktype @8,
 * ai_protocol @12, ai_addrlen @16, ai_addr @24, ai_canonname @32,
 * ai_next @40; 48 bytes.
 *
 * Resolves `host` (numeric only unless `hostNames`, or null for a passive
 * wildcard) and `service` (a number or an /etc/services name) for UDP.
 */
export function resolveUdp(
  libc: Libc,
  host: string | null,
  service: string,
  passive = false,
  hostNames = false,
): ResolvedAddress[] {
  const hints = new Uint8Array(48);
  const view = new DataView(hints.buffer);
  const flags = (host === null || hostNames ? 0 : AI_NUMERICHOST) | (passive ? AI_PASSIVE : 0);
  view.setInt32(0, flags, true);
  view.setInt32(8, SOCK_DGRAM, true);
  const out = new BigUint64Array(1);
  const code = libc.symbols.getaddrinfo(
    host === null ? null : encoder.encode(host + "\0"),
    encoder.encode(service + "\0"),
    hints,
    out,
  );
  if (code !== 0) {
    const text = libc.symbols.gai_strerror(code);
    const description = text === null ? `error ${code}` : Deno.UnsafePointerView.getCString(text);
    const what = host === null ? `port '${service}'` : `'${host}' port '${service}'`;
    throw new ResolveError(what, code, description);
  }
  const results: ResolvedAddress[] = [];
  const first = Deno.UnsafePointer.create(out[0]);
  try {
    let node = first;
    while (node !== null) {
      const info = new Deno.UnsafePointerView(node);
      const length = info.getUint32(16);
      const address = info.getPointer(24);
      if (address !== null && length > 0) {
        results.push({
          family: info.getInt32(4),
          sockaddr: new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(address, length).slice(0)),
        });
      }
      node = info.getPointer(40);
    }
  } finally {
    if (first !== null) libc.symbols.freeaddrinfo(first);
  }
  return results;
}
