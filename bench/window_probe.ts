/**
 * The exposure-window benchmark's session maker (bench/window_guest.sh runs
 * it in node 1's client): COUNT new UDP flows to one IPv6 destination, one
 * datagram each from source ports FIRST.., INTERVAL_MS apart (0: as fast as
 * it can), each logged as `EPOCH_MS SOURCE_PORT` the moment it is sent. The
 * NAT64 node creates the session as it translates that datagram, so the
 * time is the session's creation time on node 1 (within the translation).
 *
 * ```sh
 * deno run --allow-all --no-config bench/window_probe.ts 64:ff9b::192.0.2.2 7777 20000 30 250
 * ```
 *
 * @module
 */

import dgram from "node:dgram";

/** What {@link openFlows} opens. */
export interface ProbePlan {
  destination: string;
  port: number;
  firstSourcePort: number;
  count: number;
  intervalMs: number;
}

/**
 * Checks a plan from command-line words (destination, port, first source
 * port, count, interval).
 *
 * @throws {RangeError} If a word is invalid or the source ports overflow.
 */
export function parseProbePlan(words: readonly string[]): ProbePlan {
  if (words.length !== 5) {
    throw new RangeError(
      `Expected DESTINATION PORT FIRST_SOURCE_PORT COUNT INTERVAL_MS, got ${words.length} arguments`,
    );
  }
  const [destination, ...numbers] = words;
  const [port, firstSourcePort, count, intervalMs] = numbers.map((word, i) => {
    if (!/^\d+$/.test(word)) {
      throw new RangeError(
        `Invalid ${["port", "first source port", "count", "interval"][i]}: ${word}`,
      );
    }
    return Number(word);
  });
  if (port < 1 || port > 65535) throw new RangeError(`Invalid port: ${port}`);
  if (count < 1 || firstSourcePort < 1 || firstSourcePort + count - 1 > 65535) {
    throw new RangeError(`Source ports ${firstSourcePort}+${count} do not fit in 1-65535`);
  }
  return { destination, port, firstSourcePort, count, intervalMs };
}

const PAYLOAD = new TextEncoder().encode("window\n");

/** Datagrams sent before the first flow, from one source port not measured. */
const WARM_UP_SENDS = 5;

/** The discard port: the warm-up's datagrams only make one session on the way. */
const DISCARD_PORT = 9;

/**
 * Sends a few datagrams to the destination's discard port from one port of
 * its own, before the measured flows: a fresh process's first sends take
 * the node:dgram layer's compilation (under an emulated CPU some 100-200
 * ms), and the first packet towards node 1 waits for neighbour discovery
 * (some 50 ms); either would count as the first flow's window.
 */
async function warmUpSends(destination: string): Promise<void> {
  const socket = dgram.createSocket({ type: "udp6" });
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  for (let i = 0; i < WARM_UP_SENDS; i++) {
    await new Promise<void>((resolve) =>
      socket.send(PAYLOAD, DISCARD_PORT, destination, () => resolve())
    );
  }
  socket.close();
}

/** Opens the flows, calling `sent(ms, sourcePort)` as each one's datagram goes. */
export async function openFlows(
  plan: ProbePlan,
  sent: (ms: number, sourcePort: number) => void,
): Promise<void> {
  await warmUpSends(plan.destination);
  const start = performance.now();
  for (let i = 0; i < plan.count; i++) {
    const due = start + i * plan.intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sourcePort = plan.firstSourcePort + i;
    const socket = dgram.createSocket({ type: "udp6" });
    await new Promise<void>((resolve) => socket.bind(sourcePort, resolve));
    await new Promise<void>((resolve, reject) => {
      sent(performance.timeOrigin + performance.now(), sourcePort);
      socket.send(
        PAYLOAD,
        plan.port,
        plan.destination,
        (error) => error ? reject(error) : resolve(),
      );
    });
    socket.close();
  }
}

if (import.meta.main) {
  const plan = parseProbePlan(Deno.args);
  const lines: string[] = [];
  await openFlows(plan, (ms, port) => lines.push(`${ms.toFixed(1)} ${port}`));
  console.log(lines.join("\n"));
}
