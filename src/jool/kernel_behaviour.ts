/**
 * What a Jool kernel of a given version does with session sync, where it
 * changed within 4.1.x (checked against Jool's source at v4.1.9, v4.1.10
 * and v4.1.11: commit 4fcfe184 "Fix joold advertise").
 *
 * @module
 */

import { joolVersion } from "./header.ts";

/** The release that rewrote the kernel's joold queue. */
const JOOL_4_1_11 = joolVersion(4, 1, 11);

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
