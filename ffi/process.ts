/**
 * What one process may learn about the system's others and its clock:
 * whether a pid is alive, and the monotonic clock every process shares.
 *
 * @module
 */

import { CLOCK_MONOTONIC } from "./constants.ts";
import { Errno, SyscallError } from "./errors.ts";
import type { Libc } from "./libc.ts";
import { NATIVE_LITTLE_ENDIAN } from "./native_endian.ts";

/** struct timespec (LP64): tv_sec @0 (time_t), tv_nsec @8 (long). */
const TIMESPEC_BYTES = 16;

/**
 * Whether process `pid` exists: kill(pid, 0), which sends nothing. EPERM
 * (another user's process, such as a daemon under its own user) is alive.
 *
 * @throws {SyscallError} For another failure, or a pid that is not positive.
 */
export function processExists(libc: Libc, pid: number): boolean {
  // kill(0) and kill(-n) would ask about process groups, not a process.
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new SyscallError(`kill(${pid}, 0)`, Errno.EINVAL, "not a process id");
  }
  if (libc.symbols.kill(pid, 0) === 0) return true;
  const errno = libc.errno();
  if (errno === Errno.ESRCH) return false;
  if (errno === Errno.EPERM) return true;
  throw new SyscallError(`kill(${pid}, 0)`, errno, libc.strerror(errno));
}

/**
 * CLOCK_MONOTONIC in microseconds: the clock of systemd's `MONOTONIC_USEC=`,
 * the same in every process of the system and never stepped by NTP.
 *
 * @throws {SyscallError} If clock_gettime(2) fails.
 */
export function monotonicMicroseconds(libc: Libc): bigint {
  const timespec = new Uint8Array(TIMESPEC_BYTES);
  if (libc.symbols.clock_gettime(CLOCK_MONOTONIC, timespec) !== 0) {
    const errno = libc.errno();
    throw new SyscallError("clock_gettime(CLOCK_MONOTONIC)", errno, libc.strerror(errno));
  }
  const view = new DataView(timespec.buffer);
  const seconds = view.getBigInt64(0, NATIVE_LITTLE_ENDIAN);
  const nanoseconds = view.getBigInt64(8, NATIVE_LITTLE_ENDIAN);
  return seconds * 1_000_000n + nanoseconds / 1000n;
}
