/**
 * The notification protocol against a fake NOTIFY_SOCKET: a real AF_UNIX
 * datagram socket the test binds (a path, and an abstract name), reading
 * what the notifier sends.
 */

import assert from "node:assert/strict";
import { AF_UNIX, SOCK_DGRAM } from "../../ffi/constants.ts";
import { Libc } from "../../ffi/libc.ts";
import { sockaddrUn } from "../../ffi/sockaddr.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { RUNTIME_PERMISSIONS } from "../../scripts/runtime_flags.ts";
import {
  NOTIFY_VARIABLES,
  type NotifyEnvironment,
  notifyMessage,
  notifySettings,
  ServiceNotifier,
} from "./service_notify.ts";

/** A fake service manager: a bound datagram socket, and what it received. */
class FakeServiceManager {
  readonly fd: number;
  readonly #sockets: Sockets;

  constructor(sockets: Sockets, name: string) {
    this.#sockets = sockets;
    this.fd = sockets.open(AF_UNIX, SOCK_DGRAM, 0, "fake NOTIFY_SOCKET");
    sockets.bind(this.fd, sockaddrUn(name), name);
  }

  /** Every datagram queued, as text. */
  received(): string[] {
    const messages: string[] = [];
    const buffer = new Uint8Array(4096);
    for (;;) {
      const got = this.#sockets.receive(this.fd, buffer, null, 0, "fake NOTIFY_SOCKET");
      if (got === null) return messages;
      messages.push(new TextDecoder().decode(buffer.subarray(0, got.length)));
    }
  }

  close(): void {
    this.#sockets.close(this.fd, "fake NOTIFY_SOCKET");
  }
}

function capture(): { lines: string[]; logger: LevelLogger } {
  const lines: string[] = [];
  return {
    lines,
    logger: new LevelLogger("debug", (level, line) => lines.push(`${level}: ${line}`)),
  };
}

Deno.test("notifySettings(): the socket, the watchdog at half WATCHDOG_USEC, WATCHDOG_PID", () => {
  const pid = 4242;
  const cases: [string, NotifyEnvironment, number | null, string | null, string[]][] = [
    ["nothing set: off", {}, null, null, []],
    ["empty NOTIFY_SOCKET: off", { NOTIFY_SOCKET: "" }, null, null, []],
    ["a path", { NOTIFY_SOCKET: "/run/systemd/notify" }, null, "/run/systemd/notify", []],
    ["a watchdog for us", { NOTIFY_SOCKET: "@n", WATCHDOG_USEC: "20000000" }, 10_000, "@n", []],
    [
      "WATCHDOG_PID names us",
      { NOTIFY_SOCKET: "@n", WATCHDOG_USEC: "3000000", WATCHDOG_PID: "4242" },
      1500,
      "@n",
      [],
    ],
    [
      "WATCHDOG_PID names another process: no pings",
      { NOTIFY_SOCKET: "@n", WATCHDOG_USEC: "3000000", WATCHDOG_PID: "1" },
      null,
      "@n",
      [],
    ],
    [
      "a WATCHDOG_USEC that is no number",
      { NOTIFY_SOCKET: "@n", WATCHDOG_USEC: "20s" },
      null,
      "@n",
      ["WATCHDOG_USEC='20s' is not a positive number: no watchdog pings"],
    ],
    [
      "WATCHDOG_USEC 0",
      { NOTIFY_SOCKET: "@n", WATCHDOG_USEC: "0" },
      null,
      "@n",
      ["WATCHDOG_USEC='0' is not a positive number: no watchdog pings"],
    ],
    [
      "a watchdog without a socket",
      { WATCHDOG_USEC: "1000000" },
      null,
      null,
      ["WATCHDOG_USEC without NOTIFY_SOCKET: ignored"],
    ],
  ];
  for (const [name, environment, intervalMs, socket, problems] of cases) {
    assert.deepEqual(
      notifySettings(environment, pid),
      { socket, watchdogIntervalMs: intervalMs, problems },
      name,
    );
  }
});

Deno.test("the executable may read the protocol's variables, and no other", () => {
  const env = RUNTIME_PERMISSIONS.filter((flag) => flag.startsWith("--allow-env"));
  assert.deepEqual(env, [`--allow-env=${NOTIFY_VARIABLES.join(",")}`]);
});

Deno.test("notifyMessage(): KEY=VALUE lines; a value's line breaks become spaces", () => {
  assert.equal(notifyMessage([["READY", "1"], ["STATUS", "a\nb"]]), "READY=1\nSTATUS=a b\n");
});

Deno.test("ServiceNotifier against a fake NOTIFY_SOCKET (a path): every message, in order", async () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const dir = await Deno.makeTempDir({ prefix: "joold-notify-" });
  const path = `${dir}/notify`;
  const manager = new FakeServiceManager(sockets, path);
  const clock = new ManualClock();
  const counters = new SyncCounters();
  const { lines, logger } = capture();
  const notifier = new ServiceNotifier(
    notifySettings({ NOTIFY_SOCKET: path, WATCHDOG_USEC: "4000000" }, Deno.pid),
    { sockets, logger, clock, counters },
  );
  try {
    assert.equal(notifier.enabled, true);
    assert.equal(notifier.watchdogIntervalMs, 2000);
    notifier.ready("resyncing from peers");
    notifier.startWatchdog();
    assert.deepEqual(manager.received(), [
      "READY=1\nSTATUS=resyncing from peers\n",
      "WATCHDOG=1\n",
    ]);
    clock.advance(1999);
    assert.deepEqual(manager.received(), []);
    clock.advance(1);
    clock.advance(2000);
    assert.deepEqual(manager.received(), ["WATCHDOG=1\n", "WATCHDOG=1\n"]);
    notifier.status("in sync: 192.0.2.2:6465 sent its sessions; 1 peer heard");
    notifier.reloading(() => 123456789n);
    notifier.ready();
    notifier.stopping();
    assert.deepEqual(manager.received(), [
      "STATUS=in sync: 192.0.2.2:6465 sent its sessions; 1 peer heard\n",
      "RELOADING=1\nMONOTONIC_USEC=123456789\n",
      "READY=1\n",
      "STOPPING=1\n",
    ]);
    notifier.close();
    clock.advance(10_000);
    assert.deepEqual(manager.received(), [], "no pings after close()");
    assert.equal(counters.serviceNotifyFailures, 0);
    assert.deepEqual(lines, []);
  } finally {
    notifier.close();
    manager.close();
    await Deno.remove(dir, { recursive: true });
    libc.close();
  }
});

Deno.test("ServiceNotifier: an abstract NOTIFY_SOCKET (@name) works the same", () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const name = `@joold-notify-test-${Deno.pid}`;
  const manager = new FakeServiceManager(sockets, name);
  const notifier = new ServiceNotifier(notifySettings({ NOTIFY_SOCKET: name }, Deno.pid), {
    sockets,
    logger: capture().logger,
    clock: new ManualClock(),
    counters: new SyncCounters(),
  });
  try {
    notifier.ready();
    notifier.startWatchdog(); // no WATCHDOG_USEC: nothing
    assert.deepEqual(manager.received(), ["READY=1\n"]);
  } finally {
    notifier.close();
    manager.close();
    libc.close();
  }
});

Deno.test("ServiceNotifier: without NOTIFY_SOCKET nothing is opened nor sent", () => {
  const calls: string[] = [];
  const sockets = {
    open: () => (calls.push("open"), 99),
    send: () => (calls.push("send"), 0),
    close: () => void calls.push("close"),
  };
  const notifier = new ServiceNotifier(notifySettings({}, 1), {
    sockets,
    logger: capture().logger,
    clock: new ManualClock(),
    counters: new SyncCounters(),
  });
  notifier.ready("x");
  notifier.startWatchdog();
  notifier.stopping();
  notifier.close();
  assert.equal(notifier.enabled, false);
  assert.deepEqual(calls, []);
});

Deno.test("ServiceNotifier: a socket nobody listens on is logged once per interval, counted, never thrown", () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const clock = new ManualClock();
  const counters = new SyncCounters();
  const { lines, logger } = capture();
  const notifier = new ServiceNotifier(
    notifySettings({ NOTIFY_SOCKET: `/nonexistent/joold-${Deno.pid}` }, Deno.pid),
    { sockets, logger, clock, counters },
  );
  try {
    notifier.ready("starting");
    notifier.status("a");
    notifier.status("b");
    assert.equal(counters.serviceNotifyFailures, 3);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      /^warning: Cannot tell the service manager READY=1 STATUS=starting: sendto\(NOTIFY_SOCKET \/nonexistent\/joold-\d+\) failed: ENOENT/,
    );
    clock.advance(60_000);
    notifier.stopping();
    assert.equal(counters.serviceNotifyFailures, 4);
    assert.match(lines[1], /STOPPING=1: .*ENOENT.* \(and 2 more since the last report\)$/);
  } finally {
    notifier.close();
    libc.close();
  }
});

Deno.test("ServiceNotifier: a NOTIFY_SOCKET too long for sockaddr_un is one warning, then off", () => {
  const { lines, logger } = capture();
  const notifier = new ServiceNotifier(
    notifySettings({ NOTIFY_SOCKET: `/${"x".repeat(200)}` }, 1),
    {
      sockets: { open: () => 99, send: () => 0, close: () => {} },
      logger,
      clock: new ManualClock(),
      counters: new SyncCounters(),
    },
  );
  assert.equal(notifier.enabled, false);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^warning: NOTIFY_SOCKET='\/x+': a local socket name has 1 to 107 bytes/);
});
