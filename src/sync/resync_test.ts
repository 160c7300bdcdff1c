import assert from "node:assert/strict";
import { LevelLogger } from "../log.ts";
import {
  CONTROL_MESSAGE_LENGTH,
  type ControlMessage,
  ControlType,
  decodeControlMessage,
  encodeControlMessage,
} from "./control_message.ts";
import { ResyncCoordinator, type ResyncOutcome } from "./resync.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";

function node(
  name: string,
  clock: ManualClock,
  random: number,
  wire: ControlMessage[],
  logs: string[],
  firstNonce = 42n,
) {
  const advertised: string[] = [];
  const outcomes: ResyncOutcome[] = [];
  /** 42, 43, ...: each request's first nonce is 42 unless `firstNonce` says. */
  let nonces = firstNonce;
  const coordinator = new ResyncCoordinator("default", {
    send: (message) => wire.push(message),
    advertise: (reason) => {
      advertised.push(reason);
      return Promise.resolve();
    },
    logger: new LevelLogger("debug", (level, line) => logs.push(`${name} ${level}: ${line}`)),
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    now: clock.monotonic,
    random: () => random,
    nonce: () => nonces++,
    settled: (outcome) => outcomes.push(outcome),
  });
  return { coordinator, advertised, outcomes };
}

Deno.test("control messages: 32 bytes, round trip, garbage rejected", () => {
  const message = {
    type: ControlType.REQUEST,
    nonce: 0x0102030405060708n,
    instance: "default",
  } as const;
  const bytes = encodeControlMessage(message);
  // deno-fmt-ignore
  assert.deepEqual([...bytes], [
    0x4a, 0x44, 0x52, 0x53, // "JDRS"
    0x01, 0x01, 0x00, 0x00, // version 1, REQUEST, reserved
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // nonce (be64)
    0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x00, // "default"
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  ]);
  assert.equal(bytes.byteLength, CONTROL_MESSAGE_LENGTH);
  assert.deepEqual(decodeControlMessage(bytes), message);
  assert.equal(decodeControlMessage(bytes.subarray(0, 31)), null);
  const wrongType = bytes.slice();
  wrongType[5] = 9;
  assert.equal(decodeControlMessage(wrongType), null);
  const noName = bytes.slice();
  noName[16] = 0;
  assert.equal(decodeControlMessage(noName), null);
});

Deno.test("one peer answers a request; the slower one stands down", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const logs: string[] = [];
  const fast = node("fast", clock, 0.1, wire, logs);
  const slow = node("slow", clock, 0.9, wire, logs);
  const request = { type: ControlType.REQUEST, nonce: 7n, instance: "default" } as const;
  fast.coordinator.receive(request, "new");
  slow.coordinator.receive(request, "new");
  clock.advance(50); // fast answers at 20 ms
  assert.deepEqual(fast.advertised, ["resync requested by new"]);
  const answer = wire.find((m) => m.type === ControlType.ANSWER);
  assert.ok(answer);
  slow.coordinator.receive(answer, "fast");
  clock.advance(500);
  assert.deepEqual(slow.advertised, []);
  // A repeated request with the same nonce is not answered again.
  fast.coordinator.receive(request, "new");
  clock.advance(500);
  assert.equal(fast.advertised.length, 1);
});

Deno.test("the requester repeats, then gives up with a warning", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const logs: string[] = [];
  const requester = node("new", clock, 0, wire, logs);
  requester.coordinator.requestFromPeers();
  clock.advance(5000);
  assert.equal(wire.filter((m) => m.type === ControlType.REQUEST).length, 3);
  assert.match(
    logs.join("\n"),
    /new warning: No peer answered the resync request after 3 attempts/,
  );
  assert.equal(clock.timers.size, 0);
});

Deno.test("an answer and then the answerer's sessions stop the requester's retries", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const logs: string[] = [];
  const requester = node("new", clock, 0, wire, logs);
  requester.coordinator.requestFromPeers();
  requester.coordinator.receive(
    { type: ControlType.ANSWER, nonce: 42n, instance: "DEFAULT" },
    "[2001:db8::1]:6465",
  );
  assert.equal(requester.coordinator.requestAnswered, false, "an answer alone is not enough");
  clock.advance(200);
  requester.coordinator.sessionsFrom("[2001:db8::2]:6464"); // another peer's ordinary traffic
  assert.equal(requester.coordinator.requestAnswered, false);
  requester.coordinator.sessionsFrom("[2001:db8::1]:6464"); // the advertisement, on the sync port
  clock.advance(5000);
  assert.equal(wire.length, 1);
  assert.ok(requester.coordinator.requestAnswered);
  assert.deepEqual(logs.filter((line) => !line.includes(" debug: ")), [
    "new info: Resync: [2001:db8::1]:6465 is advertising its sessions to us",
  ]);
});

Deno.test("sessions from the answerer that come before its answer count", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const requester = node("new", clock, 0, wire, []);
  requester.coordinator.requestFromPeers();
  requester.coordinator.sessionsFrom("198.51.100.1:6464");
  requester.coordinator.receive(
    { type: ControlType.ANSWER, nonce: 42n, instance: "default" },
    "198.51.100.1:6465",
  );
  assert.ok(requester.coordinator.requestAnswered);
  clock.advance(5000);
  assert.equal(wire.length, 1);
});

Deno.test("a forged answer with a sniffed nonce does not suppress the resync", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const logs: string[] = [];
  const requester = node("new", clock, 0, wire, logs);
  const peer = node("peer", clock, 0, [], logs);
  requester.coordinator.requestFromPeers();
  const [request] = wire;
  // The attacker saw the REQUEST and answers first, to the whole group.
  const forged = { type: ControlType.ANSWER, nonce: request.nonce, instance: "default" } as const;
  requester.coordinator.receive(forged, "[2001:db8::66]:6465");
  peer.coordinator.receive(forged, "[2001:db8::66]:6465");
  peer.coordinator.receive(request, "[2001:db8::2]:6465");
  clock.advance(500);
  assert.deepEqual(peer.advertised, [], "the real peer stood down for that nonce");
  // No sessions from the 'answerer': the request goes again, with a nonce the peer has not settled.
  clock.advance(500);
  const requests = wire.filter((message) => message.type === ControlType.REQUEST);
  assert.equal(requests.length, 2, "the request was repeated");
  assert.notEqual(requests[1].nonce, request.nonce);
  peer.coordinator.receive(requests[1], "[2001:db8::2]:6465");
  clock.advance(300);
  assert.deepEqual(peer.advertised, ["resync requested by [2001:db8::2]:6465"]);
  requester.coordinator.receive(
    { type: ControlType.ANSWER, nonce: requests[1].nonce, instance: "default" },
    "[2001:db8::1]:6465",
  );
  requester.coordinator.sessionsFrom("[2001:db8::1]:6464");
  assert.ok(requester.coordinator.requestAnswered);
  clock.advance(5000);
  assert.equal(wire.filter((message) => message.type === ControlType.REQUEST).length, 2);
});

Deno.test("an answerer whose sessions never come: retried, then a warning naming it", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const logs: string[] = [];
  const requester = node("new", clock, 0, wire, logs);
  requester.coordinator.requestFromPeers();
  requester.coordinator.receive(
    { type: ControlType.ANSWER, nonce: 42n, instance: "default" },
    "[2001:db8::66]:6465",
  );
  clock.advance(5000);
  assert.equal(wire.filter((message) => message.type === ControlType.REQUEST).length, 3);
  assert.equal(requester.coordinator.requestAnswered, false);
  assert.equal(
    logs.at(-1),
    "new warning: Resync: [2001:db8::66]:6465 answered, but no sessions came from it after 3 " +
      "attempts (its table is empty, or the answer was forged)",
  );
  assert.equal(clock.timers.size, 0);
});

Deno.test("each request's outcome is told once: sessions, answers without sessions, silence", () => {
  const cases: [string, (requester: ReturnType<typeof node>) => void, ResyncOutcome][] = [
    ["sessions after the answer", (requester) => {
      requester.coordinator.receive(
        { type: ControlType.ANSWER, nonce: 42n, instance: "default" },
        "192.0.2.2:6465",
      );
      requester.coordinator.sessionsFrom("192.0.2.2:6464");
    }, { kind: "sessions", from: "192.0.2.2:6465" }],
    ["an answer, no sessions", (requester) => {
      requester.coordinator.receive(
        { type: ControlType.ANSWER, nonce: 42n, instance: "default" },
        "192.0.2.3:6465",
      );
    }, { kind: "answered-empty", by: ["192.0.2.3:6465"] }],
    ["nobody", () => {}, { kind: "unanswered", attempts: 3 }],
  ];
  for (const [name, peersDo, outcome] of cases) {
    const clock = new ManualClock();
    const requester = node("new", clock, 0, [], []);
    requester.coordinator.requestFromPeers();
    peersDo(requester);
    clock.advance(5000);
    assert.deepEqual(requester.outcomes, [outcome], name);
  }
});

Deno.test("another instance's requests are ignored", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const peer = node("peer", clock, 0, wire, []);
  peer.coordinator.receive({ type: ControlType.REQUEST, nonce: 1n, instance: "other" }, "x");
  clock.advance(1000);
  assert.deepEqual(wire, []);
  assert.deepEqual(peer.advertised, []);
});

Deno.test("a flood of forged requests: one pending answer, at most one advertisement per interval", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const { coordinator, advertised } = node("j1", clock, 0.5, wire, []);
  // 5,000 requests with distinct nonces in one second.
  for (let i = 0; i < 5000; i++) {
    coordinator.receive(
      { type: ControlType.REQUEST, nonce: BigInt(1000 + i), instance: "default" },
      `[2001:db8::9]:${1024 + i}`,
    );
    if (i % 5 === 0) clock.advance(1);
  }
  assert.ok(clock.timers.size <= 1, `${clock.timers.size} timers pending`);
  clock.advance(10_000);
  assert.ok(advertised.length <= 1 + 1000 / 2000 + 1, `${advertised.length} advertisements`);
  assert.ok(advertised.length >= 1, "the first request is answered");
  assert.ok(wire.length <= advertised.length * 16, `${wire.length} answers sent`);
});

Deno.test("a request soon after an answer is answered once the interval is over", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const { coordinator, advertised } = node("j1", clock, 0, wire, []);
  const request = (nonce: bigint) =>
    coordinator.receive({ type: ControlType.REQUEST, nonce, instance: "default" }, "peer");
  request(1n);
  clock.advance(1);
  assert.equal(advertised.length, 1);
  request(2n);
  clock.advance(1000);
  assert.equal(advertised.length, 1, "not within 2 s of the last");
  clock.advance(1000);
  assert.equal(advertised.length, 2, "answered when the interval is over");
  assert.deepEqual(wire.map((m) => m.nonce), [1n, 2n]);
});

Deno.test("a replayed request is not answered again while its nonce is remembered", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const { coordinator, advertised } = node("j1", clock, 0, wire, []);
  const request = (nonce: bigint) =>
    coordinator.receive({ type: ControlType.REQUEST, nonce, instance: "default" }, "peer");
  request(7n);
  clock.advance(1);
  for (let i = 0; i < 100; i++) { // more than the old 64-nonce memory
    request(BigInt(100 + i));
    clock.advance(500);
  }
  const before = advertised.length;
  request(7n);
  clock.advance(5000);
  assert.equal(advertised.length, before, "7 was answered less than a minute ago");
});

Deno.test("a host that asks every 2 s is answered with an exponential back-off", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const { coordinator, advertised } = node("j1", clock, 0, wire, []);
  const refusals: string[] = [];
  for (let i = 0; i < 300; i++) { // 10 minutes
    const refusal = coordinator.receive(
      { type: ControlType.REQUEST, nonce: BigInt(1000 + i), instance: "default" },
      "[2001:db8::9]:6465",
    );
    if (refusal !== null) refusals.push(refusal);
    clock.advance(2000);
  }
  // Episodes at 0, 10, 30, 70, 150, 310 s: three answers each at most (a requester's own
  // attempts), then back-off.
  assert.ok(advertised.length <= 18, `${advertised.length} advertisements in 10 minutes`);
  assert.ok(advertised.length >= 6, "each episode is answered");
  assert.equal(refusals.length + advertised.length, 300, "every other request is refused, told");
  assert.match(refusals.at(-1)!, /^2001:db8::9 asked again within its back-off/);
});

Deno.test("a start's retries are answered; more soon after wait for the back-off", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const { coordinator, advertised } = node("j1", clock, 0, wire, []);
  const request = (nonce: bigint) =>
    coordinator.receive({ type: ControlType.REQUEST, nonce, instance: "default" }, "peer:6465");
  // The requester's own attempts (DEFAULT_RESYNC_TIMING: 3, a second apart) are all answered.
  for (const nonce of [1n, 2n, 3n]) {
    assert.equal(request(nonce), null, `attempt ${nonce}`);
    clock.advance(1000);
  }
  clock.advance(1000);
  assert.ok(advertised.length >= 1);
  assert.match(request(4n)!, /^3 requests from peer answered in the last 5 s/);
  clock.advance(10_000);
  assert.equal(request(5n), null, "after the back-off");
});

Deno.test("requests from many hosts: new answers come from one budget for all", () => {
  const clock = new ManualClock();
  const wire: ControlMessage[] = [];
  const { coordinator, advertised } = node("j1", clock, 0, wire, []);
  for (let i = 0; i < 600; i++) { // 10 minutes, a new made-up host every second
    coordinator.receive(
      { type: ControlType.REQUEST, nonce: BigInt(1000 + i), instance: "default" },
      `198.51.100.${i % 250}:${1024 + i}`,
    );
    clock.advance(1000);
  }
  assert.ok(advertised.length <= 6 + 10, `${advertised.length} advertisements in 10 minutes`);
});

Deno.test("a cold start of two nodes: each answers the other with an empty table, said at info", () => {
  const clock = new ManualClock();
  const wires: [ControlMessage[], ControlMessage[]] = [[], []];
  const logs: string[] = [];
  const a = node("a", clock, 0, wires[0], logs);
  const b = node("b", clock, 0.5, wires[1], logs, 1000n);
  a.coordinator.requestFromPeers();
  b.coordinator.requestFromPeers();
  const delivered = [0, 0];
  for (let elapsed = 0; elapsed < 5000; elapsed += 50) {
    while (delivered[0] < wires[0].length) {
      b.coordinator.receive(wires[0][delivered[0]++], "[2001:db8::a]:6465");
    }
    while (delivered[1] < wires[1].length) {
      a.coordinator.receive(wires[1][delivered[1]++], "[2001:db8::b]:6465");
    }
    clock.advance(50);
  }
  assert.ok(a.advertised.length > 0 && b.advertised.length > 0, "each answered the other");
  assert.deepEqual(logs.filter((line) => line.includes(" warning: ")), [], "a normal start");
  for (const [name, peer] of [["a", "b"], ["b", "a"]]) {
    assert.ok(
      logs.includes(
        `${name} info: Resync: [2001:db8::${peer}]:6465 answered with no sessions; it was ` +
          "starting too (it asked for sessions itself), so its table is empty",
      ),
      logs.join("\n"),
    );
  }
});
