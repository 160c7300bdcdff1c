/**
 * Constants of the Jool Generic Netlink protocol (Jool 4.1.x). The kernel's
 * names are quoted above each group; values were checked against the Jool
 * source at v4.1.0, v4.1.9, v4.1.12 and v4.1.14 (`src/common/config.h`,
 * `src/common/types.h`, `src/common/session.h`).
 *
 * @module
 */

/** JOOLNL_FAMILY: the Generic Netlink family name. */
export const JOOL_FAMILY_NAME = "Jool";

/**
 * The family's version (`struct genl_family.version`), which the kernel puts
 * in the genlmsghdr of everything it sends. The kernel does not check the
 * version of requests (the C tools send 1).
 */
export const JOOL_FAMILY_VERSION = 2;

/** JOOLNL_MULTICAST_GRP_NAME: the group session batches are multicast on. */
export const JOOLD_MULTICAST_GROUP = "joold";

/** INAME_MAX_SIZE: an instance name's buffer, NUL included. */
export const INAME_MAX_SIZE = 16;

/** INAME_DEFAULT: what the kernel reads an empty instance name as. */
export const INAME_DEFAULT = "default";

/**
 * enum joolnl_operation (JNLOP_*): the genlmsghdr command of a request.
 * Numbered from 0 in declaration order; unchanged through 4.1.x.
 */
export const JoolOperation = {
  INSTANCE_FOREACH: 0,
  INSTANCE_ADD: 1,
  INSTANCE_HELLO: 2,
  INSTANCE_RM: 3,
  INSTANCE_FLUSH: 4,
  ADDRESS_QUERY64: 5,
  ADDRESS_QUERY46: 6,
  STATS_FOREACH: 7,
  GLOBAL_FOREACH: 8,
  GLOBAL_UPDATE: 9,
  EAMT_FOREACH: 10,
  EAMT_ADD: 11,
  EAMT_RM: 12,
  EAMT_FLUSH: 13,
  BL4_FOREACH: 14,
  BL4_ADD: 15,
  BL4_RM: 16,
  BL4_FLUSH: 17,
  POOL4_FOREACH: 18,
  POOL4_ADD: 19,
  POOL4_RM: 20,
  POOL4_FLUSH: 21,
  BIB_FOREACH: 22,
  BIB_ADD: 23,
  BIB_RM: 24,
  SESSION_FOREACH: 25,
  FILE_HANDLE: 26,
  /** Daemon to kernel: sessions received from a peer. */
  JOOLD_ADD: 27,
  /** Daemon to kernel: queue the whole session table for multicast. */
  JOOLD_ADVERTISE: 28,
  /** Daemon to kernel: the last batch was taken; send the next one. */
  JOOLD_ACK: 29,
} as const;
/** One of {@link JoolOperation}'s values. */
export type JoolOperation = typeof JoolOperation[keyof typeof JoolOperation];

/**
 * enum joolnl_attr_root (JNLAR_*): attributes right after the Jool header.
 * The kernel's policy types are noted where joold uses them.
 */
export const RootAttribute = {
  ADDR_QUERY: 1,
  /** NLA_NESTED: {@link GlobalAttribute}s. */
  GLOBALS: 2,
  BL4_ENTRIES: 3,
  EAMT_ENTRIES: 4,
  POOL4_ENTRIES: 5,
  BIB_ENTRIES: 6,
  /** NLA_NESTED: {@link JNLAL_ENTRY} attributes, one per session. */
  SESSION_ENTRIES: 7,
  OFFSET: 8,
  OFFSET_U8: 9,
  OPERAND: 10,
  PROTO: 11,
  ATOMIC_INIT: 12,
  ATOMIC_END: 13,
} as const;

/** enum joolnl_attr_list: JNLAL_ENTRY, the type of every entry of a list. */
export const JNLAL_ENTRY = 1;

/**
 * enum joolnl_attr_error (JNLAERR_*): attributes of a reply whose Jool
 * header carries {@link JoolHeaderFlag.ERROR}.
 */
export const ErrorAttribute = {
  /** u16: a positive errno. */
  CODE: 1,
  /** NUL-terminated string: the kernel's explanation. */
  MSG: 2,
} as const;

/**
 * enum joolnl_attr_global (JNLAG_*): attributes inside
 * {@link RootAttribute.GLOBALS}. These are the numbers of 4.1.2 and later;
 * 4.1.0 and 4.1.1 had TRACE at 3 and LOWEST_IPV6_MTU at 7, but the same
 * numbers from 8 on (so the joold ones agree across 4.1.x).
 */
export const GlobalAttribute = {
  ENABLED: 1,
  POOL6: 2,
  LOWEST_IPV6_MTU: 3,
  DEBUG: 4,
  RESET_TC: 5,
  RESET_TOS: 6,
  TOS: 7,
  PLATEAUS: 8,
  COMPUTE_CSUM_ZERO: 9,
  HAIRPIN_MODE: 10,
  RANDOMIZE_ERROR_ADDR: 11,
  POOL6791V6: 12,
  POOL6791V4: 13,
  DROP_BY_ADDR: 14,
  DROP_EXTERNAL_TCP: 15,
  DROP_ICMP6_INFO: 16,
  SRC_ICMP6_BETTER: 17,
  F_ARGS: 18,
  HANDLE_RST: 19,
  TTL_TCP_EST: 20,
  TTL_TCP_TRANS: 21,
  TTL_UDP: 22,
  TTL_ICMP: 23,
  BIB_LOGGING: 24,
  SESSION_LOGGING: 25,
  MAX_STORED_PKTS: 26,
  /** u8 boolean: `ss-enabled`. */
  JOOLD_ENABLED: 27,
  /** u8 boolean: `ss-flush-asap` (does nothing since 4.1.13). */
  JOOLD_FLUSH_ASAP: 28,
  /** u32 milliseconds: `ss-flush-deadline`. */
  JOOLD_FLUSH_DEADLINE: 29,
  /** u32: `ss-capacity`. */
  JOOLD_CAPACITY: 30,
  /** u32: `ss-max-payload` (does nothing since 4.1.11). */
  JOOLD_MAX_PAYLOAD: 31,
  /** u32: `ss-max-sessions-per-packet` (4.1.11 and later). */
  JOOLD_MAX_SESSIONS_PER_PACKET: 32,
} as const;

/**
 * The globals whose attribute is a u8 in the kernel's nat64_globals_policy;
 * the other scalar globals are u32, and POOL6, PLATEAUS, POOL6791V6 and
 * POOL6791V4 are nested.
 */
const U8_GLOBALS: ReadonlySet<number> = new Set([
  GlobalAttribute.ENABLED,
  GlobalAttribute.DEBUG,
  GlobalAttribute.RESET_TC,
  GlobalAttribute.RESET_TOS,
  GlobalAttribute.TOS,
  GlobalAttribute.COMPUTE_CSUM_ZERO,
  GlobalAttribute.HAIRPIN_MODE,
  GlobalAttribute.RANDOMIZE_ERROR_ADDR,
  GlobalAttribute.DROP_BY_ADDR,
  GlobalAttribute.DROP_EXTERNAL_TCP,
  GlobalAttribute.DROP_ICMP6_INFO,
  GlobalAttribute.SRC_ICMP6_BETTER,
  GlobalAttribute.F_ARGS,
  GlobalAttribute.HANDLE_RST,
  GlobalAttribute.BIB_LOGGING,
  GlobalAttribute.SESSION_LOGGING,
  GlobalAttribute.JOOLD_ENABLED,
  GlobalAttribute.JOOLD_FLUSH_ASAP,
]);

const NESTED_GLOBALS: ReadonlySet<number> = new Set([
  GlobalAttribute.POOL6,
  GlobalAttribute.PLATEAUS,
  GlobalAttribute.POOL6791V6,
  GlobalAttribute.POOL6791V4,
]);

/**
 * The payload size of a scalar global's attribute: 1 (u8) or 4 (u32), or
 * null for nested and unknown globals.
 */
export function globalAttributeSize(type: number): 1 | 4 | null {
  if (U8_GLOBALS.has(type)) return 1;
  if (NESTED_GLOBALS.has(type)) return null;
  return type >= GlobalAttribute.ENABLED && type <= GlobalAttribute.JOOLD_MAX_SESSIONS_PER_PACKET
    ? 4
    : null;
}

/**
 * enum joolnl_attr_session (JNLASE_*): the fields of a session entry in the
 * nested encoding of 4.1.0 to 4.1.11.
 */
export const SessionAttribute = {
  /** Nested {@link TransportAddressAttribute}s, IPv6. */
  SRC6: 1,
  /** Nested, IPv6. */
  DST6: 2,
  /** Nested, IPv4. */
  SRC4: 3,
  /** Nested, IPv4. */
  DST4: 4,
  /** u8: {@link L4Protocol}. */
  PROTO: 5,
  /** u8: {@link TcpState}. */
  STATE: 6,
  /** u8: {@link SessionTimer}. */
  TIMER: 7,
  /** u32: milliseconds until the session expires. */
  EXPIRATION: 8,
} as const;

/** enum joolnl_attr_taddr (JNLAT_*): a transport address. */
export const TransportAddressAttribute = {
  /** 16 (IPv6) or 4 (IPv4) raw bytes, network order. */
  ADDR: 1,
  /** u16, host order. */
  PORT: 2,
} as const;

/** enum joolnl_attr_instance_status (JNLAIS_*): the INSTANCE_HELLO reply. */
export const InstanceStatusAttribute = {
  /** u8: {@link InstanceHelloStatus}. */
  STATUS: 1,
} as const;

/** enum instance_hello_status (IHS_*). */
export const InstanceHelloStatus = {
  ALIVE: 0,
  DEAD: 1,
} as const;

/** XT_SIIT, XT_NAT64 (common/types.h): the Jool header's `xt` bits. */
export const TranslatorType = {
  SIIT: 1,
  NAT64: 2,
} as const;

/** JOOLNLHDR_FLAGS_*: the Jool header's `flags` bits. */
export const JoolHeaderFlag = {
  /** The message is an error report (ErrorAttribute CODE and MSG). */
  ERROR: 1,
  /** Skip some validations. */
  FORCE: 2,
  /** Skip the removal of orphaned entries. */
  QUICK: 4,
  /** More data: the answer did not fit in one message. */
  M: 8,
} as const;

/** enum l4_protocol (L4PROTO_*): a session's protocol. OTHER (3) is SIIT only. */
export const L4Protocol = {
  TCP: 0,
  UDP: 1,
  ICMP: 2,
} as const;

/** enum tcp_state (common/session.h): a session's TCP state. */
export const TcpState = {
  ESTABLISHED: 0,
  V6_INIT: 1,
  V4_INIT: 2,
  V4_FIN_RCV: 3,
  V6_FIN_RCV: 4,
  V4_FIN_V6_FIN_RCV: 5,
  TRANS: 6,
} as const;

/** enum session_timer_type (SESSION_TIMER_*): which expiry queue a session is on. */
export const SessionTimer = {
  EST: 0,
  TRANS: 1,
  SYN4: 2,
} as const;
