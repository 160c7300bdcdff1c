/**
 * Repairs the sessions our own kernel dropped before any daemon saw them.
 * When the instance's joold queue is full the kernel drops new sessions:
 * no batch carries them, so no sequence number misses them, and only the
 * table still has them. The watch tells when that happened and, once the
 * burst is over, asks the advertiser to offer the whole table (within its
 * rate: docs/lossless.md, "The kernel's own drops"):
 *
 * - Jool 4.1.12 and later count the drops (JSTAT_JOOLD_SSS_ENOSPC): read
 *   every {@link DROP_POLL_INTERVAL_MS}, one small request.
 * - Jool 4.1.10 and earlier count nothing, but a batch comes full only when
 *   a session did not fit it, and that session, and every one after it
 *   until the batch leaves, is set aside and never sent. A batch is full
 *   when one more session would not have fitted the room the kernel had:
 *   at least `ss-max-payload` less the headers, read at start, and at least
 *   the largest batch seen (the kernel rounds its buffer up).
 * - Jool 4.1.11 counts nothing and its batches tell nothing: the watch does
 *   nothing there.
 *
 * The offer waits until the drops stop ({@link DROP_QUIET_MS} without one,
 * at most {@link DROP_MAX_WAIT_MS} after the first): an advertisement in
 * the middle of a burst would miss the sessions dropped after it.
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import { formatVersion, JOOL_HEADER_LENGTH } from "../jool/header.ts";
import { kernelUsesMaxPayload } from "../jool/kernel_behaviour.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import { sessionEncodingFor, sessionEntryLength } from "../jool/session.ts";
import { jooldStatId } from "../jool/stats.ts";
import { type Logger, RateLimiter } from "../log.ts";
import { NLA_HDRLEN } from "../netlink/attribute.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
import { OWN_ADVERTISE_INTERVAL_MS } from "./advertiser.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { LocalJool } from "./local_jool.ts";
import type { SyncPath } from "./sync_path.ts";

/** How often the drop counter is read (and a burst's end looked for). */
export const DROP_POLL_INTERVAL_MS = 1_000;

/** A burst is over once no drop was seen for this long. */
export const DROP_QUIET_MS = 2_000;

/** The table is offered at most this long after a burst's first drop, even if drops go on. */
export const DROP_MAX_WAIT_MS = 10_000;

/** A failed read is logged at most once per this interval (the rest counted). */
export const READ_FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * The headers in the kernel's batch buffer beyond the `ss-max-payload`
 * bytes it asks room for (genlmsg_new() adds the netlink and genetlink
 * ones): the Jool header and the SESSION_ENTRIES attribute's.
 */
const BATCH_HEADERS = JOOL_HEADER_LENGTH + NLA_HDRLEN;

/** What the watch works with. */
export interface KernelDropWatchDeps {
  /** The drop counter (4.1.12+), `ss-max-payload` (4.1.10 and earlier). */
  kernel: Pick<KernelLink, "readStats" | "readGlobalNumber">;
  /** Its version says which way drops show (null: not known yet, nothing done). */
  jool: Pick<LocalJool, "version">;
  /** Offers the whole table to the peers (`Advertiser.offerForKernelDrops`). */
  offer(reason: string): void;
  counters: SyncCounters;
  logger: Logger;
  clock: Clock;
}

/** Drops seen since the last offer. */
interface Burst {
  firstMs: number;
  lastMs: number;
  /** Sessions dropped (4.1.12+), or full batches (4.1.10 and earlier). */
  count: number;
}

/** Watches for the kernel's own drops; see the module's doc. */
export class KernelDropWatch {
  readonly #deps: KernelDropWatchDeps;
  #timer: TimerHandle | null = null;
  /** A request under way: the next tick does not add one. */
  #reading = false;
  /** The drop counter as last read; null before the first reading. */
  #dropped: bigint | null = null;
  /** `ss-max-payload` (4.1.10 and earlier); null until read. */
  #maxPayload: number | null = null;
  /** The largest batch payload seen, in bytes. */
  #largestBatch = 0;
  #burst: Burst | null = null;
  readonly #readFailureLog = new RateLimiter(READ_FAILURE_LOG_INTERVAL_MS);
  readonly #offerLog = new RateLimiter(OWN_ADVERTISE_INTERVAL_MS);
  /** What the offers since the last line logged were for. */
  #untold = { count: 0, offers: 0 };
  #toldNothingCounted = false;

  constructor(deps: KernelDropWatchDeps) {
    this.#deps = deps;
  }

  /** Starts watching, every {@link DROP_POLL_INTERVAL_MS}. */
  start(): void {
    this.#timer = this.#deps.clock.repeat(() => {
      this.tick().catch((error) =>
        this.#deps.logger.error(`The kernel drop watch failed: ${errorText(error)}`)
      );
    }, DROP_POLL_INTERVAL_MS);
  }

  /** Stops watching (at exit): a burst not offered for yet is not (the next start offers the table). */
  stop(): void {
    if (this.#timer !== null) this.#deps.clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  /**
   * A kernel batch of `payloadBytes` bytes of sessions came in (after the
   * relay took it, so its version is known): on Jool 4.1.10 and earlier, a
   * full one means sessions were set aside.
   */
  batchArrived(payloadBytes: number): void {
    const version = this.#deps.jool.version;
    if (this.#timer === null || version === null || !kernelUsesMaxPayload(version)) return;
    if (this.#maxPayload === null) return;
    this.#largestBatch = Math.max(this.#largestBatch, payloadBytes);
    const room = Math.max(this.#maxPayload - BATCH_HEADERS, this.#largestBatch);
    if (payloadBytes + sessionEntryLength(sessionEncodingFor(version)) <= room) return;
    this.#deps.counters.kernelFullBatches++;
    this.#sawDrops(1);
  }

  /** One poll: reads what the version needs, then offers the table if a burst is over. */
  async tick(): Promise<void> {
    const version = this.#deps.jool.version;
    if (version !== null && !this.#reading) {
      this.#reading = true;
      try {
        await this.#read(version);
      } catch (error) {
        if (this.#timer !== null) this.#readFailed(error);
      } finally {
        this.#reading = false;
      }
    }
    this.#offerIfOver();
  }

  async #read(version: number): Promise<void> {
    const { kernel, logger } = this.#deps;
    if (kernelUsesMaxPayload(version)) {
      if (this.#maxPayload !== null) return;
      this.#maxPayload = await kernel.readGlobalNumber(GlobalAttribute.JOOLD_MAX_PAYLOAD);
      if (this.#maxPayload === null) throw new Error("the kernel does not report ss-max-payload");
      return;
    }
    const id = jooldStatId(version, "JOOLD_SSS_ENOSPC");
    if (id === null) {
      if (!this.#toldNothingCounted) {
        logger.info(
          `Jool ${formatVersion(version)} does not count the sessions its full joold queue ` +
            "drops, nor do its batches show them: this daemon cannot offer the table for them",
        );
      }
      this.#toldNothingCounted = true;
      return;
    }
    const dropped = (await kernel.readStats()).get(id);
    if (dropped === undefined) throw new Error(`the kernel sent no JSTAT_JOOLD_SSS_ENOSPC (${id})`);
    // The first reading, or a counter that went back (the instance made
    // anew), is where counting starts: the start's own offer covers before.
    if (this.#dropped !== null && dropped > this.#dropped) {
      const more = Number(dropped - this.#dropped);
      this.#deps.counters.kernelDrops += more;
      this.#sawDrops(more);
    }
    this.#dropped = dropped;
  }

  /** Drops seen now: `count` sessions, or full batches. */
  #sawDrops(count: number): void {
    const now = this.#deps.clock.monotonic();
    this.#burst ??= { firstMs: now, lastMs: now, count: 0 };
    this.#burst.lastMs = now;
    this.#burst.count += count;
  }

  #offerIfOver(): void {
    const burst = this.#burst;
    if (burst === null) return;
    const { clock, counters, logger } = this.#deps;
    const now = clock.monotonic();
    if (now - burst.lastMs < DROP_QUIET_MS && now - burst.firstMs < DROP_MAX_WAIT_MS) return;
    this.#burst = null;
    const byBatches = this.#maxPayload !== null;
    const reason = byBatches
      ? `the kernel set sessions aside in ${plural(burst.count, "full batch", "full batches")}`
      : `the kernel dropped ${plural(burst.count, "session", "sessions")}`;
    counters.kernelDropOffers++;
    this.#untold.count += burst.count;
    this.#untold.offers++;
    if (this.#offerLog.allow("offer", clock.now()) !== null) {
      const { count, offers } = this.#untold;
      const what = byBatches
        ? `The kernel sent ${plural(count, "full batch", "full batches")}, whose sessions ` +
          "that did not fit were set aside and never sent"
        : `The kernel's joold queue was full and dropped ${plural(count, "session", "sessions")}`;
      const since = offers > 1 ? ` (over ${offers} bursts since the last line)` : "";
      logger.warning(`${what}${since}: offering the session table to the peers`);
      this.#untold = { count: 0, offers: 0 };
    }
    this.#deps.offer(reason);
  }

  #readFailed(error: unknown): void {
    const { counters, logger, clock } = this.#deps;
    counters.kernelStatsFailures++;
    const suppressed = this.#readFailureLog.allow("read", clock.now());
    if (suppressed === null) return;
    logger.warning(
      `Cannot read the kernel's counters for its drops: ${errorText(error)}` +
        (suppressed > 0 ? ` (and ${suppressed} more failures since the last line)` : ""),
    );
  }
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * The offers of our table that belong to reliable delivery, started over a
 * wired sync path: after the start (what the kernel made while no daemon
 * relayed it), and after the kernel's own drops (the watch, returned to be
 * stopped at exit). With `reliableDelivery` off: neither, and null.
 */
export function startOwnOffers(
  sync: Pick<SyncPath, "advertiser" | "onKernelBatch">,
  deps: Omit<KernelDropWatchDeps, "offer">,
  reliableDelivery: boolean,
): KernelDropWatch | null {
  if (!reliableDelivery) return null;
  sync.advertiser.offerAfterStart();
  const watch = new KernelDropWatch({
    ...deps,
    offer: (reason) => sync.advertiser.offerForKernelDrops(reason),
  });
  sync.onKernelBatch = (payloadBytes) => watch.batchArrived(payloadBytes);
  watch.start();
  return watch;
}
