/**
 * The kernel link against a fake kernel at the message level: the order of
 * ACK and relay, instance filtering, and how kernel errors surface.
 */

import assert from "node:assert/strict";
import { AttributeEncoder } from "../netlink/attribute.ts";
import { errorReply, FakeKernel } from "../../tests/support/fake_kernel.ts";
import { serveFamily } from "../../tests/support/fake_nlctrl.ts";
import {
  FAKE_JOOL_FAMILY,
  FakeJool,
  fakeJoolLink,
  joolErrorReply,
  kernelMessage,
  sessionBatch,
} from "../../tests/support/fake_jool.ts";
import { decodeGenericMessage } from "../netlink/genetlink.ts";
import type { Message } from "../netlink/message.ts";
import { decodeJoolHeader, joolVersion } from "../jool/header.ts";
import { jooldStatId } from "../jool/stats.ts";
import {
  GlobalAttribute,
  globalAttributeSize,
  JoolOperation,
  L4Protocol,
  RootAttribute,
} from "../jool/protocol.ts";
import { encodeSessions } from "../jool/session.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import {
  isSyncDisabledRefusal,
  JoolModuleMissingError,
  KernelRefusalError,
} from "./kernel_errors.ts";
import { KernelLink } from "./kernel_link.ts";

const JOOL_ID = FAKE_JOOL_FAMILY.id;

interface Setup {
  kernel: FakeKernel;
  link: KernelLink;
  counters: SyncCounters;
  logs: string[];
}

/** A link whose fake kernel answers nlctrl and then `jool` requests. */
async function setUp(
  jool: (request: Message) => Uint8Array[] = () => [],
  now?: () => number,
): Promise<Setup> {
  const kernel = new FakeKernel(serveFamily(FAKE_JOOL_FAMILY, jool));
  const logs: string[] = [];
  const counters = new SyncCounters();
  const logger = new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`));
  const link = new KernelLink({ logger, counters, now }, kernel, "default");
  kernel.connect((datagram) => link.receive(datagram));
  assert.equal(await link.resolve(), 7);
  return { kernel, link, counters, logs };
}

function commands(kernel: FakeKernel): number[] {
  return kernel.requests
    .filter((message) => message.header.type === JOOL_ID)
    .map((message) => decodeGenericMessage(message).generic.command);
}

Deno.test("a batch for our instance is ACKed before it is relayed, byte for byte", async () => {
  const { kernel, link, counters } = await setUp();
  const payload = Uint8Array.of(8, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef);
  const seen: { payload: number[]; commandsSoFar: number[] }[] = [];
  link.listen({
    onBatch: (relayed) => seen.push({ payload: [...relayed], commandsSoFar: commands(kernel) }),
    onOverrun: () => {},
  });
  kernel.inject(sessionBatch("DEFAULT", payload)); // instance names compare case-insensitively
  assert.deepEqual(seen, [{ payload: [...payload], commandsSoFar: [JoolOperation.JOOLD_ACK] }]);
  assert.equal(counters.kernelSentPackets, 1);
  assert.equal(counters.kernelSentBytes, payload.byteLength);
  const ack = decodeGenericMessage(kernel.requests.at(-1)!);
  assert.equal(decodeJoolHeader(ack.data).instance, "default");
});

Deno.test("batches that come before listen() are ACKed, held and relayed in order on listen()", async () => {
  const { kernel, link, counters } = await setUp();
  // The kernel sends batches as soon as sync is on, while the daemon is
  // still opening its network socket: losing them loses sessions.
  kernel.inject(sessionBatch("default", Uint8Array.of(8, 0, 1, 0, 1, 1, 1, 1)));
  kernel.inject(sessionBatch("default", Uint8Array.of(8, 0, 1, 0, 2, 2, 2, 2)));
  assert.deepEqual(commands(kernel), [JoolOperation.JOOLD_ACK, JoolOperation.JOOLD_ACK]);
  const seen: number[][] = [];
  link.listen({ onBatch: (payload) => seen.push([...payload]), onOverrun: () => {} });
  assert.deepEqual(seen, [[8, 0, 1, 0, 1, 1, 1, 1], [8, 0, 1, 0, 2, 2, 2, 2]]);
  kernel.inject(sessionBatch("default", Uint8Array.of(8, 0, 1, 0, 3, 3, 3, 3)));
  assert.deepEqual(seen.at(-1), [8, 0, 1, 0, 3, 3, 3, 3]);
  assert.equal(counters.kernelSentPackets, 3);
});

Deno.test("held batches past the bound are dropped and reported as an overrun on listen()", async () => {
  const { kernel, link, logs } = await setUp();
  const big = new Uint8Array(60_000);
  big.set([0x60, 0xea, 1, 0]); // one attribute of 60,000 bytes
  for (let i = 0; i < 100; i++) kernel.inject(sessionBatch("default", big));
  let relayed = 0;
  let overruns = 0;
  link.listen({ onBatch: () => relayed++, onOverrun: () => overruns++ });
  assert.ok(relayed > 0 && relayed < 100, `${relayed}`);
  assert.equal(overruns, 1);
  assert.match(
    logs.join("\n"),
    /Dropped \d+ session batches that came before the network socket was open/,
  );
});

Deno.test("another instance's batch is neither ACKed nor relayed", async () => {
  const { kernel, link, counters } = await setUp();
  let relayed = 0;
  link.listen({ onBatch: () => relayed++, onOverrun: () => {} });
  kernel.inject(sessionBatch("other", Uint8Array.of(4, 0, 1, 0)));
  assert.equal(relayed, 0);
  assert.deepEqual(commands(kernel), []);
  assert.equal(counters.kernelForeignBatches, 1);
});

Deno.test("a malformed batch is counted and still ACKed so the kernel moves on", async () => {
  const { kernel, link, counters, logs } = await setUp();
  link.listen({ onBatch: () => assert.fail("relayed a malformed batch"), onOverrun: () => {} });
  kernel.inject(kernelMessage(0, "default", Uint8Array.of(4, 0, 3, 0))); // BL4_ENTRIES, not sessions
  assert.deepEqual(commands(kernel), [JoolOperation.JOOLD_ACK]);
  assert.equal(counters.kernelMalformed, 1);
  assert.match(logs.join("\n"), /error: Ignoring a malformed session batch from the kernel/);
});

Deno.test("a refused add is logged with the peer and the kernel's own words", async () => {
  const { link, counters, logs } = await setUp((request) =>
    decodeGenericMessage(request).generic.command === JoolOperation.JOOLD_ADD
      ? [joolErrorReply(request, 22, "Session sync is disabled on this instance.")]
      : []
  );
  link.add(Uint8Array.of(4, 0, 1, 0), "[2001:db8:ff08::2]:6464");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(counters.kernelErrors, 1);
  assert.ok(
    logs.includes(
      "error: The kernel refused sessions from [2001:db8:ff08::2]:6464: " +
        "Session sync is disabled on this instance. (error 22)",
    ),
    logs.join("\n"),
  );
});

Deno.test("probe: a missing instance is a KernelRefusalError with the verbatim message", async () => {
  const text = "This namespace lacks an instance named 'default'.";
  const { link } = await setUp((
    request,
  ) => [joolErrorReply(request, 3, text), errorReply(request)]);
  await assert.rejects(link.probe(), (error: unknown) => {
    assert.ok(error instanceof KernelRefusalError);
    assert.equal(error.kernelMessage, text);
    assert.equal(error.code, 3);
    return true;
  });
});

Deno.test("probe sends an empty JOOLD_ADD with NLM_F_ACK and passes on a plain ACK", async () => {
  const { kernel, link } = await setUp((request) => [errorReply(request)]);
  await link.probe();
  const probe = kernel.requests.at(-1)!;
  assert.equal(decodeGenericMessage(probe).generic.command, JoolOperation.JOOLD_ADD);
  assert.equal(probe.header.flags, 0x05); // NLM_F_REQUEST | NLM_F_ACK
});

Deno.test("an absent Jool family is JoolModuleMissingError", async () => {
  const kernel = new FakeKernel((request) => [errorReply(request, 2)]);
  const logger = new LevelLogger("error", () => {});
  const link = new KernelLink({ logger, counters: new SyncCounters() }, kernel, "default");
  kernel.connect((datagram) => link.receive(datagram));
  await assert.rejects(link.resolve(), JoolModuleMissingError);
});

Deno.test("an overrun is counted, logged and answered with an ACK", async () => {
  const { kernel, link, counters, logs } = await setUp();
  let overruns = 0;
  link.listen({ onBatch: () => {}, onOverrun: () => overruns++ });
  link.overrun();
  assert.equal(counters.kernelOverruns, 1);
  assert.equal(overruns, 1);
  assert.deepEqual(commands(kernel), [JoolOperation.JOOLD_ACK]);
  assert.match(logs.join("\n"), /ENOBUFS/);
});

Deno.test("nudge() sends the instance a JOOLD_ACK, counted as a nudge and not as a batch's ACK", async () => {
  const { kernel, link, counters } = await setUp();
  link.nudge();
  assert.deepEqual(commands(kernel), [JoolOperation.JOOLD_ACK]);
  assert.equal(
    decodeJoolHeader(decodeGenericMessage(kernel.requests.at(-1)!).data).instance,
    "default",
  );
  assert.deepEqual([counters.kernelNudges, counters.kernelAcks], [1, 0]);
});

/** The GLOBAL_FOREACH answer of a kernel whose globals are `pages` (M flag on all but the last). */
function globalsReplies(pages: [number, number][][]): (request: Message) => Uint8Array[] {
  return (request) => {
    const message = decodeGenericMessage(request);
    if (message.generic.command !== JoolOperation.GLOBAL_FOREACH) return [errorReply(request)];
    // The request's OFFSET_U8, if any, says which page comes next.
    const after = message.data.byteLength > 28 ? message.data[32] : 0;
    const index = after === 0 ? 0 : pages.findIndex((page) => page[0][0] > after);
    const attributes = new AttributeEncoder();
    for (const [type, value] of pages[index]) {
      if (globalAttributeSize(type) === 1) attributes.uint8(type, value);
      else attributes.uint32(type, value);
    }
    const more = index < pages.length - 1 ? 8 : 0;
    return [
      kernelMessage(request.header.sequence, "default", attributes.encode(), more),
      errorReply(request),
    ];
  };
}

Deno.test("readGlobalNumber() finds a global, on a later page if need be", async () => {
  const { JOOLD_CAPACITY: capacity, JOOLD_MAX_PAYLOAD: maxPayload } = GlobalAttribute;
  const onePage = await setUp(globalsReplies([[[capacity, 512], [maxPayload, 1452]]]));
  assert.equal(await onePage.link.readGlobalNumber(maxPayload), 1452);
  const twoPages = await setUp(globalsReplies([[[capacity, 512]], [[maxPayload, 16384]]]));
  assert.equal(await twoPages.link.readGlobalNumber(maxPayload), 16384);
  assert.deepEqual(commands(twoPages.kernel), [
    JoolOperation.GLOBAL_FOREACH,
    JoolOperation.GLOBAL_FOREACH,
  ]);
  assert.equal(await onePage.link.readGlobalNumber(GlobalAttribute.JOOLD_FLUSH_DEADLINE), null);
  const { JOOLD_FLUSH_ASAP: flushAsap } = GlobalAttribute;
  const withSwitch = await setUp(globalsReplies([[[capacity, 512], [flushAsap, 1]]]));
  assert.equal(await withSwitch.link.readGlobalNumber(flushAsap), 1, "a u8 global");
});

Deno.test("readStats() reads every counter of STATS_FOREACH, over several answers if need be", async () => {
  const jool = new FakeJool({ version: joolVersion(4, 1, 15) });
  const enospc = jooldStatId(jool.version, "JOOLD_SSS_ENOSPC")!;
  jool.stats.set(enospc, 2n ** 40n);
  const link = await fakeJoolLink(jool, {
    logger: new LevelLogger("error", () => {}),
    counters: new SyncCounters(),
  });
  const all = await link.readStats();
  assert.equal(all.size, 83, "ids 1 to JSTAT_UNKNOWN of 4.1.15");
  assert.equal(all.get(enospc), 2n ** 40n);
  assert.deepEqual(jool.commands(), [JoolOperation.STATS_FOREACH]);
  jool.statsPerAnswer = 30;
  assert.deepEqual(await link.readStats(), all);
  assert.deepEqual(jool.commands().slice(1), Array(3).fill(JoolOperation.STATS_FOREACH));
  jool.refuse(JoolOperation.STATS_FOREACH, 1, "Operation not permitted.");
  await assert.rejects(link.readStats(), KernelRefusalError);
});

Deno.test("setGlobalNow() sends GLOBAL_UPDATE at once, without asking for an ACK", async () => {
  const { kernel, link } = await setUp();
  link.setGlobalNow({ type: GlobalAttribute.JOOLD_MAX_PAYLOAD, value: 1452 });
  const request = kernel.requests.at(-1)!;
  assert.equal(decodeGenericMessage(request).generic.command, JoolOperation.GLOBAL_UPDATE);
  assert.equal(request.header.flags, 0x01); // NLM_F_REQUEST alone
});

Deno.test("a refused add names its peer while it is among the last 1024", async () => {
  const { kernel, link, logs } = await setUp(); // the kernel answers adds later, below
  for (let i = 0; i < 1100; i++) link.add(Uint8Array.of(4, 0, 1, 0), `peer ${i}`);
  const adds = kernel.requests.filter((request) => request.header.type === JOOL_ID);
  // Each its own text: one refusal of a kind is logged per interval (see below).
  for (const i of [1099, 75, 76, 1]) { // 76 and later are among the last 1024
    kernel.inject(joolErrorReply(adds[i], 17, `We're out of sync (${i}).`));
  }
  assert.deepEqual(logs.filter((line) => line.includes("refused")), [
    "error: The kernel refused sessions from peer 1099: We're out of sync (1099). (error 17)",
    "error: The kernel refused a request: We're out of sync (75). (error 17)",
    "error: The kernel refused sessions from peer 76: We're out of sync (76). (error 17)",
    "error: The kernel refused a request: We're out of sync (1). (error 17)",
  ]);
});

Deno.test("refusals of adds are all counted, and logged once per kind and interval", async () => {
  let nowMs = 0;
  const { kernel, link, logs, counters } = await setUp(undefined, () => nowMs);
  for (let i = 0; i < 100; i++) link.add(Uint8Array.of(4, 0, 1, 0), `peer ${i}`);
  const adds = kernel.requests.filter((request) => request.header.type === JOOL_ID);
  for (const add of adds) kernel.inject(joolErrorReply(add, 17, "We're out of sync."));
  nowMs = 10_000;
  kernel.inject(joolErrorReply(adds[0], 17, "We're out of sync."));
  assert.equal(counters.kernelErrors, 101);
  assert.deepEqual(logs.filter((line) => line.includes("refused")), [
    "error: The kernel refused sessions from peer 0: We're out of sync. (error 17)",
    "error: The kernel refused a request: We're out of sync. (error 17) " +
    "(and 99 more since the last report)",
  ]);
});

Deno.test("Generic Netlink's own refusal of an add (module unloaded: ENOENT) is counted and logged", async () => {
  const { kernel, link, logs, counters } = await setUp();
  link.add(Uint8Array.of(4, 0, 1, 0), "[2001:db8::2]:6464");
  const add = kernel.requests.filter((request) => request.header.type === JOOL_ID).at(-1)!;
  kernel.inject(errorReply(add, 2));
  assert.equal(counters.kernelErrors, 1);
  assert.deepEqual(logs.filter((line) => line.includes("refused")), [
    "error: The kernel refused sessions from [2001:db8::2]:6464: ENOENT (kernel error 2)",
  ]);
});

Deno.test("sessionPage() asks SESSION_FOREACH page by page and copies the entries", async () => {
  const sessions = Array.from({ length: 3 }, (_, i) => sampleUdpSession(i));
  const entries = encodeSessions(sessions, "nested-4.1.0");
  const { kernel, link } = await setUp((request) => {
    const message = decodeGenericMessage(request);
    if (message.generic.command !== JoolOperation.SESSION_FOREACH) return [errorReply(request)];
    // Page 1: the first two entries and M; page 2 (an OFFSET after PROTO): the last one.
    const first = message.data.byteLength === 28 + 8; // Jool header, PROTO;
    const page = first ? entries.subarray(0, 280) : entries.subarray(280);
    return [
      kernelMessage(request.header.sequence, "default", page, first ? 8 : 0),
      errorReply(request),
    ];
  });
  const first = await link.sessionPage(L4Protocol.UDP, null);
  assert.deepEqual([first.count, first.more], [2, true]);
  assert.deepEqual(first.last, entries.subarray(140, 280));
  const second = await link.sessionPage(L4Protocol.UDP, first.last);
  assert.deepEqual([second.count, second.more], [1, false]);
  assert.deepEqual(second.entries, entries.subarray(280));
  const requests = kernel.requests.filter((request) => request.header.type === JOOL_ID);
  const offset = decodeGenericMessage(requests[1]).data.subarray(28 + 8);
  assert.deepEqual(offset.subarray(4), entries.subarray(144, 280), "OFFSET carries the last entry");
  assert.deepEqual([offset[2], offset[3]], [RootAttribute.OFFSET, 0x80]);
  assert.equal(first.entries.buffer.byteLength, first.entries.byteLength, "a copy of its own");
});

Deno.test("isSyncDisabledRefusal() tells SS off from other refusals", () => {
  const operation = "Checking the Jool instance";
  const off = new KernelRefusalError(operation, 22, "Session sync is disabled on this instance.");
  assert.equal(isSyncDisabledRefusal(off), true);
  assert.equal(
    isSyncDisabledRefusal(new KernelRefusalError(operation, 2, "No such instance.")),
    false,
  );
  assert.equal(isSyncDisabledRefusal(new Error("Session sync is disabled")), false);
});
