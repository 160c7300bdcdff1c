/**
 * `joold check [NETSOCKET] [MODSOCKET]` (docs/operation.md): checks the
 * configuration files and the machine the way the daemon would use them,
 * without changing anything, one verdict per item. An item that fails makes
 * the items that depend on it `skip`; `warn` is worth knowing but does not
 * stop the daemon. The machine is reached only through {@link CheckProbes},
 * so tests can describe one of their own.
 *
 * @module
 */

import { EXIT_FAILURE, EXIT_SUCCESS } from "../exit_status.ts";
import { factPhrase, modsocketFacts, netsocketFacts } from "../config/describe.ts";
import { ssEnableCommand } from "../jool/cli_hint.ts";
import { loadModsocketConfigOrDefault } from "../config/modsocket.ts";
import {
  DEFAULT_INSTANCE,
  type ModsocketConfig,
  type ModsocketResult,
  NO_MODSOCKET_FILE,
} from "../config/modsocket.ts";
import {
  loadNetsocketConfig,
  type NetsocketConfig,
  type NetsocketResult,
  requireControlPortWhenSealed,
} from "../config/netsocket.ts";
import { ConfigError } from "../config/errors.ts";
import type { Logger } from "../log.ts";
import { errorText } from "../error_text.ts";
import {
  isSyncDisabledRefusal,
  JoolModuleMissingError,
  KernelRefusalError,
} from "../sync/kernel_errors.ts";
import { MulticastSocket } from "../sync/multicast_socket.ts";
import { sourceAddressTowards, UnicastSocket } from "../sync/unicast_socket.ts";
import { loadKeyFile, type PathPermissions, unreadableBy } from "../auth/key_file.ts";
import type { KeyRing } from "../auth/sealed_datagram.ts";
import type { UnicastPeer } from "../config/unicast_peers.ts";
import {
  hasNetAdmin,
  openRequestLink,
  type SystemTools,
  unitKeyFileReader,
  withSystem,
} from "./system.ts";

/** How an item fared. Only `FAIL` is a problem. */
export type Verdict = "ok" | "warn" | "FAIL" | "skip";

/** One line of the report. */
export interface CheckItem {
  verdict: Verdict;
  /** What was checked, e.g. `Jool module`. */
  subject: string;
  /** The finding, or why the item was skipped. */
  detail: string;
}

/** The command's arguments. */
export interface CheckOptions {
  netsocketFile: string;
  modsocketFile: string;
  /** True if MODSOCKET was not given: an absent default file means instance `default`. */
  modsocketDefaulted: boolean;
}

/** What the check asks of the kernel, once the Jool family resolved. */
export interface KernelChecker {
  /** The Jool family's Generic Netlink id. */
  readonly familyId: number;
  /** INSTANCE_HELLO; throws KernelRefusalError. */
  instanceExists(): Promise<boolean>;
  /** An empty JOOLD_ADD; throws KernelRefusalError (e.g. SS disabled). */
  probe(): Promise<void>;
  close(): void;
}

/** The machine, one function per probe. */
export interface CheckProbes {
  /** Throws ConfigError for a bad file (a missing interface included). */
  loadNetsocket(file: string): Promise<NetsocketResult>;
  /** Throws ConfigError; see {@link CheckOptions.modsocketDefaulted}. */
  loadModsocket(file: string, defaulted: boolean): Promise<ModsocketResult>;
  /** Whether CAP_NET_ADMIN is in effect; null if unknown. */
  netAdmin(): Promise<boolean | null>;
  /** Resolves the Jool family; throws JoolModuleMissingError if it is absent. */
  openKernel(instance: string): Promise<KernelChecker>;
  /** Opens a multicast socket on the group and `port` as the daemon would, then closes it. */
  openMulticast(config: NetsocketConfig, port: number): void;
  /** Opens the unicast socket on `port` as the daemon would, then closes it. */
  openUnicast(config: NetsocketConfig, port: number): void;
  /** Reads the key file as the daemon would; throws ConfigError. */
  loadKeys(keyFile: string, config: NetsocketConfig): Promise<KeyRing>;
  /** The local address that would send to `peer` (sends nothing); throws SyscallError. */
  routeTo(config: NetsocketConfig, peer: UnicastPeer): string;
}

/** Runs every check, in report order. Never throws for what it checks. */
export async function runChecks(options: CheckOptions, probes: CheckProbes): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const add = (verdict: Verdict, subject: string, detail: string) => {
    items.push({ verdict, subject, detail });
  };

  let netsocket: NetsocketConfig | null = null;
  try {
    const result = await probes.loadNetsocket(options.netsocketFile);
    netsocket = result.config;
    add("ok", "netsocket", `${netsocket.file}: ${factPhrase(netsocketFacts(netsocket))}`);
    for (const warning of result.warnings) add("warn", "netsocket", warning);
  } catch (error) {
    add("FAIL", "netsocket", configProblem(error));
  }

  let modsocket: ModsocketConfig | null = null;
  try {
    const result = await probes.loadModsocket(options.modsocketFile, options.modsocketDefaulted);
    modsocket = result.config;
    add("ok", "modsocket", describeModsocket(modsocket, options.modsocketFile));
    for (const warning of result.warnings) add("warn", "modsocket", warning);
  } catch (error) {
    add("FAIL", "modsocket", configProblem(error));
  }

  const netAdmin = await probes.netAdmin().catch(() => null);
  if (netAdmin === null) {
    add("skip", "privileges", "cannot read the capabilities from /proc/self/status");
  } else if (netAdmin) {
    add("ok", "privileges", "CAP_NET_ADMIN is in effect");
  } else {
    add(
      "FAIL",
      "privileges",
      "CAP_NET_ADMIN is not in effect, and Jool refuses session sync requests without it " +
        "(run as root, or with AmbientCapabilities=CAP_NET_ADMIN under systemd)",
    );
  }

  if (netsocket !== null && netsocket.authKeyFile !== null) {
    try {
      requireControlPortWhenSealed(netsocket);
      const keys = await probes.loadKeys(netsocket.authKeyFile, netsocket);
      const accepted = [...keys.accepted.keys()];
      add(
        "ok",
        "auth key file",
        `${netsocket.authKeyFile}: sends with key ${keys.current.id}` +
          (accepted.length > 1 ? `, accepts keys ${accepted.join(" and ")}` : ""),
      );
    } catch (error) {
      add("FAIL", "auth key file", configProblem(error));
    }
  }
  for (const peer of netsocket?.unicastPeers ?? []) {
    try {
      const source = probes.routeTo(netsocket!, peer);
      add("ok", `unicast peer ${peer.text}`, `reachable from ${source}, port ${peer.port}`);
    } catch (error) {
      add("FAIL", `unicast peer ${peer.text}`, errorText(error));
    }
  }

  await checkKernel(modsocket, probes, add);

  if (netsocket === null) {
    add("skip", "multicast socket", "needs a valid netsocket file");
    add("skip", "control socket", "needs a valid netsocket file");
  } else {
    checkSocket(probes, netsocket, "multicast socket", netsocket.port, add);
    if (netsocket.controlPort === null) {
      add("skip", "control socket", '"control port" is false: no resync between our daemons');
    } else {
      checkSocket(probes, netsocket, "control socket", netsocket.controlPort, add);
    }
  }
  return items;
}

type Add = (verdict: Verdict, subject: string, detail: string) => void;

function checkSocket(
  probes: CheckProbes,
  netsocket: NetsocketConfig,
  subject: string,
  port: number,
  add: Add,
): void {
  try {
    if (netsocket.unicastPeers !== null) {
      probes.openUnicast(netsocket, port);
      add("ok", subject, `bound port ${port} for the unicast peers (the group is not joined)`);
      return;
    }
    probes.openMulticast(netsocket, port);
    add("ok", subject, `joined ${netsocket.address} port ${port}`);
  } catch (error) {
    add("FAIL", subject, errorText(error));
  }
}

/** The Jool module, the instance and its session sync, each depending on the one before. */
async function checkKernel(
  modsocket: ModsocketConfig | null,
  probes: CheckProbes,
  add: Add,
): Promise<void> {
  const instance = modsocket?.instance ?? DEFAULT_INSTANCE;
  const instanceSubject = modsocket === null ? "instance" : `instance '${instance}'`;
  let kernel: KernelChecker;
  try {
    kernel = await probes.openKernel(instance);
  } catch (error) {
    add(
      "FAIL",
      "Jool module",
      error instanceof JoolModuleMissingError
        ? "not loaded in this network namespace (try `modprobe jool`)"
        : errorText(error),
    );
    add("skip", instanceSubject, "needs the Jool module");
    add("skip", "session sync", "needs the instance");
    return;
  }
  try {
    add("ok", "Jool module", `loaded (Generic Netlink family Jool, id ${kernel.familyId})`);
    if (modsocket === null) {
      add("skip", instanceSubject, "needs a valid modsocket file");
      add("skip", "session sync", "needs the instance");
      return;
    }
    let exists: boolean;
    try {
      exists = await kernel.instanceExists();
    } catch (error) {
      add("FAIL", instanceSubject, kernelProblem(error));
      add("skip", "session sync", "needs the instance");
      return;
    }
    if (!exists) {
      add(
        "FAIL",
        instanceSubject,
        "does not exist in this network namespace (create it with `jool instance add`, " +
          "or run joold in the instance's network namespace)",
      );
      add("skip", "session sync", "needs the instance");
      return;
    }
    add("ok", instanceSubject, "exists in this network namespace");
    await checkSessionSync(kernel, modsocket, add);
  } finally {
    kernel.close();
  }
}

async function checkSessionSync(
  kernel: KernelChecker,
  modsocket: ModsocketConfig,
  add: Add,
): Promise<void> {
  try {
    await kernel.probe();
    add("ok", "session sync", "ss-enabled is on: the instance accepts sessions");
  } catch (error) {
    if (!isSyncDisabledRefusal(error)) {
      add("FAIL", "session sync", kernelProblem(error));
      return;
    }
    // Quoted: the kernel's sentence ends in a period, and more follows.
    const said = `the kernel says "${error.kernelMessage}"`;
    if (modsocket.enableSs) {
      add(
        "warn",
        "session sync",
        `${said}; the daemon turns ss-enabled on when it starts ("enable ss" is true)`,
      );
    } else {
      add(
        "FAIL",
        "session sync",
        `${said}; enable it with \`${ssEnableCommand(modsocket.instance)}\`, or set ` +
          `"enable ss": true in ${modsocket.file} to let the daemon do it`,
      );
    }
  }
}

function kernelProblem(error: unknown): string {
  if (error instanceof KernelRefusalError) {
    return `the kernel says: ${error.kernelMessage} (error ${error.code})`;
  }
  return errorText(error);
}

function configProblem(error: unknown): string {
  // ConfigError messages already name the file and the key.
  return error instanceof ConfigError ? error.message : `unexpected failure: ${errorText(error)}`;
}

function describeModsocket(config: ModsocketConfig, requestedFile: string): string {
  const where = config.file === NO_MODSOCKET_FILE
    ? `no ${requestedFile}, so the default`
    : `${config.file}:`;
  return `${where} ${factPhrase(modsocketFacts(config))}`;
}

/** One report line: the verdict in a 6-column field, subject, detail. */
export function formatCheckItem(item: CheckItem): string {
  return `${item.verdict.padEnd(6)}${item.subject}: ${item.detail}`;
}

/** Every item's line and a closing count of problems. */
export function formatCheckReport(items: readonly CheckItem[]): string {
  const problems = items.filter((item) => item.verdict === "FAIL").length;
  const summary = problems === 0
    ? "no problems found"
    : `${problems} problem${problems === 1 ? "" : "s"} found`;
  return [...items.map(formatCheckItem), summary].join("\n");
}

/** EXIT_SUCCESS if no item failed, else EXIT_FAILURE. */
export function checkExitStatus(items: readonly CheckItem[]): number {
  return items.some((item) => item.verdict === "FAIL") ? EXIT_FAILURE : EXIT_SUCCESS;
}

/** Runs the checks, prints the report, returns the exit status. */
export async function check(
  options: CheckOptions,
  probes: CheckProbes,
  print: (text: string) => void,
): Promise<number> {
  const items = await runChecks(options, probes);
  print(formatCheckReport(items));
  return checkExitStatus(items);
}

/** `joold check` on this machine. */
export async function runCheckCommand(
  options: CheckOptions,
  logger: Logger,
  print: (text: string) => void,
): Promise<number> {
  return await withSystem(logger, (tools) =>
    check(options, {
      loadNetsocket: (file) => loadNetsocketConfig(file, tools.environment),
      loadModsocket: loadModsocketConfigOrDefault,
      netAdmin: () => Promise.resolve(hasNetAdmin(tools.libc)),
      openKernel: (instance) => openRequestLink(tools, instance),
      openMulticast: (config, port) =>
        MulticastSocket.open(tools.sockets, { ...config, port }).close(),
      openUnicast: (config, port) =>
        UnicastSocket.open(tools.sockets, { ...config, port }, config.unicastPeers ?? []).close(),
      loadKeys: (keyFile, config) => loadKeysAsTheUnit(tools, keyFile, config.file),
      routeTo: (config, peer) => sourceAddressTowards(tools.sockets, config, peer),
    }, print));
}

/**
 * The key file as the units' daemon would read it: by the rules of
 * {@link loadKeyFile} for the units' user (when run as root and that user
 * exists), then whether that user may search every directory above it and
 * read it, since root reads anything.
 */
async function loadKeysAsTheUnit(
  tools: SystemTools,
  keyFile: string,
  netsocketFile: string,
): Promise<KeyRing> {
  const { reader, account } = unitKeyFileReader(tools.libc);
  const keys = await loadKeyFile(keyFile, netsocketFile, undefined, reader);
  if (account !== null) {
    const problem = unreadableBy(await pathChain(keyFile), account);
    if (problem !== null) throw new ConfigError(keyFile, null, problem);
  }
  return keys;
}

/** Each directory from `/` down to `file`, then `file`, as stat(2) sees them. */
async function pathChain(file: string): Promise<PathPermissions[]> {
  const absolute = file.startsWith("/") ? file : `${Deno.cwd()}/${file}`;
  const parts = absolute.split("/").filter((part) => part !== "");
  const paths = ["/", ...parts.map((_, index) => "/" + parts.slice(0, index + 1).join("/"))];
  const chain: PathPermissions[] = [];
  for (const path of paths) {
    const info = await Deno.stat(path);
    chain.push({ path, mode: info.mode ?? 0, uid: info.uid ?? 0, gid: info.gid ?? 0 });
  }
  return chain;
}
