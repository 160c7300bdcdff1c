/**
 * Reading the kernel's small text files (/sys, /proc) through libc.
 *
 * Deno 2.9 refuses every path under /sys and /proc unless the program runs
 * with all permissions, even with `--allow-read=/sys/module`. The shipped
 * binary has `--allow-ffi --allow-read` only (scripts/runtime_flags.ts), so
 * the few kernel files the daemon and `joold check` need are read with
 * open(2)/read(2) here instead: the same files, the same kernel checks.
 *
 * @module
 */

import {
  AT_EMPTY_PATH,
  F_GETFL,
  F_SETFL,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  STATX_INO,
} from "./constants.ts";
import { Errno, SyscallError } from "./errors.ts";
import type { Libc } from "./libc.ts";
import { NATIVE_LITTLE_ENDIAN } from "./native_endian.ts";
import { shareWithGroup } from "./accounts.ts";

/** Kernel text files are a page or two; anything longer is cut here. */
const DEFAULT_MAX_BYTES = 64 * 1024;

/**
 * The text of a small kernel file such as `/sys/module/jool/version` or
 * `/proc/self/status`, read to its end or to `maxBytes`.
 *
 * @throws {SyscallError} If it cannot be opened or read (ENOENT: no such file).
 */
export function readSystemFile(libc: Libc, path: string, maxBytes = DEFAULT_MAX_BYTES): string {
  const fd = libc.symbols.open(new TextEncoder().encode(path + "\0"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const errno = libc.errno();
    throw new SyscallError(`open(${path})`, errno, libc.strerror(errno));
  }
  try {
    const buffer = new Uint8Array(maxBytes);
    let length = 0;
    while (length < maxBytes) {
      const count = Number(
        libc.symbols.read(fd, buffer.subarray(length), BigInt(maxBytes - length)),
      );
      if (count === 0) break;
      if (count < 0) {
        const errno = libc.errno();
        if (errno === Errno.EINTR) continue;
        throw new SyscallError(`read(${path})`, errno, libc.strerror(errno));
      }
      length += count;
    }
    return new TextDecoder().decode(buffer.subarray(0, length));
  } finally {
    libc.symbols.close(fd);
  }
}

/**
 * Where the symbolic link `path` points, e.g. `net:[4026531840]` for
 * `/proc/self/ns/net` (Deno refuses readLink under /proc, like reads).
 *
 * @throws {SyscallError} If it cannot be read (ENOENT, EINVAL: not a link).
 */
export function readSystemLink(libc: Libc, path: string): string {
  const buffer = new Uint8Array(4096);
  const length = Number(
    libc.symbols.readlink(new TextEncoder().encode(path + "\0"), buffer, BigInt(buffer.length)),
  );
  if (length < 0) {
    const errno = libc.errno();
    throw new SyscallError(`readlink(${path})`, errno, libc.strerror(errno));
  }
  return new TextDecoder().decode(buffer.subarray(0, length));
}

/**
 * Creates `path` with mode 0600 (before the umask) and writes `text` to it;
 * never replaces a file (O_EXCL: EEXIST if it exists). Through libc because
 * the shipped binary may not write files (no --allow-write), and because
 * creating with the mode leaves no moment where others may read the file.
 * With `group`, the file is then given to that gid and made 0640, so that
 * the group's members may read it (the key file and the units' group).
 *
 * @throws {SyscallError} If it cannot be created, written or given to the
 * group; a partly written file is left for the caller to see.
 */
export function createPrivateFile(
  libc: Libc,
  path: string,
  text: string,
  group: number | null = null,
): void {
  const fd = libc.symbols.open_create(
    new TextEncoder().encode(path + "\0"),
    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
    0o600,
  );
  if (fd < 0) {
    const errno = libc.errno();
    throw new SyscallError(`open(${path})`, errno, libc.strerror(errno));
  }
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) {
      const count = Number(
        libc.symbols.write(fd, bytes.subarray(written), BigInt(bytes.length - written)),
      );
      if (count < 0) {
        const errno = libc.errno();
        if (errno === Errno.EINTR) continue;
        throw new SyscallError(`write(${path})`, errno, libc.strerror(errno));
      }
      written += count;
    }
    if (group !== null) shareWithGroup(libc, fd, group, 0o640);
  } finally {
    libc.symbols.close(fd);
  }
}

/**
 * Makes writes to `fd` fail with EAGAIN instead of waiting (O_NONBLOCK on
 * its open file description): for stderr, so that a slow reader of the log
 * (a pipe nobody empties, a stalled journald) costs log lines, not the
 * daemon's event loop.
 *
 * @throws {SyscallError} If fcntl(2) fails.
 */
export function setNonBlocking(libc: Libc, fd: number): void {
  const flags = libc.symbols.fcntl(fd, F_GETFL, 0);
  if (flags < 0 || libc.symbols.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    const errno = libc.errno();
    throw new SyscallError(`fcntl(${fd}, O_NONBLOCK)`, errno, libc.strerror(errno));
  }
}

/** Which file an open descriptor is: st_dev and st_ino, as fstat(2) gives them. */
export interface FileIdentity {
  /** st_dev, glibc's makedev() of the device's major and minor. */
  dev: bigint;
  ino: bigint;
}

/**
 * The device and inode of open descriptor `fd` (statx(2) with
 * AT_EMPTY_PATH: fstat is no symbol in glibc before 2.33). struct statx:
 * stx_ino (u64) at 32, stx_dev_major and stx_dev_minor (u32) at 136 and 140.
 *
 * @throws {SyscallError} If statx fails.
 */
export function fileIdentity(libc: Libc, fd: number): FileIdentity {
  const buffer = new Uint8Array(256);
  if (libc.symbols.statx(fd, Uint8Array.of(0), AT_EMPTY_PATH, STATX_INO, buffer) < 0) {
    const errno = libc.errno();
    throw new SyscallError(`statx(${fd})`, errno, libc.strerror(errno));
  }
  const view = new DataView(buffer.buffer);
  const major = BigInt(view.getUint32(136, NATIVE_LITTLE_ENDIAN));
  const minor = BigInt(view.getUint32(140, NATIVE_LITTLE_ENDIAN));
  // glibc's makedev(), as st_dev holds it (sys/sysmacros.h).
  const dev = ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) |
    ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
  return { dev, ino: view.getBigUint64(32, NATIVE_LITTLE_ENDIAN) };
}
