/**
 * Users and groups by name, through the C library (so NSS sources count
 * as they do for systemd's `User=`), and giving an open file to a group.
 *
 * @module
 */

import { SyscallError } from "./errors.ts";
import type { Libc } from "./libc.ts";

/** A user as a unit's `User=` runs it: its uid and every group it is in. */
export interface Account {
  name: string;
  uid: number;
  /** The primary group first, then the supplementary ones (initgroups(3)). */
  gids: number[];
}

// struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... } (LP64)
const PW_UID_OFFSET = 16;
const PW_GID_OFFSET = 20;
// struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; ... } (LP64)
const GR_GID_OFFSET = 16;
/** More groups than a system user is ever in; getgrouplist says if not. */
const MAX_GROUPS = 1024;

function cString(text: string): Uint8Array {
  return new TextEncoder().encode(text + "\0");
}

/** The user `name` with its groups, or null if there is no such user. */
export function lookupAccount(libc: Libc, name: string): Account | null {
  const entry = libc.symbols.getpwnam(cString(name));
  if (entry === null) return null;
  const view = new Deno.UnsafePointerView(entry);
  const uid = view.getUint32(PW_UID_OFFSET);
  const gid = view.getUint32(PW_GID_OFFSET);
  const groups = new Uint32Array(MAX_GROUPS);
  const count = new Int32Array([MAX_GROUPS]);
  const found = libc.symbols.getgrouplist(
    cString(name),
    gid,
    new Uint8Array(groups.buffer),
    new Uint8Array(count.buffer),
  );
  const gids = found < 0 ? [gid] : [...groups.subarray(0, count[0])];
  return { name, uid, gids: [...new Set([gid, ...gids])] };
}

/** The gid of group `name`, or null if there is no such group. */
export function lookupGroup(libc: Libc, name: string): number | null {
  const entry = libc.symbols.getgrnam(cString(name));
  return entry === null ? null : new Deno.UnsafePointerView(entry).getUint32(GR_GID_OFFSET);
}

/** chown(fd, unchanged, gid) then chmod(fd, mode): the group first, so no other group reads. */
export function shareWithGroup(libc: Libc, fd: number, gid: number, mode: number): void {
  if (libc.symbols.fchown(fd, 0xffffffff, gid) < 0) {
    const errno = libc.errno();
    throw new SyscallError(`fchown(${gid})`, errno, libc.strerror(errno));
  }
  if (libc.symbols.fchmod(fd, mode) < 0) {
    const errno = libc.errno();
    throw new SyscallError(`fchmod(${mode.toString(8)})`, errno, libc.strerror(errno));
  }
}
