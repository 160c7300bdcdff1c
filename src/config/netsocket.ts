/**
 * The network socket's configuration file (NETSOCKET in joold(8)): which
 * multicast group and port the sessions travel on, through which interfaces,
 * and with which TTL.
 *
 * @example
 * ```jsonc
 * {
 *   "multicast address": "233.252.0.64",
 *   "multicast port": "6464",
 *   "in interface": "192.0.2.1",  // IPv4 group: an address of the interface
 *   "out interface": "192.0.2.1",
 *   "ttl": 3
 * }
 * ```
 *
 * @module
 */

import { formatIPv4, formatIPv6, isMulticast, parseIp, parseIPv6 } from "../net/ip.ts";
import type { NetworkEnvironment } from "./environment.ts";
import { ConfigError } from "./errors.ts";
import { type InterfaceChoice, parseInterface } from "./netsocket_interface.ts";
import { parsePort } from "../net/port.ts";

export type { InterfaceChoice };
import { parseUnicastPeers, type UnicastPeer } from "./unicast_peers.ts";
import {
  type JsonMember,
  jsonTypeName,
  parseConfigObject,
  readConfigFile,
  selectKeys,
} from "./json_file.ts";

/** The keys of the file, in the order they are checked. */
export const NETSOCKET_KEYS: readonly string[] = [
  "multicast address",
  "multicast port",
  "in interface",
  "out interface",
  "ttl",
  "control port",
  "auth key file",
  "auth cluster",
  "unicast peers",
  "reliable delivery",
];

/** Bytes an `"auth cluster"` name may have (UTF-8). */
export const MAX_AUTH_CLUSTER_BYTES = 64;

/** TTL (IPv4) or hop limit (IPv6) when the file gives none, as in the C daemon. */
export const DEFAULT_TTL = 1;

/** A checked netsocket file. */
export interface NetsocketConfig {
  /** The path the configuration came from, as the user gave it. */
  file: string;
  /** The multicast group's family; it decides how the interfaces are given. */
  family: "ipv4" | "ipv6";
  /** The group in canonical text (RFC 5952 for IPv6), e.g. `ff08::db8:64:64`. */
  address: string;
  /** The group's 4 or 16 bytes. */
  group: Uint8Array;
  /** UDP port, 1 to 65535. */
  port: number;
  /** Where to join the group; null lets the kernel choose. */
  inInterface: InterfaceChoice | null;
  /** Where to send to the group; null lets the kernel choose. */
  outInterface: InterfaceChoice | null;
  /** Multicast TTL / hop limit, 0 to 255. */
  ttl: number;
  /**
   * UDP port, on the same group, of the resync protocol between our daemons
   * (the reference joold never binds it); null when disabled. Default: the
   * multicast port + 1.
   */
  controlPort: number | null;
  /**
   * `"auth key file"`: the key file's path (relative paths from the
   * netsocket file's directory), or null: sync in clear, as the C daemon.
   */
  authKeyFile: string | null;
  /**
   * `"auth cluster"`: a name bound into every sealed datagram's
   * authenticated data, so that clusters sharing a key by mistake do not
   * take each other's datagrams; null: none.
   */
  authCluster?: string | null;
  /**
   * `"unicast peers"`: send to these instead of the group, and receive on
   * our own port (any address of the family) without joining the group;
   * null: the group.
   */
  unicastPeers: UnicastPeer[] | null;
  /**
   * `"reliable delivery"`: our daemons number their sync datagrams and send
   * again what a peer missed, on the control port (docs/lossless.md).
   * Absent: on wherever there is a control port; false: off.
   */
  reliableDelivery?: boolean;
}

/** Whether lossless delivery runs with `config` (docs/lossless.md). */
export function reliableDeliveryOn(config: NetsocketConfig): boolean {
  return config.controlPort !== null && config.reliableDelivery !== false;
}

/** A checked configuration and the warnings (unknown keys) met on the way. */
export interface NetsocketResult {
  config: NetsocketConfig;
  /** One line each, ready to print. */
  warnings: string[];
}

/**
 * Checks the text of a netsocket file.
 *
 * `"in interface": "0.0.0.0"` (INADDR_ANY) for an IPv4 group means the same
 * as leaving the key out, and gives null.
 *
 * @param text The file's contents (JSON with comments and trailing commas).
 * @param file The path to name in messages, as the user gave it.
 * @param env The machine whose interfaces and services the names refer to.
 * @throws {ConfigError} At the first problem, e.g.
 * `net.json: "multicast address": is required`.
 */
export function parseNetsocketConfig(
  text: string,
  file: string,
  env: NetworkEnvironment,
): NetsocketResult {
  const { found, warnings } = selectKeys(parseConfigObject(text, file), file, NETSOCKET_KEYS);

  const addressMember = found.get("multicast address");
  if (addressMember === undefined) throw new ConfigError(file, "multicast address", "is required");
  const group = parseGroup(addressMember, file);
  const family = group.length === 4 ? "ipv4" : "ipv6";

  const portMember = found.get("multicast port");
  if (portMember === undefined) {
    throw new ConfigError(
      file,
      "multicast port",
      "is required (joold 4.1 used 6400 when it was missing)",
    );
  }
  const port = parsePortMember(portMember, file, env);

  const interfaceOf = (key: string): InterfaceChoice | null => {
    const member = found.get(key);
    return member === undefined ? null : parseInterface(member, family, file, env);
  };
  const inInterface = interfaceOf("in interface");
  const outInterface = interfaceOf("out interface");

  const ttlMember = found.get("ttl");
  const ttl = ttlMember === undefined ? DEFAULT_TTL : parseTtl(ttlMember, file);

  const controlMember = found.get("control port");
  let controlPort: number | null = port < 65535 ? port + 1 : null;
  if (controlMember !== undefined) {
    if (controlMember.value === true) {
      throw new ConfigError(file, controlMember.key, "must be a port, or false to disable resync");
    }
    controlPort = controlMember.value === false ? null : parsePortMember(controlMember, file, env);
    if (controlPort === port) {
      throw new ConfigError(file, controlMember.key, `must differ from "multicast port" (${port})`);
    }
  }

  const keyFileMember = found.get("auth key file");
  let authKeyFile: string | null = null;
  if (keyFileMember !== undefined) {
    const value = keyFileMember.value;
    if (typeof value !== "string" || value === "") {
      throw new ConfigError(
        file,
        keyFileMember.key,
        `must be the path of a key file (joold keygen makes one), got ${
          typeof value === "string" ? '""' : jsonTypeName(value)
        }`,
      );
    }
    authKeyFile = value.startsWith("/") || !file.includes("/")
      ? value
      : `${file.slice(0, file.lastIndexOf("/") + 1)}${value}`;
  }
  const clusterMember = found.get("auth cluster");
  let authCluster: string | null = null;
  if (clusterMember !== undefined) {
    const value = clusterMember.value;
    const bytes = typeof value === "string" ? new TextEncoder().encode(value).byteLength : 0;
    if (typeof value !== "string" || bytes === 0 || bytes > MAX_AUTH_CLUSTER_BYTES) {
      throw new ConfigError(
        file,
        clusterMember.key,
        `must be a name of 1 to ${MAX_AUTH_CLUSTER_BYTES} bytes, got ${
          typeof value === "string" ? `${bytes} bytes` : jsonTypeName(value)
        }`,
      );
    }
    if (authKeyFile === null) {
      throw new ConfigError(
        file,
        clusterMember.key,
        'needs "auth key file" (it names a sealed cluster)',
      );
    }
    authCluster = value;
  }
  const peersMember = found.get("unicast peers");
  const unicastPeers = peersMember === undefined
    ? null
    : parseUnicastPeers(peersMember, family, port, file);

  const reliableMember = found.get("reliable delivery");
  if (reliableMember !== undefined) {
    if (typeof reliableMember.value !== "boolean") {
      throw new ConfigError(
        file,
        reliableMember.key,
        `must be true or false, got ${jsonTypeName(reliableMember.value)}`,
      );
    }
    if (reliableMember.value && controlPort === null) {
      throw new ConfigError(
        file,
        reliableMember.key,
        'needs the control port (drop "control port": false)',
      );
    }
  }

  const address = family === "ipv4" ? formatIPv4(group) : formatIPv6(group);
  return {
    config: {
      file,
      family,
      address,
      group,
      port,
      inInterface,
      outInterface,
      ttl,
      controlPort,
      authKeyFile,
      ...(authCluster === null ? {} : { authCluster }),
      unicastPeers,
      ...(reliableMember?.value === false ? { reliableDelivery: false } : {}),
    },
    warnings,
  };
}

/**
 * Reads and checks a netsocket file.
 *
 * @throws {ConfigError} If the file cannot be read or is not a valid
 * configuration; see {@link parseNetsocketConfig}.
 */
export async function loadNetsocketConfig(
  file: string,
  env: NetworkEnvironment,
): Promise<NetsocketResult> {
  return parseNetsocketConfig(await readConfigFile(file), file, env);
}

/** The multicast group: a numeric IPv4 or IPv6 multicast address. */
function parseGroup(member: JsonMember, file: string): Uint8Array {
  const fail = (problem: string): never => {
    throw new ConfigError(file, member.key, problem);
  };
  const value = member.value;
  if (typeof value !== "string") return fail(`must be a string, got ${jsonTypeName(value)}`);
  const bytes = parseIp(value);
  if (bytes === null) {
    const percent = value.indexOf("%");
    if (percent > 0 && parseIPv6(value.slice(0, percent)) !== null) {
      return fail(
        `must not have a zone index, got ${JSON.stringify(value)}; ` +
          `name the interface in "in interface" and "out interface" instead`,
      );
    }
    const slash = value.indexOf("/");
    if (slash > 0 && parseIp(value.slice(0, slash))) {
      return fail(`must be one address, not a prefix, got ${JSON.stringify(value)}`);
    }
    return fail(`must be a numeric IPv4 or IPv6 address, got ${JSON.stringify(value)}`);
  }
  if (!isMulticast(bytes)) {
    const mapped = bytes.length === 16 && isIPv4Mapped(bytes) ? bytes.subarray(12) : null;
    if (mapped !== null && isMulticast(mapped)) {
      return fail(
        `must be a multicast address, got the IPv4-mapped ${JSON.stringify(value)}; ` +
          `write the IPv4 group as ${JSON.stringify(formatIPv4(mapped))}`,
      );
    }
    return fail(
      `must be a multicast address (224.0.0.0/4 or ff00::/8), got ${JSON.stringify(value)}`,
    );
  }
  return bytes;
}

/** ::ffff:0:0/96. */
function isIPv4Mapped(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff &&
    bytes[11] === 0xff;
}

/** A JSON integer, a numeric string or an /etc/services name. */
function parsePortMember(member: JsonMember, file: string, env: NetworkEnvironment): number {
  const value = member.value;
  if (typeof value !== "number" && typeof value !== "string") {
    throw new ConfigError(
      file,
      member.key,
      `must be a string or an integer, got ${jsonTypeName(value)}`,
    );
  }
  const port = typeof value === "number"
    ? parsePort(Number.isInteger(value) ? String(value) : member.raw, "number", member.raw)
    : parsePort(
      value,
      "number or resolved name",
      JSON.stringify(value),
      (name) => env.resolveService(name),
    );
  if (typeof port !== "number") throw new ConfigError(file, member.key, port.problem);
  return port;
}

/** An integer from 0 to 255. */
function parseTtl(member: JsonMember, file: string): number {
  const value = member.value;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > 255) {
      throw new ConfigError(
        file,
        member.key,
        `must be an integer from 0 to 255, got ${member.raw}`,
      );
    }
    return value;
  }
  const hint = typeof value === "string" && /^[0-9]+$/.test(value)
    ? `; write ${value} without quotes`
    : "";
  throw new ConfigError(file, member.key, `must be an integer, got ${jsonTypeName(value)}${hint}`);
}

/**
 * Sealed peers prove they are live to each other over the control port
 * (src/auth/sender_liveness.ts): with `"auth key file"` there must be one.
 * Checked where the daemon starts and by `joold check`, not by the parser,
 * which describes any configuration.
 *
 * @throws {ConfigError} naming the file and key.
 */
export function requireControlPortWhenSealed(config: NetsocketConfig): void {
  if ((config.authKeyFile ?? null) === null || config.controlPort !== null) return;
  throw new ConfigError(
    config.file,
    "auth key file",
    `needs the control port (peers prove over it that they are live); ${
      config.port === 65535
        ? `"multicast port" ${config.port} leaves none`
        : 'drop "control port": false'
    }`,
  );
}
