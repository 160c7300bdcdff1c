/**
 * Lossless delivery wired (docs/lossless.md): the sync sender's datagrams
 * numbered and announced in LEDGERs on the control port, the peers'
 * datagrams noted and their LEDGERs checked, NACKs sent and answered,
 * RESENDs handed to the kernel through the relay's checks, and the table
 * advertised (within a rate) when a NACK asks for more than the resend
 * buffer holds. The sync port carries nothing new: a C joold sees
 * exactly what it saw before.
 *
 * @module
 */

import type { IpSocketAddress } from "../../ffi/sockaddr.ts";
import { type Logger, RateLimiter } from "../log.ts";
import { sameInstance } from "../jool/header.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { PeerDeliveryState } from "../stats/delivery_states.ts";
import { ControlType } from "../sync/control_message.ts";
import { decodeDeliveryMessage, encodeNack } from "../sync/delivery_message.ts";
import { DeliveryReceiver, type PeerDelivery } from "../sync/delivery_receiver.ts";
import { DeliverySender } from "../sync/delivery_sender.ts";
import type { PeerDatagram } from "../sync/multicast_socket.ts";
import { describeHost, describePeer } from "../sync/peer_address.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { DROP_LOG_INTERVAL_MS } from "./drop_report.ts";
import type { NetworkToKernel } from "./network_to_kernel.ts";
import { type PeerChannel, sendControl } from "./peer_channel.ts";
import type { SyncPath } from "./sync_path.ts";

/** A LEDGER goes out once this many datagrams are unannounced... */
export const LEDGER_EVERY_DATAGRAMS = 64;
/** ...or this long after the first of them. */
export const LEDGER_DELAY_MS = 10;
/** A heartbeat LEDGER this often while nothing else was announced. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** At most one advertisement of the table for NACKs older than the buffer per this interval. */
export const GAP_ADVERTISE_INTERVAL_MS = 30_000;

/** What lossless delivery works with. */
export interface ReliableDeliveryDeps {
  /** The control port's channel (sealed with "auth key file"). */
  control: Pick<PeerChannel, "send">;
  instance: string;
  /** Where RESENDs go: the relay's checks and the kernel. */
  toKernel: Pick<NetworkToKernel, "relayResent">;
  /** Advertises our table (the advertiser). */
  advertise(reason: string): Promise<void>;
  counters: SyncCounters;
  logger: Logger;
  clock: Clock;
  /** This start's epoch; default random. */
  epoch?: number;
  /** Hosts known as peers before they speak (unicast peers): checked from their first LEDGER. */
  knownHosts?: readonly string[];
}

function randomEpoch(): number {
  const values = new Uint32Array(1);
  do crypto.getRandomValues(values); while (values[0] === 0);
  return values[0];
}

/** See the module documentation. */
export class ReliableDelivery {
  readonly #deps: ReliableDeliveryDeps;
  readonly #sender: DeliverySender;
  readonly #receiver: DeliveryReceiver;
  readonly #failureLog = new RateLimiter(DROP_LOG_INTERVAL_MS);
  /** The last sync datagram's sender (sockets reuse it per peer) and its state. */
  #lastFrom: IpSocketAddress | null | undefined = undefined;
  #lastPeer: PeerDelivery | null = null;
  #lastHost = "";
  #ledgerTimer: TimerHandle | null = null;
  #checkTimer: TimerHandle | null = null;
  readonly #heartbeatTimer: TimerHandle;
  /** Whether a LEDGER went out since the last heartbeat tick. */
  #announcedSinceTick = false;
  #lastGapAdvertiseMs = -Infinity;
  #closed = false;

  constructor(deps: ReliableDeliveryDeps) {
    this.#deps = deps;
    const { clock, counters } = deps;
    this.#sender = new DeliverySender(
      deps.instance,
      deps.epoch ?? randomEpoch(),
      clock.monotonic(),
    );
    this.#receiver = new DeliveryReceiver(clock, counters);
    for (const host of deps.knownHosts ?? []) this.#receiver.expect(host);
    this.#heartbeatTimer = clock.repeat(() => {
      if (!this.#announcedSinceTick) this.#announce(true);
      this.#announcedSinceTick = false;
    }, HEARTBEAT_INTERVAL_MS);
  }

  /** This start's epoch. */
  get epoch(): number {
    return this.#sender.epoch;
  }

  /** A sync datagram we sent (or failed to): numbered, announced soon. */
  sent(datagram: Uint8Array): void {
    const sender = this.#sender;
    sender.record(datagram);
    if (this.#closed) return;
    if (sender.unannounced >= LEDGER_EVERY_DATAGRAMS) this.#announce(false);
    else if (this.#ledgerTimer === null) {
      this.#ledgerTimer = this.#deps.clock.setTimer(() => {
        this.#ledgerTimer = null;
        this.#announce(false);
      }, LEDGER_DELAY_MS);
    }
  }

  /** A datagram from the sync port, before its checks: noted for its host's LEDGERs. */
  received(datagram: PeerDatagram): void {
    this.#receiver.socketRead();
    if (datagram.from === null) return;
    if (datagram.from !== this.#lastFrom) {
      this.#lastFrom = datagram.from;
      this.#lastHost = describeHost(datagram.from.address);
      this.#lastPeer = this.#receiver.peer(this.#lastHost);
    }
    if (this.#lastPeer !== null) this.#lastPeer.noteDatagram(datagram.data);
    else this.#receiver.noteUnknown(this.#lastHost, datagram.data);
  }

  /** The sync port was read until it was empty (LEDGERs wait for that: docs/lossless.md). */
  drained(): void {
    this.#receiver.socketDrained();
  }

  /** Our table is being advertised: the next LEDGER says so (peers' known gaps close). */
  advertised(): void {
    this.#sender.markAdvertised();
  }

  /**
   * A control datagram that is no resync message: true if it is one of
   * ours (handled, or counted as malformed), false if not.
   */
  receive(datagram: PeerDatagram): boolean {
    const message = decodeDeliveryMessage(datagram.data);
    if (message === null) return false;
    const { counters } = this.#deps;
    if (typeof message === "string") {
      counters.controlDropped++;
      this.#log(
        "malformed",
        `Dropped a control datagram from ${describePeer(datagram.from)}: ${message}`,
      );
      return true;
    }
    if (!sameInstance(message.instance, this.#deps.instance) || datagram.from === null) return true;
    const host = describeHost(datagram.from.address);
    if (message.type === ControlType.LEDGER) {
      if (!this.#receiver.ledger(host, message)) {
        counters.controlDropped++;
        this.#log("ledgers", `Dropped a LEDGER from ${host}: too many of its LEDGERs wait`);
      }
      // The host may be new, or another forgotten: look it up again.
      this.#lastFrom = undefined;
      this.#scheduleCheck();
    } else if (message.type === ControlType.NACK) {
      if (message.epoch !== this.#sender.epoch) return true; // another peer's
      counters.syncNacksReceived++;
      const answer = this.#sender.answer(message, this.#deps.clock.monotonic());
      for (const bytes of answer.messages) this.#send(bytes);
      counters.syncResends += answer.resent;
      if (answer.expired) this.#advertiseForGap(host);
    } else if (this.#receiver.resent(host, message.epoch, message.seq)) {
      this.#deps.toKernel.relayResent(message.payload, datagram.from);
    }
    return true;
  }

  /** Every peer's state, by host. */
  states(): ReadonlyMap<string, PeerDeliveryState> {
    return this.#receiver.states();
  }

  /** Cancels every timer (on shutdown). */
  close(): void {
    const { clock } = this.#deps;
    this.#closed = true;
    clock.clearTimer(this.#heartbeatTimer);
    if (this.#ledgerTimer !== null) clock.clearTimer(this.#ledgerTimer);
    if (this.#checkTimer !== null) clock.clearTimer(this.#checkTimer);
    this.#ledgerTimer = this.#checkTimer = null;
  }

  #announce(heartbeat: boolean): void {
    if (this.#ledgerTimer !== null) {
      this.#deps.clock.clearTimer(this.#ledgerTimer);
      this.#ledgerTimer = null;
    }
    const ledgers = this.#sender.takeLedgers(heartbeat);
    if (ledgers.length > 0) this.#announcedSinceTick = true;
    for (const ledger of ledgers) this.#send(ledger);
  }

  #scheduleCheck(): void {
    if (this.#checkTimer !== null) return;
    const inMs = this.#receiver.nextCheckInMs();
    if (inMs === null) return;
    this.#checkTimer = this.#deps.clock.setTimer(() => {
      this.#checkTimer = null;
      for (const nack of this.#receiver.check()) {
        if (this.#send(encodeNack(this.#deps.instance, nack.epoch, nack.ranges))) {
          this.#deps.counters.syncNacksSent++;
        }
      }
      this.#scheduleCheck();
    }, inMs);
  }

  /** A NACK asked for what the buffer no longer holds: the whole table, within the rate. */
  #advertiseForGap(host: string): void {
    const now = this.#deps.clock.monotonic();
    if (now - this.#lastGapAdvertiseMs < GAP_ADVERTISE_INTERVAL_MS) return;
    this.#lastGapAdvertiseMs = now;
    this.#deps.counters.gapAdvertisements++;
    this.#deps.advertise(`${host} missed datagrams older than the resend buffer`).catch(() => {});
  }

  /** Sends a control message; false (logged within a budget) if it could not go. */
  #send(bytes: Uint8Array): boolean {
    const problem = sendControl(this.#deps.control, bytes);
    if (problem === null) return true;
    this.#deps.counters.netSendFailures++;
    this.#log("send", `Cannot send a lossless delivery message: ${problem}`);
    return false;
  }

  #log(kind: string, line: string): void {
    const suppressed = this.#failureLog.allow(kind, this.#deps.clock.now());
    if (suppressed === null) return;
    this.#deps.logger.warning(line + (suppressed > 0 ? ` (and ${suppressed} more since)` : ""));
  }
}

/**
 * Lossless delivery over a wired sync path: its sender's datagrams are
 * numbered, its relay's arrivals noted, RESENDs go to its relay, its
 * advertisements flagged in the next LEDGER. The
 * control port's other messages are the caller's to hand to
 * {@link ReliableDelivery.receive}.
 */
export function wireReliableDelivery(
  sync: Pick<SyncPath, "sender" | "toKernel" | "advertiser">,
  deps: Omit<ReliableDeliveryDeps, "toKernel">,
): ReliableDelivery {
  const delivery = new ReliableDelivery({ ...deps, toKernel: sync.toKernel });
  sync.sender.onDatagram = (datagram) => delivery.sent(datagram);
  sync.toKernel.onDatagram = (datagram) => delivery.received(datagram);
  sync.toKernel.onDrained = () => delivery.drained();
  sync.advertiser.onAdvertise = () => delivery.advertised();
  return delivery;
}
