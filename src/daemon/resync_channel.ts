/**
 * The resync exchange on the control port: the coordinator's messages
 * (src/sync/resync.ts) to and from the group, its timers on the daemon's
 * clock, its answers through the advertiser.
 *
 * @module
 */

import { SyscallError } from "../../ffi/errors.ts";
import { errorText } from "../error_text.ts";
import { type Logger, RateLimiter } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import { decodeControlMessage, encodeControlMessage } from "../sync/control_message.ts";
import { drain } from "../net/drain.ts";
import { describePeer } from "../sync/peer_address.ts";
import { ResyncCoordinator, type ResyncOutcome } from "../sync/resync.ts";
import type { Clock } from "./clock.ts";
import { DROP_LOG_INTERVAL_MS } from "./drop_report.ts";
import type { PeerChannel } from "./peer_channel.ts";
import type { PeerDatagram } from "../sync/multicast_socket.ts";

/** What the exchange works with. */
export interface ResyncChannelDeps {
  /** The group on the control port. */
  control: PeerChannel;
  instance: string;
  /** Sends our table to the peers (see Advertiser.advertise). */
  advertise(reason: string): Promise<void>;
  counters: SyncCounters;
  logger: Logger;
  clock: Clock;
  /** Uniform in [0, 1): spreads the peers' answers. Default Math.random. */
  random?: () => number;
  /** A fresh request nonce. Default: 64 random bits. */
  nonce?: () => bigint;
  /** What each of our requests came to (the sync state). */
  settled?: (outcome: ResyncOutcome) => void;
  /**
   * Control datagrams that are no resync messages go here first (lossless
   * delivery's): true if taken; else they are dropped and counted.
   */
  other?: (datagram: PeerDatagram) => boolean;
}

/** Runs the resync exchange over the control port. */
export class ResyncChannel {
  readonly #deps: ResyncChannelDeps;
  readonly #coordinator: ResyncCoordinator;
  readonly #receiveOne = () => this.#receiveNext();
  /** One line per this interval about requests not answered. */
  readonly #refusalLog = new RateLimiter(DROP_LOG_INTERVAL_MS);

  constructor(deps: ResyncChannelDeps) {
    this.#deps = deps;
    const { control, logger, clock } = deps;
    this.#coordinator = new ResyncCoordinator(deps.instance, {
      send: (message) => {
        try {
          control.send(encodeControlMessage(message));
        } catch (error) {
          logger.error(`Cannot send a resync message: ${errorText(error)}`);
        }
      },
      advertise: deps.advertise,
      logger,
      setTimer: (callback, ms) => clock.setTimer(callback, ms),
      clearTimer: (handle) => clock.clearTimer(handle),
      now: () => clock.monotonic(),
      random: deps.random ?? Math.random,
      nonce: deps.nonce ?? (() => crypto.getRandomValues(new BigUint64Array(1))[0]),
      settled: (outcome) => deps.settled?.(outcome),
    });
  }

  /**
   * Asks the peers for their sessions: at start, and when the sync
   * interface is back. `why` is for the log.
   */
  requestFromPeers(why: string): void {
    this.#deps.logger.info(`Resync: ${why}; asking peers for their sessions`);
    this.#deps.counters.resyncRequests++;
    this.#coordinator.requestFromPeers();
  }

  /**
   * Sessions from `origin` arrived on the sync port: our request counts as
   * answered only once the peer that answered it sends some.
   */
  sessionsFrom(origin: string): void {
    this.#coordinator.sessionsFrom(origin);
  }

  /** Reads what the control port holds, as much as one wake-up may. */
  drain(): void {
    drain(this.#receiveOne);
  }

  /** Hands one control message to the coordinator; false if none was queued. */
  #receiveNext(): boolean {
    let datagram;
    try {
      datagram = this.#deps.control.receive();
    } catch (error) {
      // E.g. a unicast peer that is down: its ICMP errors come back on the socket.
      if (!(error instanceof SyscallError)) throw error;
      const suppressed = this.#refusalLog.allow("receive", this.#deps.clock.now());
      if (suppressed !== null) {
        this.#deps.logger.error(
          `Error receiving from the control port: ${error.message}` +
            (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : ""),
        );
      }
      return false;
    }
    if (datagram === null) return false;
    const message = decodeControlMessage(datagram.data);
    if (message === null) {
      if (this.#deps.other?.(datagram)) return true;
      this.#deps.counters.controlDropped++;
      return true;
    }
    const origin = describePeer(datagram.from);
    const refusal = this.#coordinator.receive(message, origin);
    if (refusal !== null) {
      this.#deps.counters.controlDropped++;
      const suppressed = this.#refusalLog.allow("request", this.#deps.clock.now());
      if (suppressed !== null) {
        this.#deps.logger.warning(
          `Resync request from ${origin} not answered: ${refusal}` +
            (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : ""),
        );
      }
    }
    return true;
  }

  /** Cancels every timer (on shutdown). */
  close(): void {
    this.#coordinator.close();
  }
}
