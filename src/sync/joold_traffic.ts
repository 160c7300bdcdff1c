/**
 * The session traffic of a kernel link, apart from its requests: the
 * batches the kernel multicasts (ACKed first, then handed on), peers'
 * sessions handed to the kernel (JOOLD_ADD) with the kernel's refusals of
 * them named by peer, and overruns. Every batch and every peer datagram
 * passes here: the ACKs and adds are encoded into buffers made once.
 *
 * @module
 */

import type { NetlinkClient } from "../netlink/client.ts";
import { decodeGenericMessage } from "../netlink/genetlink.ts";
import { decodeErrorPayload, type Message, NLMSG_ERROR } from "../netlink/message.ts";
import { errnoName } from "../../ffi/errors.ts";
import { sameInstance } from "../jool/header.ts";
import { decodeJoolError, decodeSessionBatch } from "../jool/kernel_messages.ts";
import { JooldEncoder } from "../jool/messages.ts";
import { errorText } from "../error_text.ts";
import { type Logger, RateLimiter } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { LatencyHistogram } from "../stats/latency.ts";

/** What the link reports upwards. */
export interface KernelLinkHandlers {
  /**
   * A batch of our instance's sessions: the SESSION_ENTRIES payload (a view
   * valid only during the call), the kernel's Jool version, and
   * `performance.now()` when the batch was taken in. The ACK has already
   * been sent.
   */
  onBatch(payload: Uint8Array, kernelVersion: number, receivedAt: number): void;
  /** The kernel dropped multicast to us (ENOBUFS): sessions were lost. */
  onOverrun(): void;
}

/** What the link needs from its owner. */
export interface KernelLinkDeps {
  logger: Logger;
  counters: SyncCounters;
  /** Where batch-received-to-ACK-sent times go, if measured. */
  ackLatency?: LatencyHistogram;
  /** Milliseconds, for the refusal log's budget (default Date.now). */
  now?: () => number;
}

/** Whom the traffic is for: the Jool family (0 until resolved) and the instance. */
export interface JooldTarget {
  readonly familyId: number;
  readonly instance: string;
}

/**
 * How many bytes of batches are held until the relay listens. The kernel
 * sends batches as soon as sync is on, while the daemon is still tuning
 * the instance and opening its network socket (under a burst, dozens).
 */
const HELD_BYTES_LIMIT = 4 * 1024 * 1024;

/** A batch that came before listen(): a copy, since the payload views the read buffer. */
interface HeldBatch {
  payload: Uint8Array;
  kernelVersion: number;
  receivedAt: number;
}

/** Recent fire-and-forget adds remembered to name the peer in errors. */
const REMEMBERED_ADDS = 1024;

const EMPTY: Uint8Array = new Uint8Array(0);

/** The joold side of one kernel link; the link routes its client's messages here. */
/** One log line per kind of refusal (the kernel's text) per this interval. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class JooldTraffic {
  readonly #deps: KernelLinkDeps;
  /** A module reload turns every add into a refusal: the log gets a few lines, the counter all. */
  readonly #refusalLog = new RateLimiter(REFUSAL_LOG_INTERVAL_MS);
  readonly #client: Pick<NetlinkClient, "send">;
  readonly #target: JooldTarget;
  #handlers: KernelLinkHandlers | null = null;
  /** Batches ACKed before listen(), to relay on listen(). */
  #held: HeldBatch[] = [];
  #heldBytes = 0;
  /** Batches that did not fit in the bound before listen(). */
  #heldDropped = 0;
  /** Who sent the sessions of recent adds, by sequence number modulo their number. */
  readonly #addSequences = new Uint32Array(REMEMBERED_ADDS);
  readonly #addOrigins: (string | undefined)[] = new Array(REMEMBERED_ADDS);
  #encoder: JooldEncoder | null = null;
  #encoderFamily = -1;
  /** The payload of the add being sent (read by #buildAdd). */
  #addPayload: Uint8Array = EMPTY;
  readonly #buildAck = (sequence: number) => this.#jooldEncoder().ack(sequence);
  readonly #buildAdd = (sequence: number) => this.#jooldEncoder().add(sequence, this.#addPayload);

  constructor(deps: KernelLinkDeps, client: Pick<NetlinkClient, "send">, target: JooldTarget) {
    this.#deps = deps;
    this.#client = client;
    this.#target = target;
  }

  /**
   * Starts delivering batches, first those ACKed and held since the link
   * opened. If more came than the bound holds, the rest were dropped: that
   * is reported as an overrun, so that the table is advertised.
   */
  listen(handlers: KernelLinkHandlers): void {
    this.#handlers = handlers;
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const batch of held) {
      handlers.onBatch(batch.payload, batch.kernelVersion, batch.receivedAt);
    }
    if (this.#heldDropped === 0) return;
    this.#deps.logger.error(
      `Dropped ${this.#heldDropped} session batches that came before the network socket was open ` +
        `(more than ${HELD_BYTES_LIMIT} bytes)`,
    );
    this.#heldDropped = 0;
    handlers.onOverrun();
  }

  /** Keeps a batch that came before listen(), within the bound. */
  #hold(payload: Uint8Array, kernelVersion: number, receivedAt: number): void {
    if (this.#heldBytes + payload.byteLength > HELD_BYTES_LIMIT) {
      this.#heldDropped++;
      return;
    }
    this.#heldBytes += payload.byteLength;
    this.#held.push({ payload: payload.slice(), kernelVersion, receivedAt });
  }

  /** The per-batch and per-datagram messages, encoded without allocating. */
  #jooldEncoder(): JooldEncoder {
    const { familyId, instance } = this.#target;
    if (this.#encoder === null || this.#encoderFamily !== familyId) {
      this.#encoder = new JooldEncoder({ familyId, instance });
      this.#encoderFamily = familyId;
    }
    return this.#encoder;
  }

  /** Hands sessions from a peer to the kernel (one JOOLD_ADD). `origin` names the peer for logs. */
  add(payload: Uint8Array, origin: string): void {
    this.#addPayload = payload;
    let sequence: number;
    try {
      sequence = this.#client.send(this.#buildAdd);
    } finally {
      this.#addPayload = EMPTY;
    }
    // Successful adds get no reply: the slot of an old one is simply reused.
    const slot = sequence % REMEMBERED_ADDS;
    this.#addSequences[slot] = sequence;
    this.#addOrigins[slot] = origin;
  }

  /** Who sent the sessions of the add with this sequence number, if remembered; forgets it. */
  #takeAddOrigin(sequence: number): string | undefined {
    const slot = sequence % REMEMBERED_ADDS;
    if (this.#addSequences[slot] !== sequence) return undefined;
    const origin = this.#addOrigins[slot];
    this.#addOrigins[slot] = undefined;
    this.#addSequences[slot] = 0;
    return origin;
  }

  #ack(): void {
    try {
      this.#client.send(this.#buildAck);
      this.#deps.counters.kernelAcks++;
    } catch (error) {
      this.#deps.logger.error(`Cannot ACK the kernel's batch: ${errorText(error)}`);
    }
  }

  /**
   * Sends an ACK no batch asked for. The kernel checks its queue on every
   * ACK, and sends what waits there once `ss-flush-deadline` has passed
   * since its last batch, where otherwise only a new session or its 2 s
   * timer would make it look.
   */
  nudge(): void {
    try {
      this.#client.send(this.#buildAck);
      this.#deps.counters.kernelNudges++;
    } catch (error) {
      this.#deps.logger.error(`Cannot nudge the kernel: ${errorText(error)}`);
    }
  }

  /** A message with sequence 0: a batch of sessions, if it is of our family. */
  onMulticast(message: Message): void {
    const receivedAt = performance.now();
    const { counters, logger } = this.#deps;
    const familyId = this.#target.familyId;
    if (familyId === 0 || message.header.type !== familyId) return;
    let batch;
    try {
      batch = decodeSessionBatch(decodeGenericMessage(message));
    } catch (error) {
      counters.kernelMalformed++;
      logger.error(`Ignoring a malformed session batch from the kernel: ${errorText(error)}`);
      this.#ack(); // keep the kernel's queue moving, as the reference does
      return;
    }
    if (!sameInstance(batch.header.instance, this.#target.instance)) {
      counters.kernelForeignBatches++;
      return;
    }
    // ACK first: the kernel holds new sessions back until it sees the ACK,
    // so every microsecond here is a session at risk in a burst.
    this.#ack();
    this.#deps.ackLatency?.recordMs(performance.now() - receivedAt);
    counters.kernelSentPackets++;
    counters.kernelSentBytes += batch.payload.byteLength;
    if (this.#handlers === null) this.#hold(batch.payload, batch.header.version, receivedAt);
    else this.#handlers.onBatch(batch.payload, batch.header.version, receivedAt);
  }

  /** A reply no request waits for: the kernel refusing an add, most likely. */
  onStrayReply(message: Message): void {
    const { counters, logger } = this.#deps;
    const origin = this.#takeAddOrigin(message.header.sequence);
    if (message.header.type === NLMSG_ERROR) {
      // Generic Netlink itself refused (the family is gone: ENOENT; EPERM):
      // Jool never saw the request, so no Jool error message comes.
      const { errno } = decodeErrorPayload(message);
      if (errno !== 0) this.#refused(origin, `${errnoName(errno)} (kernel error ${errno})`);
      return;
    }
    if (message.header.type !== this.#target.familyId) return;
    let error;
    try {
      error = decodeJoolError(decodeGenericMessage(message));
    } catch (decodeError) {
      counters.kernelMalformed++;
      logger.error(`Ignoring a malformed reply from the kernel: ${errorText(decodeError)}`);
      return;
    }
    if (error === null) return;
    this.#refused(origin, `${error.message} (error ${error.code})`);
  }

  /** Counts a refusal of a request sent without waiting, and logs it within a budget. */
  #refused(origin: string | undefined, text: string): void {
    this.#deps.counters.kernelErrors++;
    const suppressed = this.#refusalLog.allow(text, (this.#deps.now ?? Date.now)());
    if (suppressed === null) return;
    const what = origin === undefined ? "a request" : `sessions from ${origin}`;
    this.#deps.logger.error(
      `The kernel refused ${what}: ${text}` +
        (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : ""),
    );
  }

  /** Reports that the kernel dropped multicast to us (ENOBUFS). */
  overrun(): void {
    this.#deps.counters.kernelOverruns++;
    this.#deps.logger.error(
      "The kernel dropped session batches: the netlink receive buffer overflowed (ENOBUFS)",
    );
    // A dropped batch was never ACKed; without this the kernel would hold
    // its queue until ss-flush-deadline.
    this.#ack();
    this.#handlers?.onOverrun();
  }
}
