import assert from "node:assert/strict";
import { AF_INET, SOCK_DGRAM } from "../../ffi/constants.ts";
import { Libc } from "../../ffi/libc.ts";
import { sockaddrIn } from "../../ffi/sockaddr.ts";
import { Sockets } from "../../ffi/sockets.ts";
import { STATS_ANSWER_LIMITS } from "./answer_budget.ts";
import { isStatsAnswer, StatsServer, type StatsServerCounters } from "./stats_server.ts";

const LOOPBACK = new Uint8Array([127, 0, 0, 1]);
const ANSWER = new TextEncoder().encode("KERNEL_SENT_PKTS,0\nKERNEL_SENT_BYTES,0\n");

/** Two servers on loopback ports from `base`, a client, and a clean-up. */
function withServers(
  base: number,
  use: (tools: {
    sockets: Sockets;
    a: StatsServer;
    b: StatsServer;
    counters: [StatsServerCounters, StatsServerCounters];
    client: number;
  }) => void,
): void {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const counters: [StatsServerCounters, StatsServerCounters] = [
    { statsAnswers: 0, statsRefused: 0 },
    { statsAnswers: 0, statsRefused: 0 },
  ];
  const a = StatsServer.open(sockets, base, () => ANSWER, {
    address: LOOPBACK,
    counters: counters[0],
  });
  const b = StatsServer.open(sockets, base + 1, () => ANSWER, {
    address: LOOPBACK,
    counters: counters[1],
  });
  const client = sockets.open(AF_INET, SOCK_DGRAM, 0, "client");
  try {
    use({ sockets, a, b, counters, client });
  } finally {
    sockets.close(client, "client");
    a.close();
    b.close();
    libc.close();
  }
}

/** Lets the loopback deliver what was sent. */
function settle(): void {
  const until = performance.now() + 20;
  while (performance.now() < until) { /* loopback delivery is immediate but asynchronous */ }
}

Deno.test("isStatsAnswer(): the reference's six lines and our JSON are answers; requests are not", () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  assert.equal(isStatsAnswer(encode("KERNEL_SENT_PKTS,12\nKERNEL_SENT_BYTES,0\n")), true);
  assert.equal(isStatsAnswer(encode('{"version":"0.1.0"}')), true);
  for (const request of ["", "\n", "json", "JSON\n", "KERNEL", "stats please"]) {
    assert.equal(isStatsAnswer(encode(request)), false, JSON.stringify(request));
  }
});

Deno.test("stats server: a request forged from another stats server gets one answer, not a loop", () => {
  withServers(47610, ({ sockets, a, b, counters }) => {
    // The forged request: it comes from b's address and port, as if b asked.
    sockets.send(b.fd, new Uint8Array(0), sockaddrIn(LOOPBACK, 47610), "forger");
    for (let round = 0; round < 10; round++) {
      settle();
      a.serve();
      b.serve();
    }
    assert.deepEqual(counters, [
      { statsAnswers: 1, statsRefused: 0 },
      { statsAnswers: 0, statsRefused: 1 },
    ]);
  });
});

Deno.test("stats server: a flood from one host gets its burst of answers, in bounded work per wake-up", () => {
  withServers(47620, ({ sockets, a, counters, client }) => {
    const flood = 300;
    // Room for the whole flood: the default buffer holds about 270 such datagrams.
    sockets.setReceiveBuffer(a.fd, 1 << 20, "stats");
    for (let i = 0; i < flood; i++) {
      sockets.send(client, new TextEncoder().encode("json"), sockaddrIn(LOOPBACK, 47620), "client");
    }
    settle();
    a.serve();
    const first = counters[0].statsAnswers + counters[0].statsRefused;
    assert.equal(first, 256, "one wake-up reads at most 256 requests");
    a.serve();
    assert.equal(counters[0].statsAnswers + counters[0].statsRefused, flood);
    assert.equal(counters[0].statsAnswers, STATS_ANSWER_LIMITS.perSourceBurst);
  });
});

Deno.test("stats server: large answers (JSON) to one host come from a smaller budget", () => {
  const libc = Libc.open();
  const sockets = new Sockets(libc);
  const counters = { statsAnswers: 0, statsRefused: 0 };
  const large = new Uint8Array(30_000).fill(0x20);
  const server = StatsServer.open(sockets, 47630, () => large, { address: LOOPBACK, counters });
  const client = sockets.open(AF_INET, SOCK_DGRAM, 0, "client");
  try {
    sockets.setReceiveBuffer(server.fd, 1 << 20, "stats");
    sockets.setReceiveBuffer(client, 1 << 22, "client");
    for (let i = 0; i < 20; i++) {
      sockets.send(client, new TextEncoder().encode("json"), sockaddrIn(LOOPBACK, 47630), "client");
    }
    settle();
    server.serve();
    assert.equal(counters.statsAnswers, 2, "a 4-byte request buys 30 KB at most twice at once");
    assert.equal(counters.statsRefused, 18);
  } finally {
    sockets.close(client, "client");
    server.close();
    libc.close();
  }
});
