/**
 * Notices, within seconds, that the kernel side of sync is gone: every few
 * seconds it probes the instance (an empty JOOLD_ADD, the same check as at
 * start). Without it, a daemon whose Jool module was reloaded, or whose
 * instance was removed, runs on and syncs nothing: the kernel sends it
 * nothing more, and its adds fail one by one, unseen while no peer sends.
 *
 * - Session sync turned off: turned on again (unless the modsocket says
 *   `"enable ss": false`: then logged once).
 * - The instance or the Jool family gone (module unloaded): fatal. The
 *   daemon exits non-zero and the service manager starts it again, which
 *   re-resolves the family, rejoins the group, re-probes and resyncs: one
 *   well-tested path instead of a second one that rebuilds everything in
 *   place.
 * - No answer, or another failure: logged; fatal after a few in a row.
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import type { Logger } from "../log.ts";
import { NetlinkError } from "../netlink/client.ts";
import { isSyncDisabledRefusal, KernelRefusalError } from "../sync/kernel_errors.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
import type { Clock, TimerHandle } from "./clock.ts";

/**
 * How often the instance is probed: a probe is one small request, and the
 * module or the instance gone must end the daemon well within 5 s (a probe
 * every 2 s took up to 5.5 s in a burst under an emulated CPU).
 */
export const WATCHDOG_INTERVAL_MS = 1_000;

/** Probes that may fail in a row, for reasons other than the above, before it is fatal. */
export const MAX_FAILED_PROBES = 3;

/** errno of a request to a Generic Netlink family that is not registered. */
const ENOENT = 2;

/** What the watchdog works with. */
export interface KernelWatchdogDeps {
  kernel: Pick<KernelLink, "probe" | "instance">;
  clock: Clock;
  logger: Logger;
  /** Turns session sync back on, if the modsocket allows; logs what it did. */
  enableSync(): Promise<void>;
  /** The kernel side is gone: stop the daemon with this reason, non-zero. */
  fatal(reason: string): void;
}

/** Probes the instance periodically; see the module's doc. */
export class KernelWatchdog {
  readonly #deps: KernelWatchdogDeps;
  #timer: TimerHandle | null = null;
  #probing = false;
  #failures = 0;

  constructor(deps: KernelWatchdogDeps) {
    this.#deps = deps;
  }

  /** Starts probing every {@link WATCHDOG_INTERVAL_MS}. */
  start(): void {
    this.#timer = this.#deps.clock.repeat(() => {
      this.check().catch((error) => this.#deps.fatal(`The watchdog failed: ${errorText(error)}`));
    }, WATCHDOG_INTERVAL_MS);
  }

  /** Stops probing. */
  stop(): void {
    if (this.#timer !== null) this.#deps.clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  /** One probe and what follows from it (skipped while the previous one is under way). */
  async check(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    const { kernel, logger } = this.#deps;
    try {
      await kernel.probe();
      if (this.#failures > 0) logger.info("The kernel answers the instance probe again");
      this.#failures = 0;
    } catch (error) {
      // A probe under way when the daemon stopped ends with the link's closing: no failure.
      if (this.#timer === null) return;
      if (isSyncDisabledRefusal(error)) {
        logger.warning(`Session sync was turned off on instance '${kernel.instance}'`);
        await this.#deps.enableSync().catch((failure) =>
          logger.error(`Cannot turn session sync back on: ${errorText(failure)}`)
        );
        return;
      }
      const gone = goneReason(error, kernel.instance);
      if (gone !== null) {
        this.#deps.fatal(gone);
        return;
      }
      this.#failures++;
      logger.error(
        `The instance probe failed (${this.#failures} of ${MAX_FAILED_PROBES}): ${
          errorText(error)
        }`,
      );
      if (this.#failures >= MAX_FAILED_PROBES) {
        this.#deps.fatal(
          `The kernel failed ${this.#failures} instance probes in a row: ${errorText(error)}`,
        );
      }
    } finally {
      this.#probing = false;
    }
  }
}

/** Why `error` means the kernel side is gone for good, or null if it does not. */
function goneReason(error: unknown, instance: string): string | null {
  if (error instanceof NetlinkError && error.errno === ENOENT) {
    return "The Jool kernel module went away (its Generic Netlink family is gone: unloaded?)";
  }
  if (error instanceof KernelRefusalError) {
    return `The Jool instance '${instance}' is gone or refuses sync: ${error.message}`;
  }
  return null;
}
