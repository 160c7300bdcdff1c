/**
 * Load generator for the end-to-end VM: one UDP datagram from each of COUNT
 * consecutive source ports to one IPv6 destination, so that a NAT64 node
 * between them creates COUNT sessions. Run inside a client namespace:
 *
 * ```sh
 * deno run --allow-all --no-config tests/e2e/lib/udp_flows.ts 64:ff9b::192.0.2.2 7777 20000 1000
 * ```
 *
 * Under TCG a fork per datagram (bash's /dev/udp, nc) costs milliseconds and
 * reuses ephemeral ports; one process with a socket per explicit source port
 * sends a thousand in well under a second. Sockets go through the project's
 * FFI layer (ffi/), the only code here that calls libc. Prints one summary
 * line; exits 1 on any failure.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AF_INET6, SOCK_DGRAM } from "../../../ffi/constants.ts";
import { Libc } from "../../../ffi/libc.ts";
import { sockaddrIn6 } from "../../../ffi/sockaddr.ts";
import { Sockets } from "../../../ffi/sockets.ts";
import { parseIPv6 } from "../../../src/net/ip.ts";

/** What {@link sendFlows} sends. */
export interface FlowPlan {
  /** IPv6 destination, e.g. `64:ff9b::192.0.2.2`. */
  destination: string;
  destinationPort: number;
  /** Source port of the first datagram; the others follow consecutively. */
  firstSourcePort: number;
  count: number;
}

const PAYLOAD = new TextEncoder().encode("hello\n");
const ANY6 = new Uint8Array(16);

function parsePort(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new RangeError(`Invalid ${what}: ${text}`);
  }
  return port;
}

/**
 * Checks a plan from command-line words (destination, port, first source
 * port, count).
 *
 * @throws {RangeError} If a word is invalid or the source ports overflow.
 */
export function parseFlowPlan(words: readonly string[]): FlowPlan {
  if (words.length !== 4) {
    throw new RangeError(
      `Expected DESTINATION PORT FIRST_SOURCE_PORT COUNT, got ${words.length} arguments`,
    );
  }
  if (parseIPv6(words[0]) === null) throw new RangeError(`Not an IPv6 address: ${words[0]}`);
  const count = Number(words[3]);
  if (!/^\d+$/.test(words[3]) || count < 1) throw new RangeError(`Invalid count: ${words[3]}`);
  const plan = {
    destination: words[0],
    destinationPort: parsePort(words[1], "destination port"),
    firstSourcePort: parsePort(words[2], "first source port"),
    count,
  };
  if (plan.firstSourcePort + count - 1 > 65535) {
    throw new RangeError(`Source ports ${plan.firstSourcePort}+${count} go past 65535`);
  }
  return plan;
}

/** Sends the plan's datagrams, one fresh socket per source port. */
export function sendFlows(sockets: Sockets, plan: FlowPlan): void {
  const destination = sockaddrIn6(parseIPv6(plan.destination)!, plan.destinationPort);
  for (let i = 0; i < plan.count; i++) {
    const port = plan.firstSourcePort + i;
    const fd = sockets.open(AF_INET6, SOCK_DGRAM, 0, "AF_INET6");
    try {
      sockets.bind(fd, sockaddrIn6(ANY6, port), `[::]:${port}`);
      // A fresh socket's send buffer is empty: "would block" would be a bug.
      if (sockets.send(fd, PAYLOAD, destination, "flow") === null) {
        throw new Error(`Cannot send from port ${port}: the socket's buffer is full`);
      }
    } finally {
      sockets.close(fd, "flow");
    }
  }
}

if (import.meta.main) {
  const { positionals } = parseArgs({ args: Deno.args, allowPositionals: true });
  const libc = Libc.open();
  try {
    const plan = parseFlowPlan(positionals);
    const started = performance.now();
    sendFlows(new Sockets(libc), plan);
    const last = plan.firstSourcePort + plan.count - 1;
    console.log(
      `udp_flows: sent ${plan.count} datagrams from ports ${plan.firstSourcePort}-${last} ` +
        `to [${plan.destination}]:${plan.destinationPort} in ` +
        `${Math.round(performance.now() - started)} ms`,
    );
  } catch (error) {
    console.error(`udp_flows: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exitCode = 1;
  } finally {
    libc.close();
  }
}
