/**
 * Forged sealed datagrams for the sealed-flood scenario (tests/e2e/scenarios/faults_sealed.sh):
 * each keeps the clear header of a captured one (magic, format, the current
 * key id) and carries a fresh counter, so the receiver's clear checks pass
 * and only an AEAD attempt could refuse it. Every other one names the
 * captured sender (a live peer's id, from the wrong host); the rest name a
 * new random sender each, so the receiver's budget for ids not yet
 * authentic is what stands between the flood and its CPU.
 *
 * @module
 */

import { SEALED_HEADER_BYTES, SEALED_TAG_BYTES } from "../../../src/auth/sealed_datagram.ts";

/** Random bodies made once and used in turn: making one per datagram would slow the flood. */
const BODIES = 64;

/** Makes the i-th forged datagram; `nowUs` is the sender's clock (microseconds since the epoch). */
export type SealedGarbageMaker = (i: number, nowUs: number) => Uint8Array;

/**
 * A maker of forged datagrams shaped like `captured` (a sealed datagram),
 * `size` bytes each (the AEAD's cost grows with it; default: the captured
 * one's); `random` fills bytes (crypto.getRandomValues by default).
 */
export function sealedGarbage(
  captured: Uint8Array,
  size = captured.byteLength,
  random: (bytes: Uint8Array) => void = (bytes) => crypto.getRandomValues(bytes),
): SealedGarbageMaker {
  const least = SEALED_HEADER_BYTES + SEALED_TAG_BYTES;
  if (captured.byteLength < least || size < least) {
    throw new RangeError(`A sealed datagram has at least ${least} bytes`);
  }
  const capturedSender = new DataView(captured.buffer, captured.byteOffset).getUint32(4);
  const bodies = Array.from({ length: BODIES }, () => {
    const datagram = new Uint8Array(size);
    datagram.set(captured.subarray(0, 4));
    random(datagram.subarray(SEALED_HEADER_BYTES));
    return datagram;
  });
  const senders = new Uint32Array(1);
  return (i, nowUs) => {
    const datagram = bodies[i % BODIES];
    const view = new DataView(datagram.buffer);
    if (i % 2 === 0) {
      view.setUint32(4, capturedSender);
    } else {
      random(new Uint8Array(senders.buffer));
      view.setUint32(4, senders[0]);
    }
    const counter = Math.floor(nowUs) + i;
    view.setUint32(8, Math.floor(counter / 2 ** 32));
    view.setUint32(12, counter >>> 0);
    return datagram;
  };
}
