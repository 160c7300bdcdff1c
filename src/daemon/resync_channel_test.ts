/** The resync exchange on an in-memory control port and a manual clock. */

import assert from "node:assert/strict";
import { Errno, SyscallError } from "../../ffi/errors.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import {
  type ControlMessage,
  ControlType,
  decodeControlMessage,
  encodeControlMessage,
} from "../sync/control_message.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { MemoryPeerChannel, peerAddress } from "../../tests/support/memory_peer_channel.ts";
import { DROP_LOG_INTERVAL_MS } from "./drop_report.ts";
import { ResyncChannel } from "./resync_channel.ts";

function resyncChannel() {
  const clock = new ManualClock();
  const control = new MemoryPeerChannel();
  const counters = new SyncCounters();
  const logs: string[] = [];
  const advertised: string[] = [];
  const resync = new ResyncChannel({
    control,
    instance: "default",
    advertise: (reason) => {
      advertised.push(reason);
      return Promise.resolve();
    },
    counters,
    logger: new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`)),
    clock,
    random: () => 0.5,
    nonce: () => 42n,
  });
  const sent = () => control.sent.map((datagram) => decodeControlMessage(datagram));
  return { clock, control, counters, logs, advertised, resync, sent };
}

Deno.test("resync: the request goes to the control port, three times if nobody answers", () => {
  const { clock, counters, logs, resync, sent } = resyncChannel();
  resync.requestFromPeers("control port 6465 ready");
  const request: ControlMessage = { type: ControlType.REQUEST, nonce: 42n, instance: "default" };
  assert.deepEqual(sent(), [request]);
  assert.equal(counters.resyncRequests, 1);
  clock.advance(5000);
  assert.deepEqual(sent(), [request, request, request]);
  assert.deepEqual(logs, [
    "info: Resync: control port 6465 ready; asking peers for their sessions",
    "warning: No peer answered the resync request after 3 attempts " +
    "(peers are absent, or reference joolds without resync)",
  ]);
});

Deno.test("resync: a peer's request is answered and advertised for; garbage is counted", () => {
  const { clock, control, counters, advertised, resync, sent } = resyncChannel();
  const request = { type: ControlType.REQUEST, nonce: 7n, instance: "default" } as const;
  control.deliver(Uint8Array.of(1, 2, 3), peerAddress(2, 6465));
  control.deliver(encodeControlMessage(request), peerAddress(2, 6465));
  resync.drain();
  assert.equal(counters.controlDropped, 1);
  clock.advance(99); // the answer waits random() * 200 ms
  assert.deepEqual(advertised, []);
  clock.advance(1);
  assert.deepEqual(advertised, ["resync requested by [2001:db8::2]:6465"]);
  assert.deepEqual(sent(), [{ ...request, type: ControlType.ANSWER }]);
});

Deno.test("resync: a failed send is logged; close() leaves no timer behind", () => {
  const { clock, control, logs, resync } = resyncChannel();
  control.sendOutcome = new Error("sendto(multicast) failed: ENETUNREACH (no route)");
  resync.requestFromPeers("control port 6465 ready");
  assert.deepEqual(logs.slice(1), [
    "error: Cannot send a resync message: sendto(multicast) failed: ENETUNREACH (no route)",
  ]);
  resync.close();
  assert.equal(clock.timers.size, 0);
});

Deno.test("resync: requests refused by the back-off are counted and logged within the budget", () => {
  const { clock, control, counters, logs, advertised, resync } = resyncChannel();
  for (let i = 0; i < 5; i++) { // 0, 2, 4, 6, 8 s
    const request = { type: ControlType.REQUEST, nonce: BigInt(100 + i), instance: "default" };
    control.deliver(encodeControlMessage(request as ControlMessage), peerAddress(2, 6465));
    resync.drain();
    clock.advance(2000);
  }
  assert.equal(
    advertised.length,
    3,
    "the requests within 5 s of the first, as many as a start makes",
  );
  assert.equal(counters.controlDropped, 2);
  assert.deepEqual(logs.filter((line) => line.includes("not answered")), [
    "warning: Resync request from [2001:db8::2]:6465 not answered: " +
    "2001:db8::2 asked again within its back-off (answered again in 4 s at the earliest)",
  ]);
  clock.advance(10_000);
  const late = { type: ControlType.REQUEST, nonce: 200n, instance: "default" } as const;
  control.deliver(encodeControlMessage(late), peerAddress(2, 6465));
  resync.drain();
  clock.advance(100);
  assert.equal(advertised.length, 4, "after the back-off, answered again");
  assert.equal(counters.controlDropped, 2);
});

Deno.test("a failed read on the control port (a unicast peer that is down) is logged within a budget, not thrown", () => {
  const { clock, control, logs, resync } = resyncChannel();
  const refused = new SyscallError("recvmsg(unicast)", Errno.ECONNREFUSED, "connection refused");
  logs.length = 0;
  control.failReceive(refused);
  control.failReceive(refused);
  resync.drain();
  resync.drain();
  clock.advance(DROP_LOG_INTERVAL_MS);
  control.failReceive(refused);
  resync.drain();
  assert.deepEqual(logs, [
    "error: Error receiving from the control port: recvmsg(unicast) failed: ECONNREFUSED " +
    "(connection refused)",
    "error: Error receiving from the control port: recvmsg(unicast) failed: ECONNREFUSED " +
    "(connection refused) (and 1 more since the last report)",
  ]);
  resync.close();
});
