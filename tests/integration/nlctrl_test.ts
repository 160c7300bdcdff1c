/**
 * Family resolution against the host's real kernel: nlctrl describes
 * itself, and an absent family reads as absent.
 */

import assert from "node:assert/strict";
import { Libc } from "../../ffi/libc.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { NetlinkClient } from "../../src/netlink/client.ts";
import { resolveFamily } from "../../src/netlink/family.ts";
import { GenericNetlinkSocket } from "../../src/sync/netlink_socket.ts";
import { KernelLink } from "../../src/sync/kernel_link.ts";
import { JoolModuleMissingError } from "../../src/sync/kernel_errors.ts";
import { LevelLogger } from "../../src/log.ts";
import { SyncCounters } from "../../src/stats/counters.ts";

async function withClient(use: (client: NetlinkClient) => Promise<void>): Promise<void> {
  const libc = Libc.open();
  const errors: unknown[] = [];
  const reactor = Reactor.open(libc, (_fd, error) => errors.push(error));
  const socket = GenericNetlinkSocket.open(new Sockets(libc));
  const client = new NetlinkClient(socket, {
    onMulticast: () => {},
    onStrayReply: () => {},
  });
  reactor.watch(socket.fd, { readable: true }, () => {
    for (let datagram = socket.receive(); datagram !== null; datagram = socket.receive()) {
      client.receive(datagram);
    }
  });
  const running = reactor.run();
  try {
    await use(client);
  } finally {
    reactor.stop();
    await running;
    reactor.unwatch(socket.fd);
    socket.close();
    reactor.close();
    libc.close();
  }
  assert.deepEqual(errors, []);
}

Deno.test("nlctrl resolves itself: id 16, group 'notify' id 16", async () => {
  await withClient(async (client) => {
    const family = await resolveFamily(client, "nlctrl");
    assert.ok(family !== null);
    assert.equal(family.id, 16);
    assert.equal(family.name, "nlctrl");
    assert.equal(family.groups.get("notify"), 16);
  });
});

Deno.test("an unregistered family resolves to null (ENOENT)", async () => {
  await withClient(async (client) => {
    assert.equal(await resolveFamily(client, "NoSuchFam"), null);
  });
});

Deno.test("joining nlctrl's notify group succeeds on the real socket", () => {
  const libc = Libc.open();
  const socket = GenericNetlinkSocket.open(new Sockets(libc));
  try {
    socket.joinGroup(16);
    assert.ok(socket.setReceiveBuffer(1 << 20) >= 1 << 20);
  } finally {
    socket.close();
    libc.close();
  }
});

Deno.test("the kernel's extended-ACK text reaches the caller", async () => {
  await withClient(async (client) => {
    // GENL_NAMSIZ is 16 with the NUL: a 16-character name fails policy.
    await assert.rejects(
      resolveFamily(client, "SixteenCharsName"),
      /kernel error 22: Attribute failed policy validation/,
    );
  });
});

Deno.test("Jool is not registered on the host kernel", async () => {
  await withClient(async (client) => {
    assert.equal(await resolveFamily(client, "Jool"), null);
  });
});

Deno.test("a kernel link gets the replies its requests find waiting without the reactor", async () => {
  // The kernel answers a request within the send: the link reads the answer then, not on a
  // reactor wake-up, so this reactor never runs and the look-up still completes.
  const libc = Libc.open();
  const reactor = Reactor.open(libc, () => {});
  try {
    const started = performance.now();
    await assert.rejects(
      KernelLink.open({
        sockets: new Sockets(libc),
        reactor,
        logger: new LevelLogger("error", () => {}),
        counters: new SyncCounters(),
      }, "default"),
      JoolModuleMissingError,
    );
    assert.ok(performance.now() - started < 1_000, "the look-up waited for a timeout");
  } finally {
    reactor.close();
    libc.close();
  }
});
