import assert from "node:assert/strict";
import { NetlinkClient, NetlinkError, NetlinkTimeoutError } from "./client.ts";
import { errorReply, FakeKernel } from "../../tests/support/fake_kernel.ts";
import { serveFamily } from "../../tests/support/fake_nlctrl.ts";
import { resolveFamily } from "./family.ts";
import { encodeMessage, type Message, NLM_F_MULTI, NLMSG_DONE } from "./message.ts";

/** A fake nlctrl that knows one family, "Jool" (id 30, group "joold" 5). */
const fakeController = serveFamily({ id: 30, name: "Jool", version: 2, groups: { joold: 5 } });

function connect(handler: (request: Message) => Uint8Array[], timeoutMs?: number) {
  const kernel = new FakeKernel(handler);
  const multicast: Message[] = [];
  const stray: Message[] = [];
  const client = new NetlinkClient(kernel, {
    onMulticast: (message) => multicast.push(message),
    onStrayReply: (message) => stray.push(message),
  }, timeoutMs);
  kernel.connect((datagram) => client.receive(datagram));
  return { kernel, client, multicast, stray };
}

Deno.test("resolveFamily: reply then ACK gives the family and its groups", async () => {
  const { client, kernel } = connect(fakeController);
  const family = await resolveFamily(client, "Jool");
  assert.deepEqual(family, { id: 30, name: "Jool", version: 2, groups: new Map([["joold", 5]]) });
  assert.equal(kernel.requests.length, 1);
  assert.equal(client.pendingCount, 0);
});

Deno.test("resolveFamily: ENOENT means absent, not an error", async () => {
  const { client } = connect(fakeController);
  assert.equal(await resolveFamily(client, "Missing"), null);
});

Deno.test("an error with extended-ACK text rejects with that text", async () => {
  const { client } = connect((request) => [errorReply(request, 22, "Attribute failed policy")]);
  await assert.rejects(
    client.request(
      "Probe",
      (sequence) => encodeMessage({ type: 16, flags: 5, sequence, portId: 0 }, new Uint8Array(4)),
    ),
    (error: unknown) =>
      error instanceof NetlinkError && error.errno === 22 &&
      error.message === "Probe failed: kernel error 22: Attribute failed policy",
  );
});

Deno.test("a silent kernel times out and leaves nothing pending", async () => {
  const { client } = connect(() => [], 20);
  await assert.rejects(
    client.request(
      "Probe",
      (sequence) => encodeMessage({ type: 16, flags: 5, sequence, portId: 0 }, new Uint8Array(4)),
    ),
    NetlinkTimeoutError,
  );
  assert.equal(client.pendingCount, 0);
});

Deno.test("multipart replies end at NLMSG_DONE", async () => {
  const { client } = connect((request) => {
    const part = (n: number) =>
      encodeMessage(
        { type: 30, flags: NLM_F_MULTI, sequence: request.header.sequence, portId: 1 },
        Uint8Array.of(n, 0, 0, 0),
      );
    const done = encodeMessage({
      type: NLMSG_DONE,
      flags: NLM_F_MULTI,
      sequence: request.header.sequence,
      portId: 1,
    }, new Uint8Array(4));
    // Two parts in one datagram, the end in another.
    const first = new Uint8Array([...part(1), ...part(2)]);
    return [first, done];
  });
  const replies = await client.request(
    "Dump",
    (sequence) => encodeMessage({ type: 30, flags: 0x305, sequence, portId: 0 }, new Uint8Array(0)),
  );
  assert.deepEqual(replies.map((reply) => reply.data[0]), [1, 2]);
});

Deno.test("sequence 0 goes to onMulticast; unknown sequences to onStrayReply", () => {
  const { client, kernel, multicast, stray } = connect(() => []);
  kernel.inject(encodeMessage({ type: 30, flags: 0, sequence: 0, portId: 0 }, Uint8Array.of(7)));
  kernel.inject(encodeMessage({ type: 30, flags: 0, sequence: 1234, portId: 5 }, Uint8Array.of(8)));
  assert.deepEqual(multicast.map((m) => m.data[0]), [7]);
  assert.deepEqual(stray.map((m) => m.header.sequence), [1234]);
  assert.equal(client.pendingCount, 0);
});

Deno.test("send() is fire-and-forget and numbers messages from 1", () => {
  const { client, kernel } = connect(() => []);
  const first = client.send((sequence) =>
    encodeMessage({ type: 30, flags: 1, sequence, portId: 0 }, new Uint8Array(0))
  );
  const second = client.send((sequence) =>
    encodeMessage({ type: 30, flags: 1, sequence, portId: 0 }, new Uint8Array(0))
  );
  assert.deepEqual([first, second], [1, 2]);
  assert.deepEqual(kernel.requests.map((m) => m.header.sequence), [1, 2]);
});

Deno.test("a transport failure rejects the request and clears it", async () => {
  const client = new NetlinkClient({
    send() {
      throw new Error("sendto(netlink) failed: EPERM");
    },
  }, { onMulticast() {}, onStrayReply() {} });
  await assert.rejects(client.request("Probe", () => new Uint8Array(16)), /EPERM/);
  assert.equal(client.pendingCount, 0);
});
