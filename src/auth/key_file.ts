/**
 * The key file of `"auth key file"`: one or two 256-bit keys, text, one
 * key a line:
 *
 * ```
 * # joold authentication keys (joold keygen)
 * key 1 0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff current
 * key 2 7c9e...64 hex digits... next
 * ```
 *
 * `key ID SECRET [current|next]`: ID 0 to 255, SECRET 64 hex digits (32
 * bytes). Blank lines and lines starting with `#` are ignored. One key is
 * current whether marked or not; of two keys exactly one is marked
 * `current`. The file must not be readable or writable by others nor
 * writable by its group; it may be readable by its group only when that is
 * a group of the daemon (the shipped units: `root:joold`, mode 0640). It
 * must be owned by root or by the daemon's user, must be a regular file
 * (not a symbolic link, FIFO or device) and at most
 * {@link MAX_KEY_FILE_BYTES}; an all-zero secret is refused.
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import { ConfigError } from "../config/errors.ts";
import { type AuthKey, KEY_BYTES, type KeyRing } from "./sealed_datagram.ts";

/** Keys a file may hold: the current one and the next (during a rotation). */
export const MAX_KEYS = 2;

/** The netsocket key that names the file, for messages. */
export const KEY_FILE_KEY = "auth key file";

/** A key file's largest size: two keys and comments take a few hundred bytes. */
export const MAX_KEY_FILE_BYTES = 4096;

/** What {@link loadKeyFile} reads the file system with (tests pass their own). */
export interface KeyFileIo {
  /** lstat(2): about the path itself, a symbolic link not followed. */
  stat(path: string): Promise<{
    mode: number | null;
    isFile: boolean;
    isSymlink?: boolean;
    uid?: number | null;
    gid?: number | null;
    size?: number;
  }>;
  readTextFile(path: string): Promise<string>;
}

const SYSTEM_IO: KeyFileIo = {
  stat: (path) => Deno.lstat(path),
  readTextFile: (path) => Deno.readTextFile(path),
};

/** Whom a key file is for: who may own it and which groups may read it. */
export interface KeyFileReader {
  /** The uids that may own it: root and the daemon's. */
  owners: readonly number[];
  /** The gids the file's group may be for it to be group-readable: the daemon's groups. */
  groups: readonly number[];
}

/**
 * Parses a key file's text.
 *
 * @param file The key file's path, to name in messages.
 * @throws {ConfigError} naming the file and line.
 */
export function parseKeyFile(text: string, file: string): KeyRing {
  const keys: AuthKey[] = [];
  let current: AuthKey | null = null;
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === "" || line.startsWith("#")) continue;
    const fail = (problem: string): never => {
      throw new ConfigError(`${file}:${index + 1}`, null, problem);
    };
    const words = line.split(/\s+/);
    if (words[0] !== "key" || words.length < 3 || words.length > 4) {
      fail('expected "key ID SECRET [current|next]"');
    }
    const [, idText, secretText, mark] = words;
    if (!/^[0-9]{1,3}$/.test(idText) || Number(idText) > 255) {
      fail(`key id must be an integer from 0 to 255, got ${JSON.stringify(idText)}`);
    }
    const id = Number(idText);
    if (!/^[0-9a-fA-F]*$/.test(secretText) || secretText.length % 2 !== 0) {
      fail(`key ${id}: the secret must be hexadecimal digits`);
    }
    if (secretText.length < KEY_BYTES * 2) {
      fail(
        `key ${id}: too short (${secretText.length / 2} bytes, needs ${KEY_BYTES}: ` +
          `${KEY_BYTES * 2} hex digits; make one with joold keygen)`,
      );
    }
    if (secretText.length > KEY_BYTES * 2) {
      fail(`key ${id}: too long (${secretText.length / 2} bytes, needs ${KEY_BYTES})`);
    }
    if (/^0+$/.test(secretText)) {
      fail(`key ${id}: all zero, not a secret (make one with joold keygen)`);
    }
    if (mark !== undefined && mark !== "current" && mark !== "next") {
      fail(`key ${id}: expected "current" or "next" after the secret, got ${JSON.stringify(mark)}`);
    }
    if (keys.some((key) => key.id === id)) fail(`key id ${id} is given twice`);
    if (keys.length >= MAX_KEYS) fail(`at most ${MAX_KEYS} keys (current and next)`);
    const key = { id, secret: hexBytes(secretText) };
    if (mark === "current") {
      if (current !== null) fail(`keys ${current.id} and ${id} are both marked current`);
      current = key;
    }
    keys.push(key);
  }
  if (keys.length === 0) {
    throw new ConfigError(file, null, "holds no key (make one with joold keygen)");
  }
  if (current === null) {
    if (keys.length > 1) {
      throw new ConfigError(
        file,
        null,
        `of keys ${keys[0].id} and ${keys[1].id}, mark one current`,
      );
    }
    current = keys[0];
  }
  return { current, accepted: new Map(keys.map((key) => [key.id, key])) };
}

/**
 * Reads a key file, refusing one that others may read or write, that its
 * group may write, or that a group other than the reader's may read, a
 * symbolic link (whoever owns its directory could point it elsewhere),
 * anything but a regular file (a FIFO would block the start), one too large
 * to be a key file, and one owned by another user than the reader's owners.
 *
 * @param reader Who reads it; null: unknown, so neither owner nor group
 * may be trusted (any group bit is refused, the owner is not checked).
 * @throws {ConfigError} naming the netsocket file's key or the key file.
 */
export async function loadKeyFile(
  file: string,
  netsocketFile: string,
  io: KeyFileIo = SYSTEM_IO,
  reader: KeyFileReader | null = null,
): Promise<KeyRing> {
  let info;
  try {
    info = await io.stat(file);
  } catch (error) {
    throw new ConfigError(
      netsocketFile,
      KEY_FILE_KEY,
      `cannot read ${file}: ${errorText(error)}`,
    );
  }
  if (info.isSymlink === true) {
    throw new ConfigError(
      netsocketFile,
      KEY_FILE_KEY,
      `${file} is a symbolic link; name the key file itself`,
    );
  }
  if (!info.isFile) throw new ConfigError(netsocketFile, KEY_FILE_KEY, `${file} is not a file`);
  if (info.size !== undefined && info.size > MAX_KEY_FILE_BYTES) {
    throw new ConfigError(
      file,
      null,
      `is ${info.size} bytes; a key file is at most ${MAX_KEY_FILE_BYTES} (joold keygen makes one)`,
    );
  }
  const owner = info.uid ?? null;
  if (reader !== null && owner !== null && !reader.owners.includes(owner)) {
    throw new ConfigError(
      file,
      null,
      `is owned by uid ${owner}; only root or the user joold runs as (uid ${
        reader.owners.filter((uid) => uid !== 0).join(", ") || 0
      }) may own it: chown it`,
    );
  }
  const mode = info.mode ?? 0;
  const modeText = (mode & 0o777).toString(8).padStart(4, "0");
  const group = info.gid ?? null;
  const groupMayRead = reader !== null && reader.groups.length > 0 && group !== null &&
    owner !== null;
  if ((mode & (groupMayRead ? 0o037 : 0o077)) !== 0) {
    throw new ConfigError(
      file,
      null,
      `is accessible to group or others (mode ${modeText}); chmod 600 ${file}`,
    );
  }
  if (groupMayRead && (mode & 0o040) !== 0 && !reader.groups.includes(group)) {
    throw new ConfigError(
      file,
      null,
      `is readable by its group (gid ${group}, mode ${modeText}), which joold does not run in ` +
        `(gids ${reader.groups.join(", ")}): chgrp it to joold's group, or chmod 600 ${file}`,
    );
  }
  let text;
  try {
    text = await io.readTextFile(file);
  } catch (error) {
    throw new ConfigError(
      netsocketFile,
      KEY_FILE_KEY,
      `cannot read ${file}: ${errorText(error)}`,
    );
  }
  return parseKeyFile(text, file);
}

/** A new key file's text: one key, id 1, current, from `random` (32 bytes). */
export function newKeyFileText(random: Uint8Array, id = 1): string {
  const hex = [...random].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return "# joold authentication keys: key ID SECRET [current|next] (see joold(8))\n" +
    `key ${id} ${hex} current\n`;
}

function hexBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** A path as stat(2) sees it, for {@link unreadableBy}. */
export interface PathPermissions {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

/** A user by its ids, as a unit's `User=` runs it. */
export interface ReadingUser {
  name: string;
  uid: number;
  /** Its primary and supplementary groups. */
  gids: readonly number[];
}

/**
 * Why `user` could not read the file at the end of `chain` (each directory
 * from `/` down, then the file itself): the first directory it may not
 * search, or the file it may not read, from owner, group and mode as the
 * kernel decides (no capability counted: the units give only
 * CAP_NET_ADMIN). Null if it could read it.
 */
export function unreadableBy(chain: readonly PathPermissions[], user: ReadingUser): string | null {
  const who = `the user ${user.name} (uid ${user.uid})`;
  for (let index = 0; index < chain.length; index++) {
    const entry = chain[index];
    const isFile = index === chain.length - 1;
    const shift = entry.uid === user.uid ? 6 : user.gids.includes(entry.gid) ? 3 : 0;
    const needed = isFile ? 4 : 1;
    if (((entry.mode >> shift) & needed) !== 0) continue;
    const facts = `uid ${entry.uid}, gid ${entry.gid}, mode ${
      (entry.mode & 0o777).toString(8).padStart(4, "0")
    }`;
    return isFile
      ? `${who} that joold's units run as could not read it (${facts}): ` +
        `chgrp ${user.name} ${entry.path} && chmod 640 ${entry.path}`
      : `${who} that joold's units run as could not reach it: it may not search ${entry.path} ` +
        `(${facts})`;
  }
  return null;
}
