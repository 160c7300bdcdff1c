/**
 * A peer channel with the protections of `"auth key file"` and `"unicast
 * peers"` around another one: what it sends is sealed (src/auth/), and what
 * it receives comes out opened, or is dropped when it is not authentic, is
 * a replay (or not proven sealed since this daemon started:
 * src/auth/sender_liveness.ts), or comes from an address that is not a
 * configured peer. Every
 * drop is counted (in total, per kind, per peer) and logged within the drop
 * reporter's budget, naming the sender. The sync channel and the resync
 * control channel are both wrapped, so neither sessions nor control
 * messages travel in clear.
 *
 * @module
 */

import type { IpSocketAddress } from "../../ffi/sockaddr.ts";
import {
  type DatagramOpener,
  type DatagramSealer,
  isRefusal,
  type OpenRefusal,
} from "../auth/sealed_datagram.ts";
import type { SenderLiveness } from "../auth/sender_liveness.ts";
import type { OpenGate } from "../auth/open_gate.ts";
import type { PeerRoutes } from "../sync/unicast_socket.ts";
import { SyscallError } from "../../ffi/errors.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { PeerDatagram } from "../sync/multicast_socket.ts";
import { describePeer } from "../sync/peer_address.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { DropReporter } from "./drop_report.ts";
import type { SyncMeasures } from "./measures.ts";
import type { PeerChannel } from "./peer_channel.ts";

/** What a guarded channel protects with. */
export interface ChannelGuards {
  /** Seals what is sent; null: sent in clear. Shared by every channel (one counter). */
  sealer: DatagramSealer | null;
  /** Opens what arrives; null: taken in clear. One per channel (its replay windows). */
  opener: DatagramOpener | null;
  /**
   * The addresses (4 or 16 bytes, as text by {@link addressKey}) datagrams
   * may come from; null: any.
   */
  allowedSenders: ReadonlySet<string> | null;
  /**
   * With `allowedSenders`: why a peer's datagram did not arrive on the
   * interface that peer is reached over (null: it did); absent: not checked.
   */
  arrival?: Pick<PeerRoutes, "problem"> | null;
  /**
   * With `opener`: which datagrams get an AEAD attempt at all; absent: all
   * that the header does not refuse. One per channel: a busy peer's sync
   * datagrams do not use up the budget its HELLOs on the control port need.
   */
  gate?: OpenGate | null;
  /**
   * With `opener`: which senders are proven live, and the HELLOs that prove
   * it; null: every authentic datagram passes (tests of the opening alone).
   */
  hellos?: HelloCourier | null;
}

/**
 * Sends the HELLOs a {@link SenderLiveness} owes, sealed, on the control
 * port's socket, at most one per HELLO_INTERVAL_MS: one per daemon, shared
 * by its channels, as the liveness is.
 */
export class HelloCourier {
  readonly liveness: SenderLiveness;
  readonly #sealer: DatagramSealer;
  readonly #clock: Clock;
  #control: Pick<PeerChannel, "send"> | null = null;
  #timer: TimerHandle | null = null;

  constructor(liveness: SenderLiveness, sealer: DatagramSealer, clock: Clock) {
    this.liveness = liveness;
    this.#sealer = sealer;
    this.#clock = clock;
  }

  /**
   * The control port's socket (unsealed: the courier seals); HELLOs go
   * nowhere before. Sends the first HELLO.
   */
  attach(control: Pick<PeerChannel, "send">): void {
    this.#control = control;
    this.deliver();
  }

  /** Sends the owed HELLO now, or sets a timer for when it may go. */
  deliver(): void {
    if (this.#control === null || this.#timer !== null) return;
    const now = this.#clock.monotonic();
    const hello = this.liveness.takeHello(now);
    if (hello !== null) {
      try {
        this.#control.send(this.#sealer.seal(hello, "control"));
      } catch (error) {
        // The next refused datagram asks again.
        if (!(error instanceof SyscallError)) throw error;
      }
      return;
    }
    const waitMs = this.liveness.nextHelloInMs(now);
    if (waitMs === null) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = null;
      this.deliver();
    }, waitMs);
  }

  /** Cancels a pending HELLO (on shutdown). */
  close(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#control = null;
  }
}

/** What the channel counts and reports with. */
export interface GuardedChannelDeps {
  counters: SyncCounters;
  measures: SyncMeasures;
  drops: DropReporter;
  clock: Clock;
  /**
   * `sync`: a drop also counts as a datagram received and dropped
   * (`netReceivedPackets`, `netDropped`, its sender's per-peer entry), as the
   * relay counts the ones it drops; `control`: as `controlDropped`.
   */
  label: "sync" | "control";
}

/**
 * The opening work one wake-up may do, in bytes given to the AEAD, each
 * attempt counted {@link OPEN_ATTEMPT_COST_BYTES} more for its fixed cost:
 * about 1 ms. Past it, {@link GuardedChannel.receive} ends the wake-up; the
 * rest waits in the socket for the next, so the other sockets and the
 * timers get their turn under a flood of sealed garbage.
 */
export const OPEN_BUDGET_BYTES = 512 * 1024;
/** An attempt's fixed cost (some 12 µs a call) in bytes' worth of AEAD work. */
export const OPEN_ATTEMPT_COST_BYTES = 8 * 1024;

/** The key of an address in {@link ChannelGuards.allowedSenders}. */
export function addressKey(address: Uint8Array): string {
  return address.join(".");
}

/** See the module documentation. */
export class GuardedChannel implements PeerChannel {
  readonly #inner: PeerChannel;
  readonly #guards: ChannelGuards;
  readonly #deps: GuardedChannelDeps;
  readonly #opened: PeerDatagram = { data: new Uint8Array(0), fullLength: 0, from: null };
  /** Opening work since the last wake-up ended (see {@link OPEN_BUDGET_BYTES}). */
  #spentBytes = 0;

  constructor(inner: PeerChannel, guards: ChannelGuards, deps: GuardedChannelDeps) {
    this.#inner = inner;
    this.#guards = guards;
    this.#deps = deps;
  }

  send(datagram: Uint8Array): boolean {
    const sealer = this.#guards.sealer;
    return this.#inner.send(sealer === null ? datagram : sealer.seal(datagram, this.#deps.label));
  }

  /** The next datagram that passes the guards (dropping those before it), or null. */
  receive(): PeerDatagram | null {
    for (;;) {
      if (this.#spentBytes >= OPEN_BUDGET_BYTES) {
        this.#spentBytes = 0;
        return null;
      }
      const datagram = this.#inner.receive();
      if (datagram === null) {
        this.#spentBytes = 0;
        return null;
      }
      const passed = this.#check(datagram);
      if (passed !== null) return passed;
    }
  }

  #check(datagram: PeerDatagram): PeerDatagram | null {
    const { allowedSenders, opener } = this.#guards;
    if (
      allowedSenders !== null &&
      (datagram.from === null || !allowedSenders.has(addressKey(datagram.from.address)))
    ) {
      this.#drop(datagram, "unknown", "not from a configured unicast peer");
      return null;
    }
    const arrival = this.#guards.arrival ?? null;
    if (arrival !== null && datagram.from !== null) {
      const now = this.#deps.clock.monotonic();
      const problem = arrival.problem(datagram.from.address, datagram.interfaceIndex ?? 0, now);
      if (problem !== null) {
        this.#drop(datagram, "unknown", problem);
        return null;
      }
    }
    // A cut datagram cannot be authentic: the relay reports it as too large.
    if (opener === null || datagram.fullLength > datagram.data.byteLength) return datagram;
    const host = datagram.from === null ? "" : addressKey(datagram.from.address);
    const attemptedBefore = opener.attemptedBytes;
    const attemptsBefore = opener.attempts;
    const result = opener.open(datagram.data, this.#beforeAttempt(host));
    this.#spentBytes += opener.attemptedBytes - attemptedBefore +
      (opener.attempts - attemptsBefore) * OPEN_ATTEMPT_COST_BYTES;
    const hellos = this.#guards.hellos ?? null;
    if (isRefusal(result)) {
      this.#drop(datagram, result.kind, result.problem);
      hellos?.deliver();
      return null;
    }
    this.#guards.gate?.authentic(opener.lastSenderId, host);
    if (hellos !== null) {
      const admission = hellos.liveness.admit(
        opener.lastSenderId,
        opener.lastCounter,
        result,
        this.#deps.label === "control",
        this.#deps.clock.monotonic(),
      );
      if (admission.kind !== "deliver") {
        if (admission.kind === "refuse") this.#drop(datagram, admission.as, admission.problem);
        hellos.deliver();
        return null;
      }
    }
    this.#opened.data = result;
    this.#opened.fullLength = result.byteLength;
    this.#opened.from = datagram.from;
    return this.#opened;
  }

  /** What refuses a datagram from `host` before its AEAD attempt: the gate's budget. */
  #beforeAttempt(host: string): ((senderId: number) => OpenRefusal | null) | null {
    const gate = this.#guards.gate ?? null;
    if (gate === null) return null;
    return (senderId) => {
      const refusal = gate.refusal(senderId, host, this.#deps.clock.monotonic());
      if (refusal === null) return null;
      // A refused datagram of a sender not proven live still asks it for a HELLO.
      this.#guards.hellos?.liveness.askIfUnproven(senderId);
      return { kind: "auth", problem: refusal };
    };
  }

  #drop(datagram: PeerDatagram, kind: "auth" | "replay" | "unknown", problem: string): void {
    const { counters, measures, drops, clock, label } = this.#deps;
    if (kind === "auth") counters.authDropped++;
    else if (kind === "replay") counters.replayDropped++;
    else counters.unknownSenderDropped++;
    const origin = describePeer(datagram.from as IpSocketAddress | null);
    const now = clock.now();
    if (label === "sync") {
      counters.netReceivedPackets++;
      counters.netReceivedBytes += datagram.fullLength;
      counters.netDropped++;
      const peer = measures.peers.find(origin);
      peer.datagrams++;
      peer.bytes += datagram.fullLength;
      peer.dropped++;
      peer.lastSeenMs = now;
    } else {
      counters.controlDropped++;
    }
    const what = kind === "auth"
      ? "not authentic"
      : kind === "replay"
      ? "a replay"
      : "from an unknown sender";
    drops.dropped(origin, `${label} datagram ${what}: ${problem}`, now);
  }
}
