/**
 * What a Jool kernel of a given version does with session sync, where it
 * changed within 4.1.x (checked against Jool's source at v4.1.9 to
 * v4.1.15: `should_send()` in src/mod/common/joold.c).
 *
 * @module
 */

import { joolVersion } from "./header.ts";

/** The release that rewrote the kernel's joold queue. */
const JOOL_4_1_11 = joolVersion(4, 1, 11);

/** The release from which `ss-flush-asap` no longer sends a partial batch. */
const JOOL_4_1_13 = joolVersion(4, 1, 13);

/**
 * Whether JOOLD_ADVERTISE makes the kernel multicast its session table.
 * Before 4.1.11 it is accepted and sends nothing.
 */
export function kernelAdvertises(version: number): boolean {
  return version >= JOOL_4_1_11;
}

/**
 * Whether `ss-max-payload` sizes the batch the kernel fills while it waits
 * for an ACK. From 4.1.11 on it does nothing (`ss-max-sessions-per-packet`
 * and `ss-capacity` rule the queue).
 */
export function kernelUsesMaxPayload(version: number): boolean {
  return version < JOOL_4_1_11;
}

/**
 * Whether `ss-flush-asap` sends a partial batch as soon as the daemon's ACK
 * is in. From 4.1.13 on it does nothing: a partial batch waits until
 * `ss-flush-deadline` has passed since the last batch, checked only when a
 * session is queued, when an ACK comes, and every 2 s.
 */
export function kernelHonoursFlushAsap(version: number): boolean {
  return version < JOOL_4_1_13;
}
