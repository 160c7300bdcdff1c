/**
 * Setting the instance up for sync and putting it back at exit: session
 * sync turned on if it is off (unless the modsocket file says not to), and
 * the globals that size the kernel's queue and decide how long a session
 * waits in it changed while the daemon runs (which ones, on which Jool:
 * src/sync/instance_tuning.ts), with the values found recorded in a state
 * file first (src/daemon/tuning_state.ts), so that a start after a SIGKILL
 * still knows and puts back the operator's values.
 *
 * @module
 */

import type { ModsocketConfig } from "../config/modsocket.ts";
import { errorText } from "../error_text.ts";
import { globalUpdateCommand, ssEnableCommand } from "../jool/cli_hint.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import type { Logger } from "../log.ts";
import {
  alreadyTuned,
  type GlobalTuning,
  instanceTunings,
  SWITCH,
  tunedValueText,
} from "../sync/instance_tuning.ts";
import { isSyncDisabledRefusal, type KernelRefusalError } from "../sync/kernel_errors.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
import {
  type TuningState,
  type TuningStateEntry,
  TuningStateError,
  type TuningStateStore,
} from "./tuning_state.ts";

/** What the setup asks of the kernel. */
export type InstanceControl = Pick<
  KernelLink,
  "probe" | "updateGlobal" | "readGlobalNumber" | "setGlobalNow"
>;

/** A global changed at start, with the operator's value: what goes back at exit. */
interface ChangedGlobal {
  type: number;
  name: string;
  original: number;
  /** The operator's value as the log shows it. */
  originalText: string;
}

/** What the log says of changing `tuning`'s global from `found`. */
function changeText(tuning: GlobalTuning, found: number): string {
  const { name, unit, wanted } = tuning;
  if (unit === SWITCH) return `Turned ${name} on`;
  const verb = tuning.direction === "raise" ? "Raised" : "Lowered";
  return `${verb} ${name} from ${found} to ${wanted} ${unit}`;
}

/** What the log says of a global's value that needs no change. */
function settledText(tuning: GlobalTuning, found: number): string {
  const unit = tuning.unit === SWITCH ? "" : ` ${tuning.unit}`;
  return `${tuning.name} is ${tunedValueText(tuning, found)}${unit} already`;
}

/**
 * How the operator keeps `tuning`'s global as it is, for the log line:
 * `set "ss capacity": false in FILE` for the daemon (its modsocket key).
 */
export type TuningOptOut = (tuning: GlobalTuning) => string;

/** The daemon's opt-out: the tuning's key in the modsocket file. */
function modsocketOptOut(modsocket: ModsocketConfig): TuningOptOut {
  return (tuning) => `set "${tuning.key}": false in ${modsocket.file}`;
}

/** Turns sync on, changes the queue's globals, and puts them back. */
export class InstanceSetup {
  readonly #kernel: InstanceControl;
  readonly #modsocket: ModsocketConfig;
  readonly #logger: Logger;
  /** The globals we changed, with the operator's values: put back at exit. */
  readonly #changed: ChangedGlobal[] = [];
  /** Where the operator's values are kept while changed; null: nowhere. */
  readonly #store: TuningStateStore | null;
  /** What the state file says now. */
  readonly #recorded: TuningState = new Map();
  /** False once the state file could not be written (said once). */
  #storeWritable = true;
  /** Whether {@link tune} ran: only then is the state file this run's to remove. */
  #tuned = false;
  readonly #optOut: TuningOptOut;

  /**
   * `optOut`: how the log line tells the operator to keep a global as it
   * is (default: the modsocket file's key).
   */
  constructor(
    kernel: InstanceControl,
    modsocket: ModsocketConfig,
    logger: Logger,
    store: TuningStateStore | null = null,
    optOut: TuningOptOut = modsocketOptOut(modsocket),
  ) {
    this.#kernel = kernel;
    this.#modsocket = modsocket;
    this.#logger = logger;
    this.#store = store;
    this.#optOut = optOut;
  }

  /**
   * Probes the instance (an empty JOOLD_ADD: the kernel checks the instance
   * and its SS state). A missing instance is fatal (KernelRefusalError); SS
   * off is turned on unless the modsocket file says `"enable ss": false`.
   */
  async enableSync(): Promise<void> {
    const modsocket = this.#modsocket;
    const refusal = await this.#syncDisabled();
    if (refusal === null) {
      this.#logger.info(`Session sync is enabled on instance '${modsocket.instance}'`);
      return;
    }
    if (!modsocket.enableSs) {
      // The instance exists; SS can be enabled later without restarting us.
      this.#logger.error(
        `${refusal.message}; enable it with \`${ssEnableCommand(modsocket.instance)}\` ` +
          `(${modsocket.file} says "enable ss": false, so joold leaves it alone)`,
      );
      return;
    }
    await this.#kernel.updateGlobal(
      { type: GlobalAttribute.JOOLD_ENABLED, value: true },
      "ss-enabled on the instance",
    );
    const stillDisabled = await this.#syncDisabled();
    if (stillDisabled !== null) throw stillDisabled;
    this.#logger.info(
      `Session sync was disabled on instance '${modsocket.instance}'; joold enabled it ` +
        `(set "enable ss": false in ${modsocket.file} to prevent this)`,
    );
  }

  /** The kernel's refusal if SS is off on the instance; null if it is on. */
  async #syncDisabled(): Promise<KernelRefusalError | null> {
    try {
      await this.#kernel.probe();
      return null;
    } catch (error) {
      if (isSyncDisabledRefusal(error)) return error;
      throw error;
    }
  }

  /**
   * Changes the globals that size the kernel's queue and decide how long a
   * session waits in it, on a Jool of `kernelVersion` (null: unknown), each
   * only in its direction (a value already past the wanted one is left
   * alone), and put back by {@link restore}. The value found is recorded in
   * the state file before a global is changed; a value found that is the
   * one a killed daemon recorded as set is its leftover, and the operator's
   * value recorded with it is what goes back. Failures are logged, not
   * fatal: sync works without them.
   */
  async tune(kernelVersion: number | null): Promise<void> {
    const logger = this.#logger;
    this.#tuned = true;
    const leftovers = this.#loadState();
    for (const tuning of instanceTunings(this.#modsocket, kernelVersion)) {
      const { type, name, wanted } = tuning;
      const leftover = leftovers.get(name);
      leftovers.delete(name);
      try {
        const found = await this.#kernel.readGlobalNumber(type);
        if (found === null) {
          logger.warning(`The kernel does not report ${name}; leaving it alone`);
          continue;
        }
        const original = this.#originalOf(name, found, leftover);
        const originalText = tunedValueText(tuning, original);
        if (alreadyTuned(tuning, found)) {
          if (original === found) logger.info(settledText(tuning, found));
          else this.#keepChanged({ type, name, original, originalText }, found);
          continue;
        }
        this.#record(name, { type, original, raised: wanted });
        await this.#kernel.updateGlobal({ type, value: wanted }, name);
        this.#changed.push({ type, name, original, originalText });
        logger.info(
          `${changeText(tuning, found)}, so that ${tuning.reason}; it goes back to ` +
            `${originalText} at exit (${this.#optOut(tuning)} to prevent this)`,
        );
      } catch (error) {
        const verb = tuning.direction === "raise" ? "raise" : "lower";
        logger.warning(`Cannot ${verb} ${name} (sync works without it): ${errorText(error)}`);
      }
    }
    // Changed by a killed daemon, and no longer changed by us (the modsocket file changed).
    for (const [name, leftover] of leftovers) {
      try {
        const found = await this.#kernel.readGlobalNumber(leftover.type);
        if (found === null) continue;
        const original = this.#originalOf(name, found, leftover);
        if (original !== found) {
          const originalText = String(original);
          this.#keepChanged({ type: leftover.type, name, original, originalText }, found);
        }
      } catch (error) {
        logger.warning(`Cannot read ${name}: ${errorText(error)}`);
      }
    }
  }

  /**
   * The operator's value of a global the kernel shows as `found`: the one
   * in the state file if `found` is what a killed daemon set it to (its
   * leftover), else `found` (the operator changed it since: the entry is
   * stale).
   */
  #originalOf(name: string, found: number, leftover: TuningStateEntry | undefined): number {
    if (leftover === undefined) return found;
    if (found !== leftover.raised) {
      this.#logger.info(
        `${name} is ${found}, not the ${leftover.raised} a joold that did not stop cleanly ` +
          `set it to (${this.#store!.path}): the operator changed it since; ${found} counts`,
      );
      return found;
    }
    this.#logger.info(
      `${name} is ${found}, set by a joold that did not stop cleanly; the operator's ` +
        `${leftover.original} from ${this.#store!.path} goes back at exit`,
    );
    return leftover.original;
  }

  /** A killed daemon's change that we keep as it is, and put back at exit. */
  #keepChanged(global: ChangedGlobal, found: number): void {
    this.#record(global.name, { type: global.type, original: global.original, raised: found });
    this.#changed.push(global);
  }

  /** The state file's entries (none if there is no file, or an unusable one: said). */
  #loadState(): TuningState {
    if (this.#store === null) return new Map();
    try {
      return this.#store.load() ?? new Map();
    } catch (error) {
      const problem = error instanceof TuningStateError
        ? error.message
        : `Cannot read the state file ${this.#store.path}: ${errorText(error)}`;
      this.#logger.warning(
        `${problem}; ignoring it: the values the instance shows now count as the operator's`,
      );
      return new Map();
    }
  }

  /** Records a changed global in the state file, before changing it. */
  #record(name: string, entry: TuningStateEntry): void {
    this.#recorded.set(name, entry);
    if (this.#store === null || !this.#storeWritable) return;
    try {
      this.#store.save(this.#recorded);
    } catch (error) {
      this.#storeWritable = false;
      this.#logger.warning(
        `Cannot write the state file ${this.#store.path}: ${errorText(error)}; changed globals ` +
          "go back at a clean stop, but after a SIGKILL the next start cannot put them back",
      );
    }
  }

  /** Who puts back `name` when we could not: the next start (state file), else the operator. */
  #repairHint(name: string, originalText: string): string {
    if (this.#store !== null && this.#storeWritable) {
      return `the next joold start puts it back (${this.#store.path} keeps it)`;
    }
    return `put it back with \`${
      globalUpdateCommand(this.#modsocket.instance, name, originalText)
    }\``;
  }

  /**
   * Puts back the globals found at start, where we changed them, without
   * waiting for the kernel's answer: at exit nothing reads the socket.
   */
  restore(): void {
    let failed = false;
    for (const { type, name, original, originalText } of this.#changed.splice(0)) {
      try {
        this.#kernel.setGlobalNow({ type, value: original });
        this.#logger.info(`Put ${name} back to ${originalText}`);
      } catch (error) {
        failed = true;
        this.#logger.warning(
          `Cannot put ${name} back to ${originalText}: ${errorText(error)}; ` +
            this.#repairHint(name, originalText),
        );
      }
    }
    // Kept if a value did not go back: the next start can still put it back.
    if (this.#store === null || !this.#tuned || failed) return;
    this.#tuned = false;
    try {
      this.#store.remove();
    } catch (error) {
      this.#logger.warning(`Cannot remove the state file ${this.#store.path}: ${errorText(error)}`);
    }
  }
}
