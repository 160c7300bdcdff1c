/**
 * Lossless delivery's view of each peer (docs/lossless.md), as the stats
 * show it: whether everything the peer announced arrived, and when that
 * was last confirmed. A daemon status can read {@link hasKnownGaps} from it.
 *
 * @module
 */

/** One peer host's delivery state. */
export interface PeerDeliveryState {
  /** The peer's epoch (random per start of its daemon). */
  epoch: number;
  /** Nothing missing and no known gap at the last check of its LEDGERs. */
  inSync: boolean;
  /** Wall-clock ms of the last check that found it in sync; 0: never. */
  lastConfirmedMs: number;
  /** Its datagrams missing now (being asked for). */
  missing: number;
  /** Some of its datagrams were given up, and no advertisement of its table came since. */
  knownGap: boolean;
}

/** The states by peer host (`2001:db8::1`, `192.0.2.1`); empty when the machinery is off. */
export type DeliveryStates = () => ReadonlyMap<string, PeerDeliveryState>;

/** Whether any peer has a known gap: sessions it sent that did not all arrive. */
export function hasKnownGaps(states: ReadonlyMap<string, PeerDeliveryState>): boolean {
  return knownGapCount(states) > 0;
}

/** How many peers have a gap given up and not yet closed by a re-advertised table. */
export function knownGapCount(states: ReadonlyMap<string, PeerDeliveryState>): number {
  let count = 0;
  for (const state of states.values()) if (state.knownGap) count++;
  return count;
}
