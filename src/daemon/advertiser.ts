/**
 * Sending our whole session table to the peers: in answer to a peer's
 * resync request, and after the kernel dropped batches on their way to us
 * (an overrun). Jool 4.1.11 and later do it themselves on JOOLD_ADVERTISE,
 * through the ordinary relay; for older ones the daemon reads the table and
 * sends it as ordinary batches (src/sync/table_dump.ts).
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import { formatVersion } from "../jool/header.ts";
import { kernelAdvertises } from "../jool/kernel_behaviour.ts";
import { sessionEncodingFor } from "../jool/session.ts";
import type { Logger } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
import { dumpSessionTable } from "../sync/table_dump.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { sessionDatagramBytes } from "./kernel_to_network.ts";
import type { LocalJool } from "./local_jool.ts";
import type { SyncMeasures } from "./measures.ts";
import type { GroupSender } from "./peer_channel.ts";

/** Local re-advertisements after overruns: at most one per this interval. */
export const OVERRUN_ADVERTISE_INTERVAL_MS = 5_000;

/**
 * Our own offers of the table (after failed sends, after a start): at most
 * one per this interval; one asked for sooner waits for its end.
 */
export const OWN_ADVERTISE_INTERVAL_MS = 30_000;

/** A start's offer of the table waits this long: the resync exchange goes first. */
export const START_OFFER_DELAY_MS = 3_000;

/** Between two pages of a table dump: spreads a large table's datagrams out. */
const DUMP_PAGE_PAUSE_MS = 1;

/** What the advertiser works with. */
export interface AdvertiserDeps {
  /** JOOLD_ADVERTISE, and the table's pages for a dump. */
  kernel: Pick<KernelLink, "advertise" | "sessionPage">;
  /** The group, for a dump. */
  sender: GroupSender;
  /** Its version says which way to advertise. */
  jool: LocalJool;
  /** The time of the last sync. */
  measures: SyncMeasures;
  counters: SyncCounters;
  logger: Logger;
  clock: Clock;
  /** Bytes the channel adds to each datagram (sealing); default 0. */
  datagramOverhead?: number;
}

/** Advertises the table, one way or the other. */
export class Advertiser {
  readonly #deps: AdvertiserDeps;
  #lastOverrunAdvertiseMs = 0;
  /** The table dump under way, if any: one serves every request, it goes to the group. */
  #dump: Promise<void> | null = null;
  #closed = false;
  /** Offers after a start and after failed sends. */
  readonly #ownOffers: PacedOffer;
  /**
   * Offers for sessions our kernel dropped, paced on their own: a start's
   * offer must not hold back the repair of a burst that came just after.
   */
  readonly #dropOffers: PacedOffer;
  /** Told as each advertisement begins (lossless delivery's LEDGERs say so); null: nobody. */
  onAdvertise: (() => void) | null = null;

  constructor(deps: AdvertiserDeps) {
    this.#deps = deps;
    const advertise = (reason: string) => {
      if (!this.#closed) this.advertise(reason).catch(() => {});
    };
    this.#ownOffers = new PacedOffer(deps.clock, advertise);
    this.#dropOffers = new PacedOffer(deps.clock, advertise);
  }

  /**
   * Sends our whole table to the peers; logs failures. `reason` is for the
   * log; one that starts with "resync" counts as a resync answer.
   */
  async advertise(reason: string): Promise<void> {
    const { kernel, jool, logger, counters } = this.#deps;
    if (this.#closed) return;
    this.onAdvertise?.();
    counters.advertisements++;
    if (reason.startsWith("resync")) counters.resyncAnswers++;
    const version = jool.version;
    if (version !== null && !kernelAdvertises(version)) {
      if (this.#dump !== null) {
        logger.info(`Already sending the session table to the group; that serves ${reason} too`);
        return this.#dump;
      }
      this.#dump = this.#dumpTable(version, reason).finally(() => {
        this.#dump = null;
      });
      return this.#dump;
    }
    try {
      await kernel.advertise();
      logger.info(`Advertised the session table (${reason})`);
    } catch (error) {
      logger.error(`Cannot advertise the session table (${reason}): ${errorText(error)}`);
    }
  }

  /** Batches our kernel dropped never reached the peers: send them everything. */
  afterOverrun(): void {
    const now = this.#deps.clock.now();
    if (now - this.#lastOverrunAdvertiseMs < OVERRUN_ADVERTISE_INTERVAL_MS) return;
    this.#lastOverrunAdvertiseMs = now;
    this.advertise("netlink overrun lost batches").catch(() => {});
  }

  /**
   * Sessions of our table may be missing on the peers (sends that failed:
   * they were ACKed to the kernel, which will not send them again):
   * advertises now, or at the end of {@link OWN_ADVERTISE_INTERVAL_MS}
   * (one waiting offer serves every reason that comes meanwhile).
   */
  offer(reason: string): void {
    if (!this.#closed) this.#ownOffers.offer(reason);
  }

  /**
   * After a start: the sessions the kernel made while no daemon relayed
   * them reached no peer. Offers the table after {@link START_OFFER_DELAY_MS},
   * within the rate of {@link offer}.
   */
  offerAfterStart(): void {
    if (this.#closed) return;
    this.#ownOffers.offerAfter(
      "this daemon started: sessions made while none relayed them",
      START_OFFER_DELAY_MS,
    );
  }

  /**
   * Our kernel dropped sessions before any daemon saw them: offers the
   * table at the same rate as {@link offer}, but on a pace of its own.
   */
  offerForKernelDrops(reason: string): void {
    if (!this.#closed) this.#dropOffers.offer(reason);
  }

  /** Advertises no more; a dump under way stops sending (at exit). */
  close(): void {
    this.#closed = true;
    this.#ownOffers.cancel();
    this.#dropOffers.cancel();
  }

  async #dumpTable(version: number, reason: string): Promise<void> {
    const { kernel, sender, measures, logger, counters, clock } = this.#deps;
    try {
      const result = await dumpSessionTable(
        {
          page: (protocol, after) => kernel.sessionPage(protocol, after),
          // Counted as each goes out: the stats must add up in the middle of a dump too.
          send: (datagram) => {
            const sent = !this.#closed && sender.send(datagram);
            if (sent) counters.advertisedDatagrams++;
            return sent;
          },
          pause: () => new Promise((resolve) => clock.setTimer(resolve, DUMP_PAGE_PAUSE_MS)),
        },
        sessionEncodingFor(version),
        sessionDatagramBytes(this.#deps.datagramOverhead ?? 0),
      );
      counters.advertisedSessions += result.sessions;
      if (result.datagrams > 0) measures.lastSyncMs = clock.now();
      const failed = result.failed === 0 ? "" : `; ${result.failed} datagrams could not be sent`;
      logger.info(
        `Advertised the session table (${reason}): ${result.sessions} sessions in ` +
          `${result.datagrams} datagrams, read from the table because Jool ` +
          `${formatVersion(version)} ignores JOOLD_ADVERTISE${failed}`,
      );
    } catch (error) {
      if (this.#closed) return;
      logger.error(`Cannot advertise the session table (${reason}): ${errorText(error)}`);
    }
  }
}

/**
 * Offers of the table at most one per {@link OWN_ADVERTISE_INTERVAL_MS}:
 * one asked for sooner waits for the end of the interval, and one waiting
 * serves every reason that comes meanwhile.
 */
class PacedOffer {
  readonly #clock: Clock;
  readonly #advertise: (reason: string) => void;
  #lastMs = -Infinity;
  #timer: TimerHandle | null = null;

  constructor(clock: Clock, advertise: (reason: string) => void) {
    this.#clock = clock;
    this.#advertise = advertise;
  }

  offer(reason: string): void {
    if (this.#timer !== null) return;
    const waitMs = this.#lastMs + OWN_ADVERTISE_INTERVAL_MS - this.#clock.monotonic();
    if (waitMs > 0) {
      this.offerAfter(reason, waitMs);
      return;
    }
    this.#lastMs = this.#clock.monotonic();
    this.#advertise(reason);
  }

  /** Offers `delayMs` from now, within the pace (nothing if one waits already). */
  offerAfter(reason: string, delayMs: number): void {
    if (this.#timer !== null) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = null;
      this.offer(reason);
    }, delayMs);
  }

  cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
  }
}
