/**
 * Made-up sessions for tests and benchmarks: valid in every encoding, and
 * different from one another by their ports.
 *
 * @module
 */

import type { Session } from "../../src/jool/session.ts";

/**
 * The `index`-th UDP session of one IPv6 client through pool4 address
 * 192.0.2.1: its source port and pool4 port grow with `index` (0 to 20,000).
 */
export function sampleUdpSession(index: number): Session {
  return {
    proto: "UDP",
    src6: { address: "2001:db8::5", port: 10000 + index },
    dst6: { address: "64:ff9b::cb00:7109", port: 53 },
    src4: { address: "192.0.2.1", port: 20000 + index },
    dst4: { address: "203.0.113.9", port: 53 },
    state: 0,
    timer: 0,
    expirationMs: 300_000,
  };
}
