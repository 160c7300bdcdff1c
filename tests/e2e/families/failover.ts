/**
 * What sync is for: live connections through a NAT64 router that dies go on
 * through its backup, the young one opened just before the failover included
 * where ours runs on both routers. One VM run per Jool version holds every
 * pair of daemons (tests/e2e/scenarios/failover.sh): ours on both routers,
 * the C joold on both, ours on the active one and the C joold on the backup,
 * and none (the negative control, which must lose the TCP connection).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Scenario } from "../lib/harness.ts";
import { exists, type Outcome, readText } from "../lib/checks.ts";
import {
  describeCase,
  failuresAfterFailover,
  reportCaseDir,
  survivalProblems,
  youngProblems,
} from "../lib/failover_timeline.ts";

/** The daemon pairs (j1's:j2's) the guest must have run, in its order. */
export const FAILOVER_CASES = ["ours:ours", "reference:reference", "ours:reference", "none:none"];

/**
 * With a daemon on both routers the TCP connection, the UDP flow's IPv4
 * source port and the ping survive the failover and the failback; with none
 * the TCP connection times out (or is reset) after the failover. Daemons ran
 * throughout, and ours ended cleanly on SIGTERM.
 */
export async function checkFailover(outcome: Outcome): Promise<void> {
  const ran = ((await readText(`${outcome.out}/failover/cases.txt`)) ?? "").trim().split(/\s+/);
  assert.deepEqual(ran, FAILOVER_CASES, "The guest ran other cases than expected");
  for (const pair of FAILOVER_CASES) {
    const kinds = pair.split(":");
    const dir = `${outcome.out}/failover/${kinds.join("-")}`;
    const { timeline, report, young } = await reportCaseDir(dir);
    const story = `${pair}:\n${describeCase(timeline, report, young).join("\n")}`;
    console.log(story);
    if (kinds.includes("none")) {
      assert.ok(
        failuresAfterFailover(timeline, report).length > 0,
        `With no daemon the TCP connection should have broken at the failover:\n${story}`,
      );
      continue;
    }
    const problems = survivalProblems(report);
    assert.deepEqual(problems, [], `${pair}: the flows did not survive:\n${story}`);
    // Only ours keeps a session a few hundred ms old: printed for the others.
    if (pair === "ours:ours") {
      assert.ok(
        young !== null && young.ageAtFailoverMs < 1000,
        `${pair}: the young connection was not young at the failover:\n${story}`,
      );
      assert.deepEqual(
        youngProblems(young),
        [],
        `${pair}: the connection opened just before the failover did not survive:\n${story}`,
      );
    }
    for (const [i, kind] of kinds.entries()) {
      const base = `${dir}/daemons/j${i + 1}`;
      assert.ok(await exists(`${base}.stopped`), `${pair}: j${i + 1}'s ${kind} joold ended early`);
      if (kind === "ours") {
        const exit = (await readText(`${base}.exit`))?.trim();
        assert.equal(exit, "0", `${pair}: j${i + 1}'s joold exited ${exit} on SIGTERM`);
      }
    }
  }
}

/**
 * One VM run per version (~2.5 min): every pair of daemons and the control.
 * CI: 4.1.9 (the old flush rules) and 4.1.15 (4.1.13 flushes as it does).
 */
export const SCENARIOS: Scenario[] = [
  { name: "failover", ours: true, nodes: 2, ci: ["4.1.9", "4.1.15"], check: checkFailover },
];
