import assert from "node:assert/strict";
import type { InterfaceChoice } from "../config/netsocket.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import type { MulticastSocketOptions } from "../sync/multicast_socket.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import {
  INTERFACE_REMINDER_MS,
  INTERFACE_RETRY_MS,
  type LocatedInterface,
  SyncInterfaceWatch,
} from "./sync_interface.ts";

const ETH0: InterfaceChoice = { kind: "name", text: "eth0", index: 7 };

function options(inInterface: InterfaceChoice | null): MulticastSocketOptions {
  return {
    family: "ipv6",
    address: "ff08::db8:64:64",
    group: new Uint8Array(16),
    port: 6464,
    inInterface,
    outInterface: null,
    ttl: 1,
  };
}

/**
 * A watch over a fake set of interfaces: `links` maps what names one (an
 * interface name, or an address it holds) to its index; the in interface
 * starts at index 7.
 */
function watched(inInterface: InterfaceChoice | null = ETH0) {
  const links = new Map<string, number>([[inInterface?.text ?? "eth0", 7]]);
  const logs: string[] = [];
  const rejoined: (InterfaceChoice | null)[] = [];
  const clock = new ManualClock();
  const counters = new SyncCounters();
  let refuseRejoin: string | null = null;
  let backs = 0;
  const watch = new SyncInterfaceWatch({
    options: options(inInterface),
    locate: (choice): LocatedInterface | null => {
      const index = links.get(choice.text);
      return index === undefined
        ? null
        : { choice: { ...choice, index } as InterfaceChoice, index };
    },
    rejoin: (current) => {
      if (refuseRejoin !== null) throw new Error(refuseRejoin);
      rejoined.push(current.inInterface);
    },
    onBack: () => backs++,
    counters,
    logger: new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`)),
    clock,
  });
  return {
    watch,
    links,
    logs,
    rejoined,
    clock,
    counters,
    backs: () => backs,
    refuse: (why: string | null) => (refuseRejoin = why),
  };
}

Deno.test("sync interface: events that change nothing do nothing", () => {
  const { watch, logs, rejoined, counters } = watched();
  watch.check();
  watch.check();
  assert.deepEqual(logs, []);
  assert.deepEqual(rejoined, []);
  assert.equal(counters.syncInterfaceLosses, 0);
});

Deno.test("sync interface deleted and re-created: one line each way, rejoined on the new index, counted, peers asked", () => {
  const { watch, links, logs, rejoined, clock, counters, backs } = watched();
  links.delete("eth0");
  watch.check();
  watch.check(); // more events while it is away: no more lines
  clock.advance(3 * INTERFACE_RETRY_MS);
  assert.deepEqual(logs, [
    "warning: Sync interface eth0 went away: not receiving from or sending to group " +
    "ff08::db8:64:64 until it is back",
  ]);
  links.set("eth0", 12);
  clock.advance(500);
  watch.check();
  assert.deepEqual(rejoined, [{ kind: "name", text: "eth0", index: 12 }]);
  assert.deepEqual(logs.slice(1), [
    "info: Sync interface eth0 is back (index 12) after 3.5 s: rejoined group ff08::db8:64:64",
  ]);
  assert.equal(counters.syncInterfaceLosses, 1);
  assert.equal(counters.syncInterfaceReturns, 1);
  assert.equal(backs(), 1);
  assert.equal(clock.timers.size, 0, "the retry timer stops once back");
});

Deno.test("sync interface re-created between two looks: seen as gone and back", () => {
  const { watch, links, logs, rejoined, counters } = watched();
  links.set("eth0", 13);
  watch.check();
  assert.equal(logs.length, 2);
  assert.match(logs[0], /^warning: Sync interface eth0 went away/);
  assert.match(logs[1], /^info: Sync interface eth0 is back \(index 13\)/);
  assert.deepEqual(rejoined, [{ kind: "name", text: "eth0", index: 13 }]);
  assert.equal(counters.syncInterfaceReturns, 1);
});

Deno.test("sync interface back without an event: the retry timer finds it within a second", () => {
  const { watch, links, rejoined, clock } = watched();
  links.delete("eth0");
  watch.check();
  links.set("eth0", 14);
  clock.advance(INTERFACE_RETRY_MS);
  assert.deepEqual(rejoined, [{ kind: "name", text: "eth0", index: 14 }]);
});

Deno.test("sync interface that stays away: a reminder a minute, the daemon keeps waiting", () => {
  const { watch, links, logs, clock } = watched();
  links.delete("eth0");
  watch.check();
  clock.advance(10 * INTERFACE_REMINDER_MS);
  assert.equal(logs.length, 11, logs.join("\n"));
  assert.equal(
    logs[1],
    "warning: Sync interface eth0 still missing after 60 s; still waiting for it",
  );
  assert.match(logs[10], /still missing after 600 s/);
});

Deno.test("sync interface back but the rejoin fails: said once, retried until it works", () => {
  const { watch, links, logs, rejoined, clock, refuse } = watched();
  links.delete("eth0");
  watch.check();
  links.set("eth0", 15);
  refuse("setsockopt(IPV6_ADD_MEMBERSHIP) failed: ENODEV (No such device)");
  clock.advance(5 * INTERFACE_RETRY_MS);
  assert.deepEqual(logs.slice(1), [
    "warning: Cannot rejoin group ff08::db8:64:64 on sync interface eth0 yet: " +
    "setsockopt(IPV6_ADD_MEMBERSHIP) failed: ENODEV (No such device)",
  ]);
  refuse(null);
  clock.advance(INTERFACE_RETRY_MS);
  assert.equal(rejoined.length, 1);
  assert.match(logs[2], /^info: Sync interface eth0 is back \(index 15\) after 6\.0 s/);
});

Deno.test("sync interface by IPv4 address: named with the interface holding it", () => {
  const choice: InterfaceChoice = {
    kind: "address",
    text: "198.51.100.1",
    address: new Uint8Array([198, 51, 100, 1]),
    name: "eth0",
  };
  const { watch, links, logs } = watched(choice);
  watch.check();
  assert.deepEqual(logs, []);
  links.delete("198.51.100.1");
  watch.check();
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^warning: Sync interface eth0 \(198\.51\.100\.1\) went away/);
});

Deno.test("no in or out interface: the kernel's choice is watched and joined again by index", () => {
  let chosen: number | null = 7; // the interface the kernel routes the group to
  const rejoined: (InterfaceChoice | null)[] = [];
  const logs: string[] = [];
  const clock = new ManualClock();
  const counters = new SyncCounters();
  let backs = 0;
  const watch = new SyncInterfaceWatch({
    options: options(null),
    locate: () => null,
    kernelChoice: () =>
      chosen === null
        ? null
        : { choice: { kind: "name", text: `index ${chosen}`, index: chosen }, index: chosen },
    rejoin: (current) => void rejoined.push(current.inInterface),
    onBack: () => backs++,
    counters,
    logger: new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`)),
    clock,
  });
  assert.equal(watch.watching, true);
  watch.check();
  assert.deepEqual(logs, [], "the same interface: nothing to do");
  chosen = null; // deleted: no route to the group
  watch.check();
  chosen = 9; // re-created with a new index
  clock.advance(INTERFACE_RETRY_MS);
  assert.deepEqual(rejoined, [{ kind: "name", text: "index 9", index: 9 }], "joined on index 9");
  assert.deepEqual(logs, [
    "warning: Sync interface chosen by the kernel went away: not receiving from or sending to " +
    "group ff08::db8:64:64 until it is back",
    "info: Sync interface chosen by the kernel is back (index 9) after 1.0 s: rejoined group " +
    "ff08::db8:64:64",
  ]);
  assert.deepEqual([counters.syncInterfaceLosses, counters.syncInterfaceReturns, backs], [1, 1, 1]);
});
