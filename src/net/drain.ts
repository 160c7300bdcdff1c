/**
 * How the daemon reads a socket the reactor reports readable, the same for
 * the netlink socket and the multicast sockets: a bounded number of
 * datagrams per wake-up, into a receive buffer large enough for a burst.
 *
 * @module
 */

/**
 * Datagrams read from one socket per wake-up before yielding, so that a
 * flood on one socket leaves the others and the timers their turn.
 */
export const MAX_DATAGRAMS_PER_WAKE = 256;

/**
 * Receive buffer asked for on every sync socket: room for bursts while the
 * daemon is busy. A kernel with a raised ss-max-payload multicasts batches
 * of many kilobytes, and a peer with one sends a batch as dozens of
 * datagrams at once (up to 47 for 64 KiB); the default buffer (about 200
 * KiB, some 90 such datagrams) overflows if the daemon is busy for a few
 * milliseconds. Memory is only used while datagrams wait.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Calls `readOne` until it returns false (the socket is empty, or reading
 * should stop) or {@link MAX_DATAGRAMS_PER_WAKE} times.
 */
export function drain(readOne: () => boolean): void {
  for (let i = 0; i < MAX_DATAGRAMS_PER_WAKE; i++) {
    if (!readOne()) return;
  }
}
