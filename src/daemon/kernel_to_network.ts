/**
 * The relay from the kernel to the peers: each batch of our instance's
 * sessions (already ACKed by the kernel link) goes to the group, split
 * into datagrams of whole sessions if the kernel made it larger than the
 * peers read (a raised ss-max-payload).
 *
 * @module
 */

import { splitBatch } from "../sync/batch_split.ts";
import type { Clock } from "./clock.ts";
import type { LocalJool } from "./local_jool.ts";
import type { SyncMeasures } from "./measures.ts";
import type { GroupSender } from "./peer_channel.ts";

/** The largest UDP payload over IPv4 (IPv6 allows 20 bytes more). */
const MAX_UDP_PAYLOAD = 65507;

/** What the relay works with. */
export interface KernelToNetworkDeps {
  /** The group. */
  sender: GroupSender;
  /** Learns the module's version from the first batch if it was not known. */
  jool: LocalJool;
  /** Relay latency and the time of the last sync. */
  measures: SyncMeasures;
  clock: Clock;
  /**
   * Bytes the channel adds to each datagram (sealing: "auth key file");
   * default 0. When set, each kernel batch goes whole as one datagram (up
   * to UDP's limit), not split for the C joold's 2 KiB buffer and the MTU:
   * only our daemons read sealed datagrams, and they read any size, while
   * each seal costs mostly per call (one seal per batch instead of 23 for
   * Jool 4.1.9's 32 KiB batches cut the CPU that auth adds from about +90%
   * to +50% in the benchmark: BENCHMARKS.md). The IP layer fragments what
   * exceeds the link's MTU. And batches are sent after the kernel socket's wake-up, not
   * within it (see {@link KernelToNetwork.relay}).
   */
  datagramOverhead?: number;
}

/** Sends the kernel's batches to the peers. */
export class KernelToNetwork {
  readonly #deps: KernelToNetworkDeps;
  /** Sealed mode: batches ACKed and waiting to be sent, oldest first. */
  readonly #waiting: [payload: Uint8Array, receivedAt: number][] = [];
  readonly #sendWaiting = () => {
    for (const [payload, receivedAt] of this.#waiting.splice(0)) this.#send(payload, receivedAt);
  };

  constructor(deps: KernelToNetworkDeps) {
    this.#deps = deps;
  }

  /**
   * Relays one batch (see `KernelLinkHandlers.onBatch`): its payload, the
   * kernel's version, and `performance.now()` when it came in.
   */
  relay(payload: Uint8Array, kernelVersion: number, receivedAt: number): void {
    this.#deps.jool.learnFromBatch(kernelVersion);
    if ((this.#deps.datagramOverhead ?? 0) === 0) {
      this.#send(payload, receivedAt);
      return;
    }
    // Sealing costs far more than a send. Jool 4.1.10 and earlier send
    // the next batch as soon as they see the ACK, and hold new sessions
    // (dropping what overflows one batch) until they see the next ACK: so
    // the batches the kernel socket holds are all read and ACKed first,
    // and sealed and sent once that wake-up is over. The payload is a view
    // into the socket's buffer, which the next read overwrites.
    if (this.#waiting.length === 0) queueMicrotask(this.#sendWaiting);
    this.#waiting.push([payload.slice(), receivedAt]);
  }

  #send(payload: Uint8Array, receivedAt: number): void {
    const { sender, measures, clock } = this.#deps;
    // With a raised ss-max-payload, peers get datagrams of whole sessions
    // that fit the MTU; an ordinary batch is one part, as it came.
    let sent = false;
    const overhead = this.#deps.datagramOverhead ?? 0;
    const parts = overhead === 0
      ? splitBatch(payload)
      : splitBatch(payload, MAX_UDP_PAYLOAD - overhead, MAX_UDP_PAYLOAD - overhead);
    for (const part of parts) sent = sender.send(part) || sent;
    if (sent) {
      measures.relayLatency.recordMs(clock.monotonic() - receivedAt);
      measures.lastSyncMs = clock.now();
    }
  }
}
