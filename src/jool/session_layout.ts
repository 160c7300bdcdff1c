/**
 * Session entries as they travel inside a SESSION_ENTRIES attribute (the
 * kernel's batches, the UDP payload between daemons, JOOLD_ADD). Each entry
 * is an attribute of type JNLAL_ENTRY; what is inside changed twice in 4.1.x
 * (checked against Jool's kernel source at v4.1.9, v4.1.12 and v4.1.14):
 *
 * - `nested-4.1.0` (4.1.0 to 4.1.11): the entry is nested attributes in host
 *   byte order: SRC6 1, DST6 2, SRC4 3, DST4 4 (each nested: ADDR 1 = 16 or 4
 *   raw bytes, PORT 2 = u16), PROTO 5 (u8), STATE 6 (u8), TIMER 7 (u8),
 *   EXPIRATION 8 (u32 ms). The kernel writes them in that order, and since
 *   Linux 5.2 marks the entry and the four addresses NLA_F_NESTED (and wants
 *   the mark when it parses them); 140 bytes an entry, its header included.
 * - `raw48-4.1.12` (4.1.12): 48 raw bytes, big-endian: src6 addr, dst6 addr,
 *   src4 addr, expiration (u32 ms), src6 port, dst6 port, src4 port, packed
 *   proto/state/timer (u16). The kernel derives dst4 from dst6: its address
 *   is dst6's last 4 bytes, its port is src4's for ICMP and dst6's otherwise.
 * - `raw36-4.1.13` (4.1.13 and later): 36 raw bytes, big-endian: src6 addr,
 *   src4 addr, dst4 addr, expiration (u32 ms), src6 port, src4 port, dst4
 *   port, packed proto/state/timer (u16). dst6 is not sent: the receiving
 *   kernel builds it from its pool6 prefix and dst4.
 *
 * The packed u16 is `proto << 5 | state << 2 | timer`.
 *
 * An empty SESSION_ENTRIES payload is valid: the kernel's joold_sync() walks
 * zero entries and reports success (4.1.9 and 4.1.14 alike), so it holds no
 * sessions. The kernel never multicasts an empty batch in 4.1.13+, but 4.1.9
 * does when `ss-max-payload` is too small for even one session.
 *
 * @module
 */

import { NLA_HDRLEN, nlaAlign } from "../netlink/attribute.ts";
import { SessionTimer, TcpState } from "./protocol.ts";

/** A session's protocol. */
export type SessionProtocol = "TCP" | "UDP" | "ICMP";

/** An address and a port (or ICMP identifier). */
export interface TransportAddress {
  /** Canonical text (RFC 5952 for IPv6, dotted quad for IPv4). */
  address: string;
  port: number;
}

/** One NAT64 session, as the peers exchange it. */
export interface Session {
  proto: SessionProtocol;
  /** The IPv6 node's address and port. */
  src6: TransportAddress;
  /**
   * The IPv6 side's view of the IPv4 node. Absent in `raw36-4.1.13`, which
   * does not carry it; required to encode the two other encodings.
   */
  dst6?: TransportAddress;
  /** The pool4 address and port the session was given. */
  src4: TransportAddress;
  /** The IPv4 node's address and port. */
  dst4: TransportAddress;
  /** {@link TcpState} (ESTABLISHED for UDP and ICMP). */
  state: number;
  /** {@link SessionTimer}. */
  timer: number;
  /** Milliseconds until the session expires, as the sender saw it. */
  expirationMs: number;
}

/**
 * A session as the entries carry it, addresses as bytes: what converting
 * between encodings reads and writes, with no text in between.
 */
export interface SessionFields {
  /** `proto << 5 | state << 2 | timer`. */
  packed: number;
  /** 16 bytes. */
  src6: Uint8Array;
  src6Port: number;
  /** 16 bytes; null where the encoding does not carry it (raw36). */
  dst6: Uint8Array | null;
  dst6Port: number;
  /** 4 bytes. */
  src4: Uint8Array;
  src4Port: number;
  /** 4 bytes. */
  dst4: Uint8Array;
  dst4Port: number;
  expirationMs: number;
}

/** The protocols, indexed by their number (L4Protocol). */
export const PROTOCOLS: readonly SessionProtocol[] = ["TCP", "UDP", "ICMP"];
/** The highest valid {@link TcpState}. */
export const MAX_STATE: number = TcpState.TRANS;
/** The highest valid {@link SessionTimer}. */
export const MAX_TIMER: number = SessionTimer.SYN4;

/** 4 + 16 address + 8 port. */
const NESTED_ADDRESS6_SIZE = NLA_HDRLEN + (NLA_HDRLEN + 16) + nlaAlign(NLA_HDRLEN + 2);
/** 4 + 8 address + 8 port. */
const NESTED_ADDRESS4_SIZE = NLA_HDRLEN + (NLA_HDRLEN + 4) + nlaAlign(NLA_HDRLEN + 2);
const NESTED_SIZE = 2 * NESTED_ADDRESS6_SIZE + 2 * NESTED_ADDRESS4_SIZE +
  3 * nlaAlign(NLA_HDRLEN + 1) + (NLA_HDRLEN + 4);

/** What the rest of the tree needs to know of one session encoding. */
export interface SessionEncodingLayout {
  /** The first 4.1 revision whose kernel writes it (it holds until the next one's). */
  readonly firstRevision: number;
  /** Bytes one session takes, its JNLAL_ENTRY header included. */
  readonly entryLength: number;
  /** Nested attributes in host order (else raw big-endian bytes). */
  readonly nested: boolean;
  /** Carries dst6 (else the receiving kernel builds it from its pool6 and dst4). */
  readonly carriesDst6: boolean;
  /** Carries dst4 (else the receiving kernel derives it from dst6). */
  readonly carriesDst4: boolean;
}

/**
 * The session encodings of Jool 4.1, oldest first: the one list of them.
 * The encoder, the checker and the decoder each keep a table keyed by it,
 * so a new entry does not compile until each has its codec.
 */
export const SESSION_ENCODINGS = {
  "nested-4.1.0": {
    firstRevision: 0,
    entryLength: NLA_HDRLEN + NESTED_SIZE,
    nested: true,
    carriesDst6: true,
    carriesDst4: true,
  },
  "raw48-4.1.12": {
    firstRevision: 12,
    entryLength: NLA_HDRLEN + 48,
    nested: false,
    carriesDst6: true,
    carriesDst4: false,
  },
  "raw36-4.1.13": {
    firstRevision: 13,
    entryLength: NLA_HDRLEN + 36,
    nested: false,
    carriesDst6: false,
    carriesDst4: true,
  },
} as const satisfies Record<string, SessionEncodingLayout>;

/** How the session entries of a Jool version are encoded. */
export type SessionEncoding = keyof typeof SESSION_ENCODINGS;

/** Every {@link SessionEncoding}, oldest first. */
export const ALL_SESSION_ENCODINGS: readonly SessionEncoding[] = Object.keys(
  SESSION_ENCODINGS,
) as SessionEncoding[];

/**
 * How SESSION_FOREACH (reading the table) writes its entries on every 4.1
 * release: nested attributes (`jnla_put_session()` in
 * src/mod/common/nl/session.c, v4.1.0 to v4.1.15), also where the batches
 * use a raw encoding (4.1.12 and later write those with
 * `jnla_put_session_joold()`). Its OFFSET is such an entry too.
 */
export const TABLE_READ_ENCODING: SessionEncoding = "nested-4.1.0";

/**
 * Which encoding a kernel of `version` (the Jool header's packed version)
 * uses.
 *
 * @throws {RangeError} If the version is not 4.1.x.
 */
export function sessionEncodingFor(version: number): SessionEncoding {
  const major = version >>> 24;
  const minor = (version >>> 16) & 0xff;
  const revision = (version >>> 8) & 0xff;
  if (major !== 4 || minor !== 1) {
    throw new RangeError(
      `Unsupported Jool version: ${major}.${minor}.${revision}.${version & 0xff} (only 4.1.x)`,
    );
  }
  let found: SessionEncoding = ALL_SESSION_ENCODINGS[0];
  for (const encoding of ALL_SESSION_ENCODINGS) {
    if (SESSION_ENCODINGS[encoding].firstRevision <= revision) found = encoding;
  }
  return found;
}

/** Bytes one session takes in `encoding`, its JNLAL_ENTRY header included. */
export function sessionEntryLength(encoding: SessionEncoding): number {
  return SESSION_ENCODINGS[encoding].entryLength;
}
