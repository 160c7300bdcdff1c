import assert from "node:assert/strict";
import { L4Protocol, SessionTimer } from "../jool/protocol.ts";
import type { SessionFields } from "../jool/session_layout.ts";
import {
  countsInRound,
  ROUND_EXPIRY_MARGIN_MS,
  ROUND_IDLE_MS,
  sessionTimeoutMs,
  type SessionTimeouts,
  worthRepairing,
} from "./convergence_round.ts";

const TIMEOUTS: SessionTimeouts = {
  tcpEst: 7_200_000,
  tcpTrans: 240_000,
  udp: 300_000,
  icmp: 60_000,
};

function fields(protocol: number, timer: number, expirationMs: number): SessionFields {
  return {
    packed: protocol << 5 | timer,
    src6: new Uint8Array(16),
    src6Port: 1,
    dst6: null,
    dst6Port: 0,
    src4: new Uint8Array(4),
    src4Port: 2,
    dst4: new Uint8Array(4),
    dst4Port: 3,
    expirationMs,
  };
}

Deno.test("sessionTimeoutMs(): the instance's timeout of the protocol and timer, as get_timeout()", () => {
  const { TCP, UDP, ICMP } = L4Protocol;
  const { EST, TRANS, SYN4 } = SessionTimer;
  assert.equal(sessionTimeoutMs(fields(TCP, EST, 0).packed, TIMEOUTS), 7_200_000);
  assert.equal(sessionTimeoutMs(fields(TCP, TRANS, 0).packed, TIMEOUTS), 240_000);
  assert.equal(sessionTimeoutMs(fields(TCP, SYN4, 0).packed, TIMEOUTS), 6_000);
  assert.equal(sessionTimeoutMs(fields(UDP, EST, 0).packed, TIMEOUTS), 300_000);
  assert.equal(sessionTimeoutMs(fields(ICMP, EST, 0).packed, TIMEOUTS), 60_000);
});

Deno.test("countsInRound(): idle a minute at the round's start, and alive 30 s past it", () => {
  const udp = (remaining: number, readAge = 0) =>
    countsInRound(fields(L4Protocol.UDP, 0, remaining), TIMEOUTS, readAge);
  assert.ok(udp(300_000 - ROUND_IDLE_MS), "idle exactly a minute");
  assert.ok(!udp(300_000 - ROUND_IDLE_MS + 1), "refreshed since");
  assert.ok(!udp(300_000), "refreshed just now");
  assert.ok(udp(ROUND_EXPIRY_MARGIN_MS + 1));
  assert.ok(!udp(ROUND_EXPIRY_MARGIN_MS), "expires within the margin");
  // A TCP session waiting for its SYN never lives long enough to count.
  assert.ok(!countsInRound(fields(L4Protocol.TCP, SessionTimer.SYN4, 6_000), TIMEOUTS, 0));
  assert.ok(countsInRound(fields(L4Protocol.TCP, SessionTimer.EST, 3_600_000), TIMEOUTS, 0));
});

Deno.test("countsInRound(): judged from the round's start, so two reads at other moments agree", () => {
  // A session last updated `updatedMs` from the round's start (negative: before) and not since,
  // read by one node at once and by another 20 s later: the same verdict.
  for (const protocol of [L4Protocol.TCP, L4Protocol.UDP, L4Protocol.ICMP]) {
    const timeout = sessionTimeoutMs(fields(protocol, 0, 0).packed, TIMEOUTS);
    for (let updatedMs = -timeout; updatedMs <= 0; updatedMs += 997) {
      const remainingAt = (readAge: number) => updatedMs + timeout - readAge;
      const early = countsInRound(fields(protocol, 0, remainingAt(0)), TIMEOUTS, 0);
      const late = countsInRound(fields(protocol, 0, remainingAt(20_000)), TIMEOUTS, 20_000);
      assert.equal(late, early, `protocol ${protocol}, updated ${updatedMs} ms`);
    }
  }
});

Deno.test("worthRepairing(): not a session about to expire", () => {
  assert.ok(worthRepairing(fields(L4Protocol.UDP, 0, ROUND_EXPIRY_MARGIN_MS + 1)));
  assert.ok(!worthRepairing(fields(L4Protocol.UDP, 0, ROUND_EXPIRY_MARGIN_MS)));
});
