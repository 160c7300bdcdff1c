/**
 * How young a connection can be and still survive a failover: with a busy
 * router's background of new sessions, probe sessions made 100 ms apart
 * must each be on the peer within a second with ours on both nodes
 * (tests/e2e/scenarios/young_sessions.sh). The C joold on both nodes is the
 * control where the kernel holds partial batches for ss-flush-deadline
 * (Jool 4.1.13 and later): there at least one probe must be later.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseStamps, windowsOf } from "../../../bench/window_stats.ts";
import { joolVersion } from "../../../src/jool/header.ts";
import { kernelHonoursFlushAsap } from "../../../src/jool/kernel_behaviour.ts";
import type { Scenario } from "../lib/harness.ts";
import { type Outcome, readText } from "../lib/checks.ts";
import { describeVerdict, YOUNG_LIMIT_MS, youngVerdict } from "../lib/young_sessions.ts";

/** The kinds of daemon the guest must have run, in its order. */
const KINDS = ["ours", "reference"];

export async function checkYoungSessions(outcome: Outcome): Promise<void> {
  const ran = ((await readText(`${outcome.out}/young/kinds.txt`)) ?? "").trim().split(/\s+/);
  assert.deepEqual(ran, KINDS, "The guest ran other daemons than expected");
  const [major, minor, revision] = outcome.jool.split(".").map(Number);
  const kernelHoldsBatches = !kernelHonoursFlushAsap(joolVersion(major, minor, revision));
  for (const kind of KINDS) {
    const dir = `${outcome.out}/young/${kind}`;
    const created = parseStamps((await readText(`${dir}/created.txt`)) ?? "");
    const seen = parseStamps((await readText(`${dir}/seen.txt`)) ?? "");
    assert.equal(created.size, 20, `${kind}: the probe made ${created.size} sessions, not 20`);
    const verdict = youngVerdict(windowsOf(created, seen));
    console.log(describeVerdict(kind, verdict));
    if (kind === "ours") {
      assert.deepEqual(
        [verdict.lateMs, verdict.missing],
        [[], 0],
        `ours: every probe must be on j2 within ${YOUNG_LIMIT_MS} ms`,
      );
    } else if (kernelHoldsBatches) {
      assert.ok(
        verdict.lateMs.length + verdict.missing > 0,
        `the C joold on Jool ${outcome.jool} should have left a probe later than ` +
          `${YOUNG_LIMIT_MS} ms (ss-flush-deadline): the scenario cannot tell the daemons apart`,
      );
    }
  }
}

/** One VM run (~2 min): ours, then the C joold. */
export const SCENARIOS: Scenario[] = [
  {
    name: "young-sessions",
    ours: true,
    nodes: 2,
    ci: ["4.1.13", "4.1.15"],
    check: checkYoungSessions,
  },
];
