/**
 * The daemon's side of the multicast group as its parts see it (a
 * MulticastSocket on the network, an in-memory channel in tests:
 * tests/support/memory_peer_channel.ts), and sending sessions to it, which
 * the relay and the table dump both do.
 *
 * @module
 */

import { SyscallError } from "../../ffi/errors.ts";
import { type Logger, RateLimiter } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { PeerDatagram } from "../sync/multicast_socket.ts";

/** Datagrams to and from the group. */
export interface PeerChannel {
  /**
   * Sends one datagram to the group. Returns false if the send buffer is
   * full; throws SyscallError on other failures.
   */
  send(datagram: Uint8Array): boolean;
  /**
   * Reads one queued datagram, or null if none is queued; throws
   * SyscallError. The result is only valid until the next call.
   */
  receive(): PeerDatagram | null;
}

/**
 * Sends one control message: null if it went, else why not (the caller
 * counts and logs it). Rethrows what is not a SyscallError.
 */
export function sendControl(channel: Pick<PeerChannel, "send">, bytes: Uint8Array): string | null {
  try {
    return channel.send(bytes) ? null : "the control socket's send buffer is full";
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    return error.message;
  }
}

/** One log line per kind of send failure per this interval. */
const SEND_FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * Sends datagrams of sessions to the group, counting them and logging
 * failures within a budget. Sessions whose send failed were ACKed to the
 * kernel already and will not come again: when sending works again after
 * failures, {@link GroupSender.onRecovered} is told, so that the table is
 * advertised and the peers get what they missed.
 */
export class GroupSender {
  readonly #channel: Pick<PeerChannel, "send">;
  readonly #counters: SyncCounters;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #failureLog = new RateLimiter(SEND_FAILURE_LOG_INTERVAL_MS);
  /** Datagrams that could not be sent since the last one that could. */
  #failedInARow = 0;
  /** Told when a send works after `failed` did not (see the class doc). */
  onRecovered: (failed: number) => void = () => {};
  /**
   * Told of every datagram after its send, whether it went or not
   * (lossless delivery numbers it; a peer's NACK brings a failed one
   * again); null: nobody.
   */
  onDatagram: ((datagram: Uint8Array) => void) | null = null;

  constructor(
    channel: Pick<PeerChannel, "send">,
    counters: SyncCounters,
    logger: Logger,
    now: () => number = Date.now,
  ) {
    this.#channel = channel;
    this.#counters = counters;
    this.#logger = logger;
    this.#now = now;
  }

  /**
   * Sends one datagram to the group; false (logged and counted) if it could
   * not. Rethrows what is not a SyscallError: that is a bug, not the network.
   */
  send(datagram: Uint8Array): boolean {
    const sent = this.#send(datagram);
    this.onDatagram?.(datagram);
    return sent;
  }

  #send(datagram: Uint8Array): boolean {
    const counters = this.#counters;
    let problem: string;
    let line: string;
    try {
      if (this.#channel.send(datagram)) {
        counters.netSentPackets++;
        counters.netSentBytes += datagram.byteLength;
        if (this.#failedInARow > 0) this.#recovered();
        return true;
      }
      problem = "the multicast socket's send buffer is full";
      line = `Dropped ${datagram.byteLength} bytes of sessions: ${problem}`;
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      problem = error.message;
      line = `Cannot send ${datagram.byteLength} bytes of sessions to the group: ${problem}`;
    }
    counters.netSendFailures++;
    this.#failedInARow++;
    const suppressed = this.#failureLog.allow(problem, this.#now());
    if (suppressed !== null) {
      this.#logger.error(
        line + (suppressed > 0 ? ` (and ${suppressed} more failures since the last report)` : ""),
      );
    }
    return false;
  }

  #recovered(): void {
    const failed = this.#failedInARow;
    this.#failedInARow = 0;
    this.#logger.info(`Sending to the group works again, after ${failed} failed datagrams`);
    this.onRecovered(failed);
  }
}
