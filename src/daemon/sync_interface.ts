/**
 * Keeps the multicast sockets joined while the sync interface goes and
 * comes back. When an interface is deleted the kernel drops the group
 * membership held on it, and IP(V6)_MULTICAST_IF keeps naming its old
 * index; one re-created with the same name and addresses gets a new index,
 * so without a rejoin the daemon stays deaf and mute for as long as it
 * runs. Like keepalived and conntrackd, the daemon keeps running: it says
 * once that the interface went away, keeps looking (on every rtnetlink
 * link or address event, and every second while it is missing, with a
 * reminder every minute), and when the interface is usable again rejoins
 * the group on it, says so once, counts it and asks the peers for what it
 * missed. With neither in nor out interface configured, the interface
 * watched is the one the kernel chooses for the group (by its route: where
 * a datagram to the group would leave from), and the group is joined on it
 * by index: an IPv6 socket keeps its membership entry for a deleted
 * interface, so joining "where the kernel chooses" (index 0) again would
 * find that entry and do nothing.
 *
 * {@link SyncInterfaceWatch} is the policy, with the look-ups, the rejoin
 * and time passed in; {@link openSyncInterfaceWatch} wires it to an
 * rtnetlink socket and the reactor.
 *
 * @module
 */

import { interfaceAddresses, interfaceIndex } from "../../ffi/interfaces.ts";
import type { Libc } from "../../ffi/libc.ts";
import type { Reactor } from "../../ffi/reactor.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { AF_INET } from "../../ffi/constants.ts";
import type { InterfaceChoice } from "../config/netsocket.ts";
import { errorText } from "../error_text.ts";
import type { Logger } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { MulticastSocketOptions } from "../sync/multicast_socket.ts";
import { RouteEventSocket } from "../sync/route_socket.ts";
import { sourceBytesTowards } from "../sync/unicast_socket.ts";
import { interfaceHolding, systemEnvironment } from "../config/environment.ts";
import { SyscallError } from "../../ffi/errors.ts";
import type { Clock, TimerHandle } from "./clock.ts";

/** While the interface is missing (or the rejoin fails), look again this often. */
export const INTERFACE_RETRY_MS = 1000;
/** While it stays missing, say so again this often. */
export const INTERFACE_REMINDER_MS = 60_000;

/** rtnetlink datagrams read per wake-up at most. */
const MAX_EVENT_READS = 64;

/** An interface as it is now: the choice brought up to date, and its index. */
export interface LocatedInterface {
  /** The configured choice with today's index (kind `name`). */
  choice: InterfaceChoice;
  index: number;
}

/** What the watch works with. */
export interface SyncInterfaceWatchDeps {
  /** The sockets' options as configured (in and out interfaces, group). */
  options: MulticastSocketOptions;
  /** Where `choice` is now, or null if no interface matches it. */
  locate(choice: InterfaceChoice): LocatedInterface | null;
  /**
   * With neither interface configured: the interface the kernel chooses for
   * the group now, or null if none (no route). Absent: not watched.
   */
  kernelChoice?(): LocatedInterface | null;
  /** Joins every socket to the group again with `options`. Throws on failure. */
  rejoin(options: MulticastSocketOptions): void;
  /** Told after a rejoin (e.g. to ask the peers for what was missed). */
  onBack(): void;
  counters: Pick<SyncCounters, "syncInterfaceLosses" | "syncInterfaceReturns">;
  logger: Logger;
  clock: Pick<Clock, "monotonic" | "setTimer" | "clearTimer" | "repeat">;
}

/** The in and out interfaces the sockets depend on, without repeats. */
function watchedChoices(options: MulticastSocketOptions): InterfaceChoice[] {
  const choices: InterfaceChoice[] = [];
  for (const choice of [options.inInterface, options.outInterface]) {
    if (choice !== null && !choices.some((seen) => seen.text === choice.text)) choices.push(choice);
  }
  return choices;
}

/** How a choice reads in a log line: `eth0`, or `eth0 (198.51.100.1)`. */
function describeChoice(choice: InterfaceChoice): string {
  return choice.kind === "address" ? `${choice.name} (${choice.text})` : choice.text;
}

/** The sync interface's presence, and the rejoin when it is back. */
export class SyncInterfaceWatch {
  readonly #deps: SyncInterfaceWatchDeps;
  readonly #choices: InterfaceChoice[];
  readonly #label: string;
  /** The indexes the sockets are joined on, e.g. "7" or "7,9"; null while not joined. */
  #joined: string | null;
  /** When the interface went away (monotonic ms), while it is away. */
  #lostAtMs: number | null = null;
  #lastReminderMs = 0;
  #lastRejoinError: string | null = null;
  #retry: TimerHandle | null = null;

  constructor(deps: SyncInterfaceWatchDeps) {
    this.#deps = deps;
    this.#choices = watchedChoices(deps.options);
    this.#label = this.#choices.length > 0
      ? this.#choices.map(describeChoice).join(" and ")
      : "chosen by the kernel";
    const located = this.#locateAll();
    this.#joined = located.some((found) => found === null)
      ? null
      : located.map((found) => found!.index).join(",");
  }

  /** False when there is nothing to watch (no interface configured, no way to find the kernel's). */
  get watching(): boolean {
    return this.#choices.length > 0 || this.#deps.kernelChoice !== undefined;
  }

  /** Where the watched interfaces are now: the configured ones, or the kernel's choice. */
  #locateAll(): (LocatedInterface | null)[] {
    if (this.#choices.length > 0) return this.#choices.map((choice) => this.#deps.locate(choice));
    return [this.#deps.kernelChoice?.() ?? null];
  }

  /** Looks at the interfaces again (after an rtnetlink event, or on the retry timer). */
  check(): void {
    if (!this.watching) return;
    const { logger, clock } = this.#deps;
    const located = this.#locateAll();
    if (located.some((found) => found === null)) {
      this.#lost();
      const missingMs = clock.monotonic() - this.#lostAtMs!;
      if (clock.monotonic() - this.#lastReminderMs >= INTERFACE_REMINDER_MS) {
        this.#lastReminderMs = clock.monotonic();
        logger.warning(
          `Sync interface ${this.#label} still missing after ${Math.round(missingMs / 1000)} s; ` +
            "still waiting for it",
        );
      }
      return;
    }
    const indexes = located.map((found) => found!.index).join(",");
    if (this.#lostAtMs === null && indexes === this.#joined) return;
    // Deleted and re-created between two looks: it went away all the same.
    if (this.#lostAtMs === null) this.#lost();
    this.#rejoin(located as LocatedInterface[], indexes);
  }

  #lost(): void {
    if (this.#lostAtMs !== null) return;
    const { clock, counters, logger } = this.#deps;
    this.#lostAtMs = clock.monotonic();
    this.#lastReminderMs = this.#lostAtMs;
    this.#joined = null;
    counters.syncInterfaceLosses++;
    logger.warning(
      `Sync interface ${this.#label} went away: not receiving from or sending to group ` +
        `${this.#deps.options.address} until it is back`,
    );
    this.#retry = clock.repeat(() => this.check(), INTERFACE_RETRY_MS);
  }

  #rejoin(located: LocatedInterface[], indexes: string): void {
    const { options, rejoin, logger, clock, counters } = this.#deps;
    const current = (choice: InterfaceChoice | null) =>
      choice === null
        ? null
        : located[this.#choices.findIndex((c) => c.text === choice.text)].choice;
    try {
      rejoin(
        this.#choices.length === 0
          // The kernel's choice, by index; sends still go where the kernel chooses.
          ? { ...options, inInterface: located[0].choice }
          : {
            ...options,
            inInterface: current(options.inInterface),
            outInterface: current(options.outInterface),
          },
      );
    } catch (error) {
      const text = errorText(error);
      // Said once per distinct failure; the retry timer keeps trying.
      if (text !== this.#lastRejoinError) {
        this.#lastRejoinError = text;
        logger.warning(
          `Cannot rejoin group ${options.address} on sync interface ${this.#label} yet: ${text}`,
        );
      }
      return;
    }
    const awayMs = clock.monotonic() - this.#lostAtMs!;
    this.#lostAtMs = null;
    this.#lastRejoinError = null;
    this.#joined = indexes;
    if (this.#retry !== null) clock.clearTimer(this.#retry);
    this.#retry = null;
    counters.syncInterfaceReturns++;
    logger.info(
      `Sync interface ${this.#label} is back (index ${indexes}) after ` +
        `${(awayMs / 1000).toFixed(1)} s: rejoined group ${options.address}`,
    );
    this.#deps.onBack();
  }

  /** Cancels the retry timer (on shutdown). */
  close(): void {
    if (this.#retry !== null) this.#deps.clock.clearTimer(this.#retry);
    this.#retry = null;
  }
}

/**
 * Where `choice` is now, from the C library: an interface name's index
 * (if_nametoindex), or the interface holding an IPv4 address (getifaddrs).
 */
export function locateWithLibc(libc: Libc): (choice: InterfaceChoice) => LocatedInterface | null {
  return (choice) => {
    if (choice.kind === "name") {
      const index = interfaceIndex(libc, choice.text);
      return index === 0 ? null : { choice: { ...choice, index }, index };
    }
    const holder = interfaceAddresses(libc).find((entry) =>
      entry.family === AF_INET && entry.address.every((byte, i) => byte === choice.address[i])
    );
    if (holder === undefined) return null;
    const index = interfaceIndex(libc, holder.name);
    return index === 0 ? null : { choice: { ...choice, name: holder.name }, index };
  };
}

/**
 * The interface the kernel chooses for the group now: the one holding the
 * address a datagram to the group would leave from (a UDP connect(), which
 * sends nothing); null if there is none (no route).
 */
export function kernelChoiceWithLibc(
  libc: Libc,
  sockets: Sockets,
  options: MulticastSocketOptions,
): () => LocatedInterface | null {
  const group = { address: options.group, port: options.port, text: options.address };
  return () => {
    let local: Uint8Array;
    try {
      local = sourceBytesTowards(sockets, { family: options.family, inInterface: null }, group);
    } catch (error) {
      if (error instanceof SyscallError) return null;
      throw error;
    }
    const index = interfaceHolding(systemEnvironment(libc), local);
    if (index === 0) return null;
    return { choice: { kind: "name", text: `index ${index}`, index }, index };
  };
}

/** What {@link openSyncInterfaceWatch} wires. */
export interface SyncInterfaceWiring {
  libc: Libc;
  sockets: Sockets;
  reactor: Reactor;
  options: MulticastSocketOptions;
  /** The sockets on the group (data and control port). */
  groupSockets: { rejoin(options: MulticastSocketOptions): void }[];
  onBack(): void;
  counters: SyncInterfaceWatchDeps["counters"];
  logger: Logger;
  clock: Clock;
}

/**
 * Watches the sync interface through an rtnetlink socket on `reactor`.
 * Returns what to close at shutdown, or null if there is nothing to watch
 * (no socket on a group: unicast peers).
 */
export function openSyncInterfaceWatch(wiring: SyncInterfaceWiring): { close(): void } | null {
  const { libc, sockets, reactor, groupSockets, logger } = wiring;
  // Unicast peers: no group to rejoin; the routing table finds them again.
  if (groupSockets.length === 0) return null;
  const watch = new SyncInterfaceWatch({
    ...wiring,
    locate: locateWithLibc(libc),
    kernelChoice: kernelChoiceWithLibc(libc, sockets, wiring.options),
    rejoin: (options) => {
      for (const socket of groupSockets) socket.rejoin(options);
    },
  });
  if (!watch.watching) return null;
  const events = RouteEventSocket.open(sockets);
  reactor.watch(events.fd, { readable: true }, () => {
    let changed = false;
    try {
      // Bounded like every socket the loop serves; what is left wakes it again.
      for (let reads = 0; reads < MAX_EVENT_READS; reads++) {
        const reading = events.receive();
        if (reading === null) break;
        // Any link or address event, or lost ones, may concern the sync interface.
        if (reading.kind === "overrun" || reading.events.length > 0) changed = true;
      }
    } catch (error) {
      logger.warning(`Cannot read interface events: ${errorText(error)}`);
      changed = true;
    }
    if (changed) watch.check();
  });
  return {
    close: () => {
      watch.close();
      reactor.unwatch(events.fd);
      events.close();
    },
  };
}
