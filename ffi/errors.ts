/**
 * Turns C return codes into typed errors, in one place.
 *
 * @module
 */

/**
 * errno values of Linux (asm-generic/errno-base.h and errno.h; x86_64 and
 * aarch64 share them). Only the ones a socket daemon can meet are named.
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ECONNREFUSED: 111,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  EINPROGRESS: 115,
  EHOSTUNREACH: 113,
  EALREADY: 114,
} as const;

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(Errno).map(([name, value]) => [value, name]),
);

/** The symbolic name of an errno value, e.g. `ENOENT`, or `errno 123`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/**
 * A failed system call: which operation, and the errno it left.
 *
 * The message reads `socket(AF_NETLINK) failed: EPERM (Operation not permitted)`.
 */
export class SyscallError extends Error {
  /** errno as the call left it. */
  readonly errno: number;
  /** Symbolic errno, e.g. `ENOBUFS`. */
  readonly code: string;
  /** What was attempted, e.g. `setsockopt(IP_ADD_MEMBERSHIP)`. */
  readonly operation: string;

  constructor(operation: string, errno: number, description: string) {
    super(`${operation} failed: ${errnoName(errno)} (${description})`);
    this.name = "SyscallError";
    this.errno = errno;
    this.code = errnoName(errno);
    this.operation = operation;
  }
}

/** A getaddrinfo() failure, carrying the EAI_* code and glibc's text. */
export class ResolveError extends Error {
  /** The negative EAI_* code getaddrinfo returned. */
  readonly eaiCode: number;
  /** glibc's text for the code, e.g. `Name or service not known`. */
  readonly description: string;

  constructor(what: string, eaiCode: number, description: string) {
    super(`Cannot resolve ${what}: ${description}`);
    this.name = "ResolveError";
    this.eaiCode = eaiCode;
    this.description = description;
  }
}
