/**
 * The daemon's side of the multicast group as its parts see it (a
 * MulticastSocket on the network, an in-memory channel in tests:
 * tests/support/memory_peer_channel.ts), and sending sessions to it, which
 * the relay and the table dump both do.
 *
 * @module
 */

import { SyscallError } from "../../ffi/errors.ts";
import type { Logger } from "../log.ts";
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

/** Sends datagrams of sessions to the group, counting them and logging failures. */
export class GroupSender {
  readonly #channel: Pick<PeerChannel, "send">;
  readonly #counters: SyncCounters;
  readonly #logger: Logger;

  constructor(channel: Pick<PeerChannel, "send">, counters: SyncCounters, logger: Logger) {
    this.#channel = channel;
    this.#counters = counters;
    this.#logger = logger;
  }

  /**
   * Sends one datagram to the group; false (logged and counted) if it could
   * not. Rethrows what is not a SyscallError: that is a bug, not the network.
   */
  send(datagram: Uint8Array): boolean {
    const counters = this.#counters;
    try {
      if (this.#channel.send(datagram)) {
        counters.netSentPackets++;
        counters.netSentBytes += datagram.byteLength;
        return true;
      }
      counters.netSendFailures++;
      this.#logger.error(
        `Dropped ${datagram.byteLength} bytes of sessions: the multicast socket's send buffer is full`,
      );
    } catch (error) {
      counters.netSendFailures++;
      if (!(error instanceof SyscallError)) throw error;
      this.#logger.error(
        `Cannot send ${datagram.byteLength} bytes of sessions to the group: ${error.message}`,
      );
    }
    return false;
  }
}
