/**
 * The `"unicast peers"` key of a netsocket file: the addresses every batch
 * is sent to instead of the multicast group, each optionally with a port:
 * `"192.0.2.2"`, `"192.0.2.2:6464"`, `"2001:db8::2"`, `"[2001:db8::2]:6464"`.
 * Numeric addresses only (a name would make the daemon's start depend on
 * DNS); all of the group's family; no multicast address; no duplicates.
 *
 * @module
 */

import { parsePort } from "../net/port.ts";
import { formatIp, isMulticast, parseIp } from "../net/ip.ts";
import { ConfigError } from "./errors.ts";
import { type JsonMember, jsonTypeName } from "./json_file.ts";

/** Peers a list may name (a full mesh of this many nodes is plenty). */
export const MAX_UNICAST_PEERS = 64;

/** One peer of the list. */
export interface UnicastPeer {
  /** As written in the file. */
  text: string;
  /** 4 or 16 bytes. */
  address: Uint8Array;
  /** Its sync port: the one written, else the netsocket's "multicast port". */
  port: number;
}

/**
 * Checks the `"unicast peers"` member.
 *
 * @param family The group's family: every peer must be of it.
 * @param defaultPort The netsocket's port, for peers written without one.
 * @throws {ConfigError} naming the file, the key and the peer.
 */
export function parseUnicastPeers(
  member: JsonMember,
  family: "ipv4" | "ipv6",
  defaultPort: number,
  file: string,
): UnicastPeer[] {
  const fail = (problem: string): never => {
    throw new ConfigError(file, member.key, problem);
  };
  const value = member.value;
  if (!Array.isArray(value)) {
    return fail(`must be a list of addresses, got ${jsonTypeName(value)}`);
  }
  if (value.length === 0) return fail("must name at least one peer (or leave the key out)");
  if (value.length > MAX_UNICAST_PEERS) {
    return fail(`names ${value.length} peers, at most ${MAX_UNICAST_PEERS}`);
  }
  const peers: UnicastPeer[] = [];
  for (const entry of value) {
    if (typeof entry !== "string") {
      return fail(`each peer must be a string, got ${jsonTypeName(entry)}`);
    }
    const quoted = JSON.stringify(entry);
    const split = splitHostPort(entry);
    if (split === null) {
      return fail(
        `${quoted} is not an address, address:port or [IPv6 address]:port ` +
          `(numeric addresses only)`,
      );
    }
    const address = parseIp(split.host);
    if (address === null) {
      return fail(`${quoted} is not a numeric IPv4 or IPv6 address (names are not resolved)`);
    }
    const peerFamily = address.length === 4 ? "ipv4" : "ipv6";
    if (peerFamily !== family) {
      return fail(
        `${quoted} is ${peerFamily === "ipv4" ? "IPv4" : "IPv6"}, but "multicast address" ` +
          `is ${family === "ipv4" ? "IPv4" : "IPv6"}; every peer must be of the same family`,
      );
    }
    if (isMulticast(address) || address.every((byte) => byte === 0)) {
      return fail(`${quoted} must be one node's unicast address`);
    }
    let port = defaultPort;
    if (split.port !== null) {
      const parsed = parsePort(split.port, "number", JSON.stringify(split.port));
      if (typeof parsed !== "number") return fail(`${quoted}: the port ${parsed.problem}`);
      port = parsed;
    }
    if (peers.some((peer) => peer.port === port && formatIp(peer.address) === formatIp(address))) {
      return fail(`${quoted} is given twice`);
    }
    peers.push({ text: entry, address, port });
  }
  return peers;
}

/** `host`, `v4host:port` or `[v6host]:port`; null if the brackets or colons do not fit. */
function splitHostPort(text: string): { host: string; port: string | null } | null {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return null;
    const rest = text.slice(close + 1);
    if (rest === "") return { host: text.slice(1, close), port: null };
    if (!rest.startsWith(":")) return null;
    return { host: text.slice(1, close), port: rest.slice(1) };
  }
  const colons = text.split(":").length - 1;
  if (colons === 1) {
    const at = text.indexOf(":");
    return { host: text.slice(0, at), port: text.slice(at + 1) };
  }
  return { host: text, port: null };
}
