/**
 * `joold follow` (docs/session_tools.md): the command line and the line
 * formats; follow_run.ts has the sockets. By default it only listens: it
 * never ACKs a kernel batch (every 4.1 kernel waits for that ACK, which is
 * the daemon's to give) and never sends to the group, so a daemon next to
 * it sees exactly what it saw before. With `--ack` (for running alone) it
 * ACKs every batch of its instance, as Jool 4.1.14+'s `jool session follow`
 * does, so the kernel sends the next one at once.
 *
 * @module
 */

import {
  checkPortFlag,
  CommandLineError,
  instanceFlag,
  logLevelFlag,
  parseCommandLine,
} from "../command_line.ts";
import { DEFAULT_INSTANCE } from "../config/modsocket.ts";
import { PROXY_DEFAULT_PORT } from "./proxy.ts";
import { sameInstance } from "../jool/header.ts";
import { decodeSessionBatch } from "../jool/kernel_messages.ts";
import { TcpState } from "../jool/protocol.ts";
import {
  decodeSessions,
  type Session,
  type SessionEncoding,
  sessionEncodingFor,
  type TransportAddress,
} from "../jool/session.ts";
import { type Ipv6Prefix, withDst6 } from "../jool/session_convert.ts";
import { errorText } from "../error_text.ts";
import { formatIPv6AsInetNtop, parseIPv6 } from "../net/ip.ts";
import { decodeJoolHeader } from "../jool/header.ts";
import { encodeJooldAck } from "../jool/messages.ts";
import { NETLINK_GENERIC } from "../../ffi/constants.ts";
import { NetlinkClient, type NetlinkTransport } from "../netlink/client.ts";
import { decodeGenericMessage } from "../netlink/genetlink.ts";
import { DatagramFilter } from "../sync/datagram_filter.ts";
import { resolveJoolFamily } from "../sync/jool_family.ts";
import { isProblem } from "../problem.ts";
import type { Message } from "../netlink/message.ts";
import type { LogLevel } from "../log.ts";

/** The options `joold follow` takes. */
export const FOLLOW_OPTIONS = {
  instance: { type: "string", short: "i" },
  format: { type: "string" },
  ack: { type: "boolean" },
  json: { type: "boolean" },
  csv: { type: "boolean" },
  "no-headers": { type: "boolean" },
  source: { type: "string" },
  "net.mcast.port": { type: "string", short: "p" },
  "net.dev.in": { type: "string" },
  "log-level": { type: "string" },
  "no-ss-max-payload": { type: "boolean" },
  "no-ss-capacity": { type: "boolean" },
  "no-ss-flush-asap": { type: "boolean" },
  "no-ss-flush-deadline": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * The flags that keep `--ack` from changing a global, one per key of the
 * daemon's modsocket file that does the same: `--no-ss-capacity` is
 * `"ss capacity": false`.
 */
export const TUNING_OPT_OUT_FLAGS = [
  "no-ss-max-payload",
  "no-ss-capacity",
  "no-ss-flush-asap",
  "no-ss-flush-deadline",
] as const satisfies readonly (keyof typeof FOLLOW_OPTIONS)[];

/** The modsocket key a {@link TUNING_OPT_OUT_FLAGS} flag stands for: `ss capacity`. */
export function optOutKey(flag: typeof TUNING_OPT_OUT_FLAGS[number]): string {
  return flag.slice("no-".length).replaceAll("-", " ");
}

/** The flag that stands for modsocket key `key`: `--no-ss-capacity` for `ss capacity`. */
export function optOutFlag(key: string): string {
  return `--no-${key.replaceAll(" ", "-")}`;
}

/** How sessions are printed. */
export type FollowFormat = "text" | "json" | "csv" | "jool";
const FOLLOW_FORMATS: readonly FollowFormat[] = ["text", "json", "csv", "jool"];
/** Where sessions are read: the local kernel's batches, the peers' datagrams, or both. */
export type FollowSource = "kernel" | "group" | "both";

/** A checked `joold follow` command line. */
export interface FollowOptions {
  instance: string;
  format: FollowFormat;
  /** CSV: print the header line first. */
  headers: boolean;
  source: FollowSource;
  /** MCAST_ADDRESS, or null (then the source is the kernel only). */
  group: string | null;
  /** The group's port (number or service name). */
  port: string;
  /** Whether the port was given (`-p`), not {@link FOLLOW_DEFAULT_PORT}. */
  portGiven: boolean;
  /** ACK every kernel batch of the instance (running alone), as `jool session follow`. */
  ack: boolean;
  /**
   * With `ack`: the daemon's modsocket keys whose global is left alone
   * (`--no-ss-capacity`: `ss capacity`); the others are tuned as the daemon
   * tunes them while it runs.
   */
  untuned: string[];
  devIn: string | null;
  logLevel: LogLevel;
  help: boolean;
}

/** The group's port when `--net.mcast.port` is not given, as `jool session proxy`'s. */
export const FOLLOW_DEFAULT_PORT = PROXY_DEFAULT_PORT;

/**
 * Parses `joold follow`'s arguments (those after `follow`).
 *
 * @throws {CommandLineError} One line naming the flag.
 */
export function parseFollowArguments(
  args: readonly string[],
  instance: string = DEFAULT_INSTANCE,
): FollowOptions {
  const { values, positionals } = parseCommandLine(args, FOLLOW_OPTIONS);
  if (positionals.length > 1) {
    throw new CommandLineError(`too many arguments: ${positionals.slice(1).join(" ")}`);
  }
  if (values.json && values.csv) throw new CommandLineError("--json and --csv exclude each other");
  const formatText = values.format ?? (values.json ? "json" : values.csv ? "csv" : "text");
  if (!(FOLLOW_FORMATS as readonly string[]).includes(formatText)) {
    throw new CommandLineError(
      `--format: must be text, json, csv or jool, got '${formatText}'`,
    );
  }
  const format = formatText as FollowFormat;
  const alias = values.json ? "json" : values.csv ? "csv" : null;
  if (alias !== null && values.format !== undefined && values.format !== alias) {
    throw new CommandLineError(
      `--format=${values.format} and --${values.json ? "json" : "csv"} exclude each other`,
    );
  }
  if (values["no-headers"] && format !== "csv") {
    throw new CommandLineError("--no-headers only goes with --csv");
  }
  const group = positionals[0] ?? null;
  const sourceText = values.source ?? (group === null ? "kernel" : "both");
  if (sourceText !== "kernel" && sourceText !== "group" && sourceText !== "both") {
    throw new CommandLineError(`--source: must be kernel, group or both, got '${sourceText}'`);
  }
  if (sourceText !== "kernel" && group === null) {
    throw new CommandLineError(`--source=${sourceText} needs MCAST_ADDRESS (the sync group)`);
  }
  if (values.ack && sourceText === "group") {
    throw new CommandLineError("--ack acknowledges the kernel's batches: not with --source=group");
  }
  const optedOut = TUNING_OPT_OUT_FLAGS.filter((flag) => values[flag]);
  if (optedOut.length > 0 && !values.ack) {
    // Listening only, follow changes nothing: the daemon beside it owns the instance.
    throw new CommandLineError(`--${optedOut[0]} only goes with --ack`);
  }
  const port = values["net.mcast.port"] ?? FOLLOW_DEFAULT_PORT;
  checkPortFlag("net.mcast.port", port, "number or name");
  const level = logLevelFlag(values["log-level"] ?? "warning");
  return {
    instance: values.instance === undefined ? instance : instanceFlag(values.instance),
    format,
    headers: format === "csv" && !values["no-headers"],
    source: sourceText,
    group,
    port,
    portGiven: values["net.mcast.port"] !== undefined,
    ack: values.ack ?? false,
    untuned: optedOut.map(optOutKey),
    devIn: values["net.dev.in"] ?? null,
    logLevel: level,
    help: values.help ?? false,
  };
}

/** One session as it was synced, and where it was seen. */
export interface SyncedSession {
  session: Session;
  /** `kernel` (the local kernel's batch) or the peer as `address:port`. */
  origin: string;
  /** The encoding it travelled in. */
  encoding: SessionEncoding;
}

const STATE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(TcpState).map(([name, value]) => [value, name]),
);

/** A TCP session's state name; null for UDP and ICMP, which have none. */
function stateName(session: Session): string | null {
  return session.proto === "TCP" ? STATE_NAMES[session.state] ?? `${session.state}` : null;
}

/** Milliseconds as Jool's tools print a timeout: `H:MM:SS`, then `.mmm` if not whole. */
export function formatTimeout(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor(ms / 60_000) % 60;
  const seconds = Math.floor(ms / 1000) % 60;
  const millis = ms % 1000;
  const base = `${hours}:${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
  return millis === 0 ? base : `${base}.${String(millis).padStart(3, "0")}`;
}

/** The CSV header: `jool session display --csv`'s columns, then the source. */
export const FOLLOW_CSV_HEADER = "Protocol,IPv6 Remote Address,IPv6 Remote L4-ID," +
  "IPv6 Local Address,IPv6 Local L4-ID,IPv4 Local Address,IPv4 Local L4-ID," +
  "IPv4 Remote Address,IPv4 Remote L4-ID,Expires in,State,Source";

function pair(address: TransportAddress | undefined): string {
  return address === undefined ? "-" : `${address.address}#${address.port}`;
}

/**
 * One session as one line, without the newline:
 *
 * - text: `SOURCE PROTO SRC6#P DST6#P SRC4#P DST4#P STATE EXPIRES`
 *   (STATE `-` for UDP and ICMP; DST6 `-` when unknown: a raw36 batch
 *   with no local pool6 to rebuild it);
 * - json: one object (`dst6` and `state` null when absent);
 * - csv: {@link FOLLOW_CSV_HEADER}'s columns (State empty for UDP and ICMP,
 *   as `jool session display --csv` leaves it out);
 * - jool: `jool session follow`'s line (Jool 4.1.15's
 *   src/usr/argp/joold/modsocket.c): `PROTO,SRC6,PORT,SRC4,PORT,DST4,PORT,EXPIRES`,
 *   addresses as inet_ntop(3) writes them.
 */
export function formatSyncedSession(event: SyncedSession, format: FollowFormat): string {
  const { session, origin, encoding } = event;
  const state = stateName(session);
  switch (format) {
    case "text":
      return [
        origin,
        session.proto,
        pair(session.src6),
        pair(session.dst6),
        pair(session.src4),
        pair(session.dst4),
        state ?? "-",
        formatTimeout(session.expirationMs),
      ].join(" ");
    case "json":
      return JSON.stringify({
        source: origin,
        encoding,
        proto: session.proto,
        src6: session.src6,
        dst6: session.dst6 ?? null,
        src4: session.src4,
        dst4: session.dst4,
        state,
        timer: session.timer,
        expirationMs: session.expirationMs,
      });
    case "jool":
      return [
        session.proto,
        formatIPv6AsInetNtop(parseIPv6(session.src6.address)!),
        session.src6.port,
        session.src4.address,
        session.src4.port,
        session.dst4.address,
        session.dst4.port,
        formatTimeout(session.expirationMs),
      ].join(",");
    case "csv":
      return [
        session.proto,
        session.src6.address,
        session.src6.port,
        session.dst6?.address ?? "",
        session.dst6?.port ?? "",
        session.src4.address,
        session.src4.port,
        session.dst4.address,
        session.dst4.port,
        formatTimeout(session.expirationMs),
        state ?? "",
        origin.includes(",") ? JSON.stringify(origin) : origin,
      ].join(",");
  }
}

/** What a follower knows of the local Jool. */
export interface FollowContext {
  /** The instance followed. */
  instance: string;
  /** The local kernel's encoding (from /sys/module/jool/version), or null if unknown. */
  localEncoding: SessionEncoding | null;
  /** The instance's pool6, to show the dst6 of raw36 sessions; null if unknown. */
  pool6: Ipv6Prefix | null;
}

function events(
  sessions: Session[],
  origin: string,
  encoding: SessionEncoding,
  pool6: Ipv6Prefix | null,
): SyncedSession[] {
  return sessions.map((session) => ({
    session: pool6 === null ? session : withDst6(session, pool6),
    origin,
    encoding,
  }));
}

/**
 * The sessions of a kernel netlink message, if it is a session batch of
 * the followed instance (others' batches and other messages: empty).
 *
 * @throws {JoolDecodeError} If it is a Jool message but not a valid batch.
 * @throws {SessionDecodeError} If its sessions do not decode.
 */
export function sessionsOfKernelMessage(
  message: Message,
  familyId: number,
  context: FollowContext,
): SyncedSession[] {
  if (message.header.type !== familyId || message.header.sequence !== 0) return [];
  const batch = decodeSessionBatch(decodeGenericMessage(message));
  if (!sameInstance(batch.header.instance, context.instance)) return [];
  const encoding = sessionEncodingFor(batch.header.version);
  const { sessions } = decodeSessions(batch.payload, encoding);
  return events(sessions, "kernel", encoding, context.pool6);
}

/**
 * The sessions of a peer's datagram: in the local kernel's encoding, or
 * else in whichever 4.1 encoding it is valid in (a peer on another
 * version).
 *
 * @returns The sessions, or the problem if the datagram is not a batch.
 */
export function sessionsOfDatagram(
  payload: Uint8Array,
  origin: string,
  context: FollowContext,
): SyncedSession[] | string {
  const found = new DatagramFilter(context.localEncoding).classify(payload);
  if (isProblem(found)) return found.problem;
  const { encoding } = found;
  return events(decodeSessions(payload, encoding).sessions, origin, encoding, context.pool6);
}

/**
 * The kernel side of a follower, on any netlink transport: it resolves the
 * Jool family and its `joold` group (nlctrl requests), then reads what the
 * transport delivers. Listening only, it never sends to the Jool family, so
 * never ACKs a batch: the daemon next to it keeps the kernel's pace. With
 * `ack`, it ACKs every message of its instance, valid batch or not, and any
 * whose Jool header does not decode (as `jool session follow` does), with
 * the version the kernel wrote (kernels before 4.1.9 refuse another).
 */
export class KernelFollower {
  readonly #client: NetlinkClient;
  readonly #instance: string;
  #familyId = 0;
  /** JOOLD_ACKs sent. */
  acks = 0;

  /**
   * `onSessions`: the sessions of each batch of the instance; `onProblem`: a
   * message that is not a valid batch, said in one line.
   */
  constructor(
    transport: NetlinkTransport,
    context: FollowContext,
    onSessions: (sessions: SyncedSession[]) => void,
    onProblem: (problem: string) => void,
    ack = false,
  ) {
    this.#instance = context.instance;
    this.#client = new NetlinkClient(transport, {
      onMulticast: (message) => {
        try {
          onSessions(sessionsOfKernelMessage(message, this.#familyId, context));
        } catch (error) {
          onProblem(`Ignoring a kernel batch: ${errorText(error)}`);
        }
        if (ack) this.#acknowledge(message);
      },
      onStrayReply: () => {},
    });
  }

  #acknowledge(message: Message): void {
    if (message.header.type !== this.#familyId || message.header.sequence !== 0) return;
    let version: number | undefined;
    try {
      const header = decodeJoolHeader(decodeGenericMessage(message).data);
      if (!sameInstance(header.instance, this.#instance)) return;
      version = header.version;
    } catch {
      // Undecodable: ACKed all the same, so that the kernel's queue moves on.
    }
    const familyId = this.#familyId;
    const instance = this.#instance;
    this.#client.send((sequence) => encodeJooldAck({ familyId, sequence, instance, version }));
    this.acks++;
  }

  /**
   * Resolves the family; returns the `joold` group's id, to join.
   *
   * @throws {JoolModuleMissingError} If the module is not loaded.
   */
  async resolve(): Promise<number> {
    const { familyId, group } = await resolveJoolFamily(this.#client);
    this.#familyId = familyId;
    return group;
  }

  /** Feeds one datagram read from the transport. */
  receive(datagram: Uint8Array): void {
    this.#client.receive(datagram);
  }
}

/**
 * The netlink port ids of the Generic Netlink sockets that joined group
 * `groupId`, from /proc/net/netlink's text (its Groups column shows groups
 * 1 to 32 only: null for a later group, which cannot be told).
 */
export function groupListeners(procNetNetlink: string, groupId: number): number[] | null {
  if (groupId < 1 || groupId > 32) return null;
  const bit = 1 << (groupId - 1);
  const listeners: number[] = [];
  for (const line of procNetNetlink.split("\n").slice(1)) {
    const [, protocol, portId, groups] = line.trim().split(/\s+/);
    if (protocol !== String(NETLINK_GENERIC) || groups === undefined) continue;
    if ((parseInt(groups, 16) & bit) !== 0) listeners.push(Number(portId));
  }
  return listeners;
}
