/**
 * Authenticated sync and unicast peers: sealed datagrams between
 * three nodes with a stranger in clear, a node with the wrong key and a
 * replay on the link, keys rotated with traffic flowing; unicast peers with
 * multicast blocked on the sync bridge, two nodes in clear, then three with
 * auth and a resync over unicast.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Scenario } from "../lib/harness.ts";
import {
  checkCleanStops,
  checkCounterRelations,
  checkSync,
  daemonRecord,
  diffSessions,
  expectedSessions,
  formatDiff,
  inSync,
  loadTables,
  type Outcome,
  parseKeyValues,
  parseTraffic,
  readJsonStats,
  readText,
  type Session,
} from "../lib/checks.ts";

/** Datagrams the auth scenario replays (tests/e2e/scenarios/auth.sh). */
const REPLAYS = 5;
/** The sealed nodes of the auth scenario. */
const SEALED = ["j1", "j2", "j3"];
/** The sealed node whose daemon the scenario restarts before replaying again. */
const RESTARTED = "j2";

/** The sessions of `nodes`' tables that `nodes`' flows must have made, and each node's diff. */
async function groupReport(outcome: Outcome, nodes: string[]) {
  const all = await loadTables(outcome);
  const tables = new Map<string, Session[]>(nodes.map((node) => [node, all.get(node) ?? []]));
  const flows = parseTraffic((await readText(`${outcome.out}/traffic.csv`)) ?? "")
    .filter((flow) => nodes.includes(flow.node));
  const { expected, problems } = expectedSessions(tables, flows);
  if (flows.length === 0) problems.push(`No traffic went through ${nodes.join(", ")}.`);
  return { problems, diffs: diffSessions(tables, expected) };
}

async function assertGroupInSync(outcome: Outcome, nodes: string[], what: string) {
  const { problems, diffs } = await groupReport(outcome, nodes);
  assert.deepEqual(problems, [], `${what}: the traffic did not create the sessions`);
  assert.ok(inSync(diffs), `${what}:\n${formatDiff(diffs)}`);
}

export async function checkAuth(outcome: Outcome): Promise<void> {
  const keys = parseKeyValues((await readText(`${outcome.out}/auth/keys.txt`)) ?? "");
  assert.equal(keys.get("k1.mode"), "600", "joold keygen's file mode");
  assert.equal(keys.get("again.exit"), "1", "joold keygen onto an existing file");

  // j1-j3 hold exactly their own sessions (none of j4's or j5's), keys
  // rotated meanwhile; j4 (clear) and j5 (wrong key) only their own.
  await assertGroupInSync(outcome, SEALED, "j1-j3 (sealed, rotated)");
  await assertGroupInSync(outcome, ["j4"], "j4 (a stranger in clear) took sealed sessions");
  await assertGroupInSync(outcome, ["j5"], "j5 (the wrong key) took sessions");

  for (const node of SEALED) {
    const stats = await readJsonStats(outcome, node);
    // A restarted node's logs: both runs.
    const runs = node === RESTARTED ? [`${node}-first`, node] : [node];
    const stderr = (await Promise.all(runs.map((run) => daemonRecord(outcome, run))))
      .map((record) => record.stderr).join("");
    // Drops for auth count as received and dropped, per peer too.
    checkCounterRelations(node, stats, { sealed: true });
    assert.ok(stats.counters.authDropped > 0, `${node} counted no unauthenticated datagram`);
    assert.match(
      stderr,
      /Dropped a datagram from \[2001:db8:ff08::4\]:646[45]: (sync|control) datagram not authentic: not sealed/,
      `${node} did not log j4's clear batches`,
    );
    assert.match(
      stderr,
      /Dropped a datagram from \[2001:db8:ff08::5\]:646[45]: (sync|control) datagram not authentic: bad authentication tag \(key id 1\)/,
      `${node} did not log j5's wrong key`,
    );
    for (
      const step of [
        "sending with key 1, accepting 1 and 2",
        "sending with key 2, accepting 1 and 2",
        "sending with key 2, accepting 2",
      ]
    ) {
      assert.ok(
        stderr.includes(step),
        `${node} did not log the rotation step "${step}":\n${stderr}`,
      );
    }
    // The replay: counted, and nothing more handed to the kernel.
    const before = await readJsonStats(outcome, `${node}.before`);
    const after = await readJsonStats(outcome, `${node}.after`);
    assert.equal(
      after.counters.replayDropped - before.counters.replayDropped,
      REPLAYS,
      `${node}: replays counted`,
    );
    assert.equal(
      after.counters.kernelAdds,
      before.counters.kernelAdds,
      `${node}: adds during the replay`,
    );
  }
  // The replay again, to j2 restarted: its peers proved their liveness since,
  // so what was sealed before is refused, and its kernel gains nothing.
  const before = await readJsonStats(outcome, `${RESTARTED}.restarted.before`);
  const after = await readJsonStats(outcome, `${RESTARTED}.restarted.after`);
  assert.equal(
    after.counters.replayDropped - before.counters.replayDropped,
    REPLAYS,
    `${RESTARTED} after its restart: replays counted`,
  );
  assert.equal(
    after.counters.kernelAdds,
    before.counters.kernelAdds,
    `${RESTARTED} after its restart: adds during the replay`,
  );
  assert.ok(before.counters.kernelAdds > 0, `${RESTARTED} got nothing by resync after its restart`);
  const j5 = await readJsonStats(outcome, "j5");
  assert.ok(j5.counters.authDropped > 0, "j5 (wrong key) counted nothing it could not open");
  assert.equal(j5.counters.kernelAdds, 0, "j5 (wrong key) handed sessions to its kernel");
  await checkCleanStops(outcome);
}

export async function checkUnicast(outcome: Outcome): Promise<void> {
  const out = `${outcome.out}/unicast`;
  const open = (await readText(`${out}/multicast_probe.open`))?.trim();
  assert.equal(open, "5", "the multicast probe does not work: nothing crossed the open bridge");
  const probe = (await readText(`${out}/multicast_probe.txt`))?.trim();
  assert.equal(probe, "0", "the multicast probe crossed the sync bridge: multicast is not blocked");
  const phaseA = parseKeyValues((await readText(`${out}/phase_a.txt`)) ?? "");
  assert.equal(phaseA.get("sync"), "in sync", "two unicast nodes in clear did not sync");
  const resync = parseKeyValues((await readText(`${out}/resync/result`)) ?? "");
  assert.notEqual(
    resync.get("complete_after"),
    "never",
    `j3 did not get j1's and j2's sessions by resync over unicast: ${[...resync].join(", ")}`,
  );
  // Every session (phase A's, and the three-node phase's) on every node.
  await checkSync(outcome);
  for (const node of ["j1", "j2", "j3"]) {
    const stats = await readJsonStats(outcome, node);
    assert.ok(stats.counters.netSentPackets > 0, `${node} sent nothing`);
    // Phase B's daemons, sealed.
    checkCounterRelations(node, stats, { sealed: true });
    assert.equal(stats.counters.authDropped, 0, `${node} dropped authentic datagrams`);
    const { stderr } = await daemonRecord(outcome, node);
    assert.match(
      stderr,
      /Network socket ready: unicast to .*authenticated/,
      `${node}'s start line`,
    );
  }
}

export const SCENARIOS: Scenario[] = [
  { name: "auth", ours: true, nodes: 5, ci: "main", check: checkAuth },
  { name: "unicast", ours: true, nodes: 3, ci: "main", check: checkUnicast },
];
