/**
 * The real machine for the operator commands: the C library, a running
 * reactor, a kernel link that only makes requests, the configuration
 * loaders, and the process's capabilities.
 *
 * @module
 */

import { Libc } from "../../ffi/libc.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { readSystemFile } from "../../ffi/system_files.ts";
import { type Account, lookupAccount, lookupGroup } from "../../ffi/accounts.ts";
import type { KeyFileReader } from "../auth/key_file.ts";
import { type NetworkEnvironment, systemEnvironment } from "../config/environment.ts";
import type { Logger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { errorText } from "../error_text.ts";
import { KernelLink } from "../sync/kernel_link.ts";
import { EXIT_FAILURE } from "../exit_status.ts";

/** What the commands run on; valid only inside {@link withSystem}. */
export interface SystemTools {
  libc: Libc;
  sockets: Sockets;
  /** Running: netlink requests complete. */
  reactor: Reactor;
  environment: NetworkEnvironment;
  logger: Logger;
}

/**
 * Opens the C library for `use` and closes it afterwards, whatever `use`
 * did: how every command opens it.
 *
 * @throws {Error} Naming the library, if it cannot be opened.
 */
export async function usingLibc<T>(use: (libc: Libc) => T | Promise<T>): Promise<T> {
  const libc = Libc.open();
  try {
    return await use(libc);
  } finally {
    libc.close();
  }
}

/**
 * {@link usingLibc} for a command that returns an exit status: if the
 * library cannot be opened, logs why and returns EXIT_FAILURE.
 */
export async function withLibc(
  logger: Logger,
  use: (libc: Libc) => number | Promise<number>,
): Promise<number> {
  let opened = false;
  try {
    return await usingLibc((libc) => {
      opened = true;
      return use(libc);
    });
  } catch (error) {
    if (opened) throw error;
    logger.error(errorText(error));
    return EXIT_FAILURE;
  }
}

/**
 * Opens the C library and a running reactor, calls `use`, then stops the
 * reactor and closes everything, whatever `use` did.
 */
export function withSystem<T>(
  logger: Logger,
  use: (tools: SystemTools) => Promise<T>,
): Promise<T> {
  return usingLibc(async (libc) => {
    const reactor = Reactor.open(libc, (fd, error) => {
      logger.error(`Unexpected failure handling descriptor ${fd}: ${errorText(error)}`);
    });
    const running = reactor.run();
    try {
      return await use({
        libc,
        sockets: new Sockets(libc),
        reactor,
        environment: systemEnvironment(libc),
        logger,
      });
    } finally {
      reactor.stop();
      await running;
      reactor.close();
    }
  });
}

/**
 * A kernel link for requests only, on the running reactor: it does not
 * join the `joold` group, so a command running next to the daemon never
 * takes (and ACKs) the daemon's session batches; `counters` count the
 * kernel's refusals of requests sent without waiting (adds). Throws
 * JoolModuleMissingError if the family is absent, SyscallError if the
 * socket cannot be opened.
 */
export function openRequestLink(
  tools: SystemTools,
  instance: string,
  counters = new SyncCounters(),
): Promise<KernelLink> {
  return KernelLink.open(
    { ...tools, counters },
    instance,
    { joinGroup: false },
  );
}

/**
 * The system user and group the shipped units run the daemon as
 * (`User=`/`Group=`), which install.sh and the .deb create: `joold keygen`
 * gives the key file to this group, `joold check` run as root reads it as
 * this user would.
 */
export const DAEMON_ACCOUNT = "joold";

/**
 * The ids in the text of `/proc/self/status`: the effective uid and gid
 * and the supplementary groups; null where a line is missing.
 */
export function parseProcessIds(
  status: string,
): { uid: number; gids: number[] } | null {
  const uid = /^Uid:\s*\d+\s+(\d+)/m.exec(status);
  const gid = /^Gid:\s*\d+\s+(\d+)/m.exec(status);
  if (uid === null || gid === null) return null;
  const groups = /^Groups:[ \t]*([\d \t]*)$/m.exec(status)?.[1].trim() ?? "";
  const supplementary = groups === "" ? [] : groups.split(/\s+/).map(Number);
  return { uid: Number(uid[1]), gids: [...new Set([Number(gid[1]), ...supplementary])] };
}

/**
 * Whom the key file is for when this process reads it: root and this
 * process's effective uid may own it. Its groups may read it; for root only
 * {@link DAEMON_ACCOUNT}'s group, the units' `root:joold` key, since a
 * root-owned key readable by group root is more likely a umask's accident
 * than a choice. Null if `/proc/self/status` cannot be read.
 */
export function keyFileReader(libc: Libc): KeyFileReader | null {
  const status = ownStatus(libc);
  const ids = status === null ? null : parseProcessIds(status);
  if (ids === null) return null;
  const daemonGroup = ids.uid === 0 ? lookupGroup(libc, DAEMON_ACCOUNT) : null;
  return {
    owners: [...new Set([0, ids.uid])],
    groups: ids.uid !== 0 ? ids.gids : daemonGroup === null ? [] : [daemonGroup],
  };
}

/**
 * Whom the key file is for when the daemon runs as the units run it: for
 * `joold check` run as root where {@link DAEMON_ACCOUNT} exists, that user
 * (with its groups); otherwise this process. Null as for
 * {@link keyFileReader}.
 */
export function unitKeyFileReader(
  libc: Libc,
): { reader: KeyFileReader | null; account: Account | null } {
  const status = ownStatus(libc);
  const ids = status === null ? null : parseProcessIds(status);
  const account = ids?.uid === 0 ? lookupAccount(libc, DAEMON_ACCOUNT) : null;
  if (account === null) return { reader: keyFileReader(libc), account: null };
  return { reader: { owners: [0, account.uid], groups: account.gids }, account };
}

/** Capability number of CAP_NET_ADMIN (linux/capability.h). */
export const CAP_NET_ADMIN = 12;

/**
 * The effective capability set from the text of `/proc/self/status`
 * (`CapEff:` in hexadecimal), or null if it has none.
 */
export function parseEffectiveCapabilities(status: string): bigint | null {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return match === null ? null : BigInt(`0x${match[1]}`);
}

/**
 * Whether this process has CAP_NET_ADMIN in effect; null if it cannot tell.
 * Read through libc: Deno refuses /proc to the shipped binary's
 * `--allow-read` (see ffi/system_files.ts).
 */
export function hasNetAdmin(libc: Libc): boolean | null {
  const status = ownStatus(libc);
  if (status === null) return null;
  const effective = parseEffectiveCapabilities(status);
  return effective === null ? null : (effective & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
}

/** The text of `/proc/self/status`, or null if it cannot be read. */
function ownStatus(libc: Libc): string | null {
  try {
    return readSystemFile(libc, "/proc/self/status");
  } catch {
    return null;
  }
}
