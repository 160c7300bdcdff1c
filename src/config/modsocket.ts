/**
 * The Netlink socket's configuration file (MODSOCKET in joold(8)): which
 * Jool instance to synchronize.
 *
 * @example
 * ```jsonc
 * { "instance": "default", "enable ss": true, "ss max payload": 32768, "ss capacity": 16384,
 *   "ss flush asap": true, "ss flush deadline": 20, "netlink receive buffer": 4194304 }
 * ```
 *
 * @module
 */

import { RECEIVE_BUFFER_BYTES } from "../net/drain.ts";
import { parseInstanceName } from "../jool/header.ts";
import { isProblem } from "../problem.ts";
import { ConfigError } from "./errors.ts";
import {
  type JsonMember,
  jsonTypeName,
  parseConfigObject,
  readConfigFile,
  selectKeys,
} from "./json_file.ts";

/** The instance Jool and the reference daemon assume when none is named. */
export const DEFAULT_INSTANCE = "default";

/**
 * What the daemon raises `ss-max-payload` to unless told otherwise. Jool
 * 4.1.10 and earlier queue at most one batch while they wait for the
 * daemon's ACK and drop the sessions that do not fit (BENCHMARKS.md
 * measures it). The kernel rounds the batch's buffer up to a power of two:
 * Jool's default, 1452, gets 2 KiB (11 sessions of 4.1.9); this gets 64 KiB
 * (465 sessions), the largest buffer whose sessions the netlink attribute
 * can still count (its length is a u16).
 */
export const DEFAULT_SS_MAX_PAYLOAD = 32768;

/** Jool's own default `ss-max-payload`: below it a batch would shrink. */
export const MIN_SS_MAX_PAYLOAD = 1452;

/**
 * The largest `ss-max-payload` whose buffer stays at 64 KiB even where the
 * kernel's per-buffer overhead (skb_shared_info) is larger than on 6.1;
 * a 128 KiB buffer would overflow the batch's u16 length.
 */
export const MAX_SS_MAX_PAYLOAD = 64000;

/**
 * What the daemon raises `ss-capacity` to unless told otherwise. Jool
 * 4.1.11 and later queue up to ss-capacity sessions (default 512) while
 * they wait for the daemon's ACK, and drop the rest (JSTAT_JOOLD_SSS_ENOSPC):
 * a burst faster than 36 sessions per ACK round trip fills 512 in a fraction
 * of a second. The queue costs the kernel about 100 bytes per waiting
 * session, only while sessions wait (BENCHMARKS.md measures the effect).
 */
export const DEFAULT_SS_CAPACITY = 16384;

/** Jool's own default `ss-capacity`: below it the queue would shrink. */
export const MIN_SS_CAPACITY = 512;

/** A bound on the kernel memory a full queue may take (about 100 MiB). */
export const MAX_SS_CAPACITY = 1_048_576;

/**
 * What the daemon lowers `ss-flush-deadline` to on Jool 4.1.13 and later,
 * where it alone decides when a partial batch leaves the kernel (Jool's
 * default: 2000 ms). The kernel also sends a batch without waiting for the
 * ACK once this has passed, so it bounds the unACKed batches to one per
 * deadline: 50 a second, some 200 KiB of the netlink receive buffer's 8 MiB.
 */
export const DEFAULT_SS_FLUSH_DEADLINE = 20;

/** Below this the kernel would send nearly every session without waiting for an ACK. */
export const MIN_SS_FLUSH_DEADLINE = 10;

/** Jool's own default `ss-flush-deadline`: above it nothing would be lowered. */
export const MAX_SS_FLUSH_DEADLINE = 2000;

/** The smallest `"netlink receive buffer"`: the kernel's own floor is about this. */
export const MIN_NETLINK_RECEIVE_BUFFER = 4096;

/** The largest `"netlink receive buffer"`: 1 GiB of kernel memory, if ever filled. */
export const MAX_NETLINK_RECEIVE_BUFFER = 1 << 30;

/**
 * A checked modsocket file. New keys become new fields, each with a
 * default, so that existing files stay valid.
 */
export interface ModsocketConfig {
  /** The path the configuration came from, as the user gave it. */
  file: string;
  /** The Jool instance's name: 1 to 15 printable ASCII characters. */
  instance: string;
  /** `"enable ss"`: whether the daemon turns session synchronization on in the instance. */
  enableSs: boolean;
  /**
   * `"ss max payload"`: the bytes the daemon raises the instance's
   * `ss-max-payload` to while it runs (Jool 4.1.10 and earlier), or null
   * (the key is false) to leave it alone.
   */
  ssMaxPayload: number | null;
  /**
   * `"ss capacity"`: the sessions the daemon raises the instance's
   * `ss-capacity` to while it runs (Jool 4.1.11 and later), or null (the key
   * is false) to leave it alone.
   */
  ssCapacity: number | null;
  /**
   * `"ss flush asap"`: whether the daemon turns the instance's
   * `ss-flush-asap` on while it runs if it is off (Jool 4.1.12 and earlier).
   */
  ssFlushAsap: boolean;
  /**
   * `"ss flush deadline"`: the milliseconds the daemon lowers the instance's
   * `ss-flush-deadline` to while it runs, nudging the kernel once it has
   * passed (Jool 4.1.13 and later), or null (the key is false) to do
   * neither.
   */
  ssFlushDeadline: number | null;
  /**
   * `"netlink receive buffer"`: the bytes asked for the netlink socket's
   * receive buffer (the kernel doubles it), where the kernel's batches wait
   * while the daemon is busy; when it is full the kernel drops batches
   * (ENOBUFS) and the daemon has the table advertised. Absent (configs made
   * in code): {@link RECEIVE_BUFFER_BYTES}, the default.
   */
  netlinkReceiveBuffer?: number;
}

/** A checked configuration and the warnings (unknown keys) met on the way. */
export interface ModsocketResult {
  config: ModsocketConfig;
  /** One line each, ready to print. */
  warnings: string[];
}

/** Each key: its name in the file and how it fills the config. */
const FIELDS = {
  "instance": (member: JsonMember, file: string, config: ModsocketConfig) => {
    config.instance = parseInstance(member, file);
  },
  "enable ss": (member: JsonMember, file: string, config: ModsocketConfig) => {
    config.enableSs = parseBoolean(member, file);
  },
  "ss max payload": (member: JsonMember, file: string, config: ModsocketConfig) => {
    config.ssMaxPayload = parseRaisedGlobal(member, file, {
      min: MIN_SS_MAX_PAYLOAD,
      max: MAX_SS_MAX_PAYLOAD,
      unit: "a number of bytes",
      global: "ss-max-payload",
    });
  },
  "ss capacity": (member: JsonMember, file: string, config: ModsocketConfig) => {
    config.ssCapacity = parseRaisedGlobal(member, file, {
      min: MIN_SS_CAPACITY,
      max: MAX_SS_CAPACITY,
      unit: "a number of sessions",
      global: "ss-capacity",
    });
  },
  "ss flush asap": (member: JsonMember, file: string, config: ModsocketConfig) => {
    config.ssFlushAsap = parseBoolean(member, file);
  },
  "ss flush deadline": (member: JsonMember, file: string, config: ModsocketConfig) => {
    config.ssFlushDeadline = parseRaisedGlobal(member, file, {
      min: MIN_SS_FLUSH_DEADLINE,
      max: MAX_SS_FLUSH_DEADLINE,
      unit: "a number of milliseconds",
      global: "ss-flush-deadline",
    });
  },
  "netlink receive buffer": (member: JsonMember, file: string, config: ModsocketConfig) => {
    const value = member.value;
    if (
      typeof value === "number" && Number.isInteger(value) &&
      value >= MIN_NETLINK_RECEIVE_BUFFER && value <= MAX_NETLINK_RECEIVE_BUFFER
    ) {
      config.netlinkReceiveBuffer = value;
      return;
    }
    throw new ConfigError(
      file,
      member.key,
      `must be a number of bytes from ${MIN_NETLINK_RECEIVE_BUFFER} to ` +
        `${MAX_NETLINK_RECEIVE_BUFFER}, got ${
          typeof value === "number" ? String(value) : jsonTypeName(value)
        }`,
    );
  },
} as const;

/** The keys of the file. */
export const MODSOCKET_KEYS: readonly string[] = Object.keys(FIELDS);

/**
 * Checks the text of a modsocket file.
 *
 * @param text The file's contents (JSON with comments and trailing commas).
 * @param file The path to name in messages, as the user gave it.
 * @throws {ConfigError} At the first problem, e.g.
 * `mod.json: "instance": must be a string, got a number`.
 */
export function parseModsocketConfig(text: string, file: string): ModsocketResult {
  const { found, warnings } = selectKeys(parseConfigObject(text, file), file, MODSOCKET_KEYS);
  const config: ModsocketConfig = { ...defaultModsocketConfig().config, file };
  for (const [key, apply] of Object.entries(FIELDS)) {
    const member = found.get(key);
    if (member !== undefined) apply(member, file, config);
  }
  return { config, warnings };
}

/**
 * Reads and checks a modsocket file.
 *
 * @throws {ConfigError} If the file cannot be read or is not a valid
 * configuration; see {@link parseModsocketConfig}.
 */
export async function loadModsocketConfig(file: string): Promise<ModsocketResult> {
  return parseModsocketConfig(await readConfigFile(file), file);
}

/**
 * The kernel takes any byte from 32 up (and a signed `char` turns UTF-8 into
 * negative, refused bytes), so printable ASCII is what works.
 */
function parseInstance(member: JsonMember, file: string): string {
  const value = member.value;
  const fail = (problem: string): never => {
    throw new ConfigError(file, member.key, problem);
  };
  if (typeof value !== "string") return fail(`must be a string, got ${jsonTypeName(value)}`);
  const name = parseInstanceName(value, JSON.stringify(value));
  return isProblem(name) ? fail(name.problem) : name;
}

/** The accepted values of a key naming what the daemon raises (or lowers) a global to. */
interface RaisedGlobalRange {
  min: number;
  max: number;
  /** What the number counts, e.g. "a number of bytes". */
  unit: string;
  /** The global's name in `jool global`, e.g. "ss-capacity". */
  global: string;
}

/** An integer in the range, or false (null: leave the global alone). */
function parseRaisedGlobal(
  member: JsonMember,
  file: string,
  range: RaisedGlobalRange,
): number | null {
  const value = member.value;
  if (value === false) return null;
  if (
    typeof value === "number" && Number.isInteger(value) && value >= range.min &&
    value <= range.max
  ) {
    return value;
  }
  const got = typeof value === "number" ? String(value) : jsonTypeName(value);
  throw new ConfigError(
    file,
    member.key,
    `must be ${range.unit} from ${range.min} to ${range.max}, or false ` +
      `to leave the instance's ${range.global} alone; got ${got}`,
  );
}

function parseBoolean(member: JsonMember, file: string): boolean {
  const value = member.value;
  if (typeof value === "boolean") return value;
  const hint = value === "true" || value === "false" ? `; write ${value} without quotes` : "";
  throw new ConfigError(
    file,
    member.key,
    `must be true or false, got ${jsonTypeName(value)}${hint}`,
  );
}

/**
 * Like {@link loadModsocketConfig}, but when the user named no file
 * (`defaulted`) and the default file does not exist, returns the man
 * page's defaults (instance "default") instead of failing.
 */
export async function loadModsocketConfigOrDefault(
  file: string,
  defaulted: boolean,
): Promise<ModsocketResult> {
  if (defaulted && !fileExists(file)) return defaultModsocketConfig();
  return await loadModsocketConfig(file);
}

/** `ModsocketConfig.file` of the defaults: no file was read. */
export const NO_MODSOCKET_FILE = "(none)";

/** The man page's defaults, used when no MODSOCKET file was named nor exists. */
export function defaultModsocketConfig(): ModsocketResult {
  return {
    config: {
      file: NO_MODSOCKET_FILE,
      instance: DEFAULT_INSTANCE,
      enableSs: true,
      ssMaxPayload: DEFAULT_SS_MAX_PAYLOAD,
      ssCapacity: DEFAULT_SS_CAPACITY,
      ssFlushAsap: true,
      ssFlushDeadline: DEFAULT_SS_FLUSH_DEADLINE,
      netlinkReceiveBuffer: RECEIVE_BUFFER_BYTES,
    },
    warnings: [],
  };
}

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
