import assert from "node:assert/strict";
import type { SessionsPage } from "../jool/kernel_messages.ts";
import { L4Protocol } from "../jool/protocol.ts";
import { decodeSessions, encodeSessions, type Session } from "../jool/session.ts";
import { sampleUdpSession } from "../../tests/support/session_samples.ts";
import { dumpSessionTable, type TableDumpPorts } from "./table_dump.ts";

const udpSession = sampleUdpSession;

/** 4.1.9's answers: `perPage` entries at most (57 fit its 8 KiB replies), M while more remain. */
class FakeTable {
  readonly requests: { protocol: number; after: string | null }[] = [];
  readonly #tables: Map<number, Session[]>;
  readonly #perPage: number;

  constructor(tables: Map<number, Session[]>, perPage: number) {
    this.#tables = tables;
    this.#perPage = perPage;
  }

  page(protocol: number, after: Uint8Array | null): Promise<SessionsPage> {
    const sessions = this.#tables.get(protocol) ?? [];
    const afterPort = after === null
      ? null
      : decodeSessions(after, "nested-4.1.0").sessions[0].src4.port;
    this.requests.push({ protocol, after: afterPort === null ? null : String(afterPort) });
    const start = afterPort === null ? 0 : sessions.findIndex((s) => s.src4.port === afterPort) + 1;
    const slice = sessions.slice(start, start + this.#perPage);
    const entries = encodeSessions(slice, "nested-4.1.0");
    const last = slice.length === 0 ? null : entries.subarray(entries.byteLength - 140);
    return Promise.resolve({
      entries,
      count: slice.length,
      last,
      more: start + slice.length < sessions.length,
    });
  }
}

function ports(table: FakeTable, sent: Uint8Array[], accept = () => true): TableDumpPorts {
  let pauses = 0;
  return {
    page: (protocol, after) => table.page(protocol, after),
    send: (datagram) => {
      sent.push(datagram.slice());
      return accept();
    },
    pause: () => {
      pauses++;
      return Promise.resolve();
    },
    get pauses() {
      return pauses;
    },
  } as TableDumpPorts;
}

Deno.test("dumpSessionTable() sends every session once, in full datagrams of whole sessions", async () => {
  const udp = Array.from({ length: 1000 }, (_, i) => udpSession(i));
  const table = new FakeTable(new Map([[L4Protocol.UDP, udp]]), 57);
  const sent: Uint8Array[] = [];
  const result = await dumpSessionTable(ports(table, sent), "nested-4.1.0");
  // Ten 140-byte sessions fill a 1452-byte datagram; pages of 57 are packed across.
  assert.deepEqual(result, { sessions: 1000, datagrams: 100, failed: 0 });
  assert.equal(sent.length, 100);
  for (const datagram of sent) assert.equal(datagram.byteLength, 1400);
  const received = sent.flatMap((datagram) => decodeSessions(datagram, "nested-4.1.0").sessions);
  assert.deepEqual(received.map((s) => s.src4.port), udp.map((s) => s.src4.port));
  // TCP (empty), 18 pages of UDP, each after the previous page's last entry, ICMP (empty).
  assert.equal(table.requests.length, 1 + Math.ceil(1000 / 57) + 1);
  assert.deepEqual(table.requests[0], { protocol: L4Protocol.TCP, after: null });
  assert.deepEqual(table.requests[2], { protocol: L4Protocol.UDP, after: String(20056) });
  assert.deepEqual(table.requests.at(-1), { protocol: L4Protocol.ICMP, after: null });
});

Deno.test("dumpSessionTable() counts datagrams it could not send and goes on", async () => {
  const tcp = Array.from({ length: 15 }, (_, i) => ({ ...udpSession(i), proto: "TCP" as const }));
  const icmp = [{ ...udpSession(20), proto: "ICMP" as const }];
  const table = new FakeTable(
    new Map<number, Session[]>([[L4Protocol.TCP, tcp], [L4Protocol.ICMP, icmp]]),
    57,
  );
  const sent: Uint8Array[] = [];
  let calls = 0;
  const result = await dumpSessionTable(ports(table, sent, () => calls++ > 0), "nested-4.1.0");
  assert.deepEqual(result, { sessions: 16, datagrams: 1, failed: 1 });
  // The second datagram packs the last TCP sessions with the ICMP one.
  const second = decodeSessions(sent[1], "nested-4.1.0").sessions;
  assert.deepEqual(second.map((s) => s.proto), ["TCP", "TCP", "TCP", "TCP", "TCP", "ICMP"]);
});

Deno.test("dumpSessionTable() still sends the sessions it holds when a later page fails", async () => {
  const udp = Array.from({ length: 57 }, (_, i) => udpSession(i));
  const table = new FakeTable(new Map([[L4Protocol.UDP, udp]]), 57);
  const sent: Uint8Array[] = [];
  const failing: TableDumpPorts = {
    ...ports(table, sent),
    page: (protocol, after) =>
      protocol === L4Protocol.ICMP
        ? Promise.reject(new Error("Netlink: the kernel answered EINVAL"))
        : table.page(protocol, after),
  };
  await assert.rejects(() => dumpSessionTable(failing, "nested-4.1.0"), /EINVAL/);
  const received = sent.flatMap((datagram) => decodeSessions(datagram, "nested-4.1.0").sessions);
  assert.equal(received.length, 57);
});

Deno.test("dumpSessionTable() refuses entries that are not in the expected encoding", async () => {
  const table = new FakeTable(new Map([[L4Protocol.UDP, [udpSession(0)]]]), 57);
  await assert.rejects(
    () => dumpSessionTable(ports(table, []), "raw36-4.1.13"),
    /not in the raw36-4.1.13 encoding/,
  );
});
