/**
 * Setting the instance up for sync and putting it back at exit: session
 * sync turned on if it is off (unless the modsocket file says not to), and
 * the globals that size the kernel's queue raised while the daemon runs
 * (which ones, on which Jool: src/sync/instance_tuning.ts).
 *
 * @module
 */

import type { ModsocketConfig } from "../config/modsocket.ts";
import { errorText } from "../error_text.ts";
import { ssEnableCommand } from "../jool/cli_hint.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import type { Logger } from "../log.ts";
import { instanceTunings } from "../sync/instance_tuning.ts";
import { isSyncDisabledRefusal, type KernelRefusalError } from "../sync/kernel_errors.ts";
import type { KernelLink } from "../sync/kernel_link.ts";

/** What the setup asks of the kernel. */
export type InstanceControl = Pick<
  KernelLink,
  "probe" | "updateGlobal" | "readGlobalU32" | "setGlobalNow"
>;

/** A global raised at start, with the value found then. */
interface RaisedGlobal {
  type: number;
  name: string;
  found: number;
}

/** Turns sync on, raises the queue's globals, and puts them back. */
export class InstanceSetup {
  readonly #kernel: InstanceControl;
  readonly #modsocket: ModsocketConfig;
  readonly #logger: Logger;
  /** The globals we raised, with the values found at start: put back at exit. */
  readonly #raised: RaisedGlobal[] = [];

  constructor(kernel: InstanceControl, modsocket: ModsocketConfig, logger: Logger) {
    this.#kernel = kernel;
    this.#modsocket = modsocket;
    this.#logger = logger;
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
   * Raises the globals that size the kernel's queue of sessions awaiting our
   * ACK on a Jool of `kernelVersion` (null: unknown): raised only, never
   * lowered, and put back by {@link restore}. Failures are logged, not
   * fatal: sync works without them.
   */
  async tune(kernelVersion: number | null): Promise<void> {
    const logger = this.#logger;
    for (const tuning of instanceTunings(this.#modsocket, kernelVersion)) {
      const { type, name, unit, wanted } = tuning;
      try {
        const found = await this.#kernel.readGlobalU32(type);
        if (found === null) {
          logger.warning(`The kernel does not report ${name}; leaving it alone`);
          continue;
        }
        if (found >= wanted) {
          logger.info(`${name} is ${found} ${unit} already`);
          continue;
        }
        await this.#kernel.updateGlobal({ type, value: wanted }, name);
        this.#raised.push({ type, name, found });
        logger.info(
          `Raised ${name} from ${found} to ${wanted} ${unit}, so that ${tuning.reason}; it goes ` +
            `back to ${found} at exit (set "${tuning.key}": false in ${this.#modsocket.file} ` +
            "to prevent this)",
        );
      } catch (error) {
        logger.warning(`Cannot raise ${name} (sync works without it): ${errorText(error)}`);
      }
    }
  }

  /**
   * Puts back the globals found at start, where we raised them, without
   * waiting for the kernel's answer: at exit nothing reads the socket.
   */
  restore(): void {
    for (const { type, name, found } of this.#raised.splice(0)) {
      try {
        this.#kernel.setGlobalNow({ type, value: found });
        this.#logger.info(`Put ${name} back to ${found}`);
      } catch (error) {
        this.#logger.warning(`Cannot put ${name} back to ${found}: ${errorText(error)}`);
      }
    }
  }
}
