/**
 * The relay from the peers to the kernel: every datagram from the group is
 * counted (in total and per peer: senders of valid ones by name, the rest
 * together), checked by the datagram filter, converted if it is a valid
 * batch in another Jool 4.1 encoding than the local kernel's (a peer on
 * another 4.1 version), and handed to the kernel (JOOLD_ADD) or dropped
 * and reported.
 *
 * @module
 */

import { SyscallError } from "../../ffi/errors.ts";
import type { IpSocketAddress } from "../../ffi/sockaddr.ts";
import { convertCheckedSessions, SessionConversionError } from "../jool/session_convert.ts";
import type { Logger } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { DatagramFilter } from "../sync/datagram_filter.ts";
import { splitBatch } from "../sync/batch_split.ts";
import { drain } from "../net/drain.ts";
import type { KernelLink } from "../sync/kernel_link.ts";
import { describePeer } from "../sync/peer_address.ts";
import type { Clock } from "./clock.ts";
import type { LocalJool } from "./local_jool.ts";
import type { DropReporter } from "./drop_report.ts";
import type { SyncMeasures } from "./measures.ts";
import type { PeerChannel } from "./peer_channel.ts";
import type { PeerDatagram } from "../sync/multicast_socket.ts";

/** What the relay works with. */
export interface NetworkToKernelDeps {
  /** The group. */
  channel: Pick<PeerChannel, "receive">;
  kernel: Pick<KernelLink, "add">;
  /** Whether a datagram may go to the kernel. */
  filter: DatagramFilter;
  /** The local instance's pool6, which conversions from raw36 need. */
  jool: Pick<LocalJool, "pool6">;
  drops: DropReporter;
  /** Per-peer counts and the time of the last sync. */
  measures: SyncMeasures;
  counters: SyncCounters;
  logger: Logger;
  clock: Clock;
}

/** Hands the peers' sessions to the kernel. */
export class NetworkToKernel {
  readonly #deps: NetworkToKernelDeps;
  /** The sender of the last datagram (the channel reuses it) and its name. */
  #lastPeer: IpSocketAddress | null | undefined = undefined;
  #lastOrigin = "";
  /** The time of the current wake-up. */
  #nowMs = 0;
  readonly #relayOne = () => this.#relayNext();
  /**
   * Told of each valid datagram's sender, as it goes to the kernel (the
   * resync exchange waits for the answering peer's sessions).
   */
  onSessions: (origin: string) => void = () => {};
  /**
   * Told of every datagram from the sync port before its checks (lossless
   * delivery notes what arrived); null: nobody.
   */
  onDatagram: ((datagram: PeerDatagram) => void) | null = null;
  /** Told when a read found the channel empty; null: nobody. */
  onDrained: (() => void) | null = null;

  constructor(deps: NetworkToKernelDeps) {
    this.#deps = deps;
  }

  /** Relays what the channel holds, as much as one wake-up may (src/net/drain.ts). */
  drain(): void {
    // One clock reading per wake-up: under an emulated CPU a reading costs
    // as much as checking a datagram.
    this.#nowMs = this.#deps.clock.now();
    drain(this.#relayOne);
  }

  /**
   * Relays a datagram a peer sent again on the control port (lossless
   * delivery's RESEND), with the checks of one from the sync port.
   */
  relayResent(payload: Uint8Array, from: IpSocketAddress | null): void {
    this.#nowMs = this.#deps.clock.now();
    this.#relay({ data: payload, fullLength: payload.byteLength, from });
  }

  /** Relays or drops one datagram; false if there was none (or reading failed). */
  #relayNext(): boolean {
    let datagram;
    try {
      datagram = this.#deps.channel.receive();
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      this.#deps.logger.error(`Error receiving from the network: ${error.message}`);
      return false;
    }
    if (datagram === null) {
      this.onDrained?.();
      return false;
    }
    this.onDatagram?.(datagram);
    this.#relay(datagram);
    return true;
  }

  /** Counts, checks, converts and hands to the kernel one datagram, or drops it. */
  #relay(datagram: PeerDatagram): void {
    const { kernel, filter, drops, measures, counters, logger } = this.#deps;
    const now = this.#nowMs;
    counters.netReceivedPackets++;
    counters.netReceivedBytes += datagram.fullLength;
    if (datagram.from !== this.#lastPeer) {
      this.#lastPeer = datagram.from;
      this.#lastOrigin = describePeer(datagram.from);
    }
    const origin = this.#lastOrigin;
    let payload = datagram.data;
    let problem = datagram.fullLength > payload.byteLength
      ? `too large (${datagram.fullLength} bytes)`
      : filter.check(payload);
    let convertedFrom: string | null = null;
    const local = filter.encoding;
    if (problem !== null && local !== null && datagram.fullLength === payload.byteLength) {
      const foreign = filter.foreignEncoding(payload);
      if (foreign !== null) {
        try {
          payload = convertCheckedSessions(payload, foreign, local, this.#deps.jool.pool6);
          convertedFrom = foreign;
          problem = null;
        } catch (error) {
          if (!(error instanceof SessionConversionError)) throw error;
          problem = `a ${foreign} batch for a ${local} kernel: ${error.message}`;
        }
      }
    }
    // Only a valid datagram earns its sender an entry in the per-peer table:
    // forged or garbage senders are counted together, and cannot take it.
    const peer = problem === null ? measures.peers.get(origin) : measures.peers.find(origin);
    peer.datagrams++;
    peer.bytes += datagram.fullLength;
    peer.lastSeenMs = now;
    if (problem !== null) {
      counters.netDropped++;
      peer.dropped++;
      drops.dropped(origin, problem, now);
      return;
    }
    if (convertedFrom !== null) {
      counters.netConverted++;
      peer.converted[convertedFrom] = (peer.converted[convertedFrom] ?? 0) + 1;
    }
    this.onSessions(origin);
    try {
      // A sealed datagram gathers many batches (up to 32 KiB): the kernel
      // gets them in requests of the size of its own batches, as in clear.
      // Jool adds a request's sessions in one go, in the sender's system
      // call; hundreds at once hold a CPU of a small router for
      // milliseconds, while the other daemon must read and ACK its batches.
      for (const part of splitBatch(payload)) kernel.add(part, origin);
      counters.kernelAdds++;
      measures.lastSyncMs = now;
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      counters.kernelErrors++;
      logger.error(`Cannot hand sessions from ${origin} to the kernel: ${error.message}`);
    }
  }
}
