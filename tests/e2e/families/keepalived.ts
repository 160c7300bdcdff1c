/**
 * Failover the way operators run it: Debian's keepalived moving the
 * virtual address between two routers, with packaging/keepalived's
 * vrrp_script on `joold status` (tests/e2e/scenarios/keepalived.sh). A
 * router that comes back does not take the address until its joold is in
 * sync, and every connection goes on; without the vrrp_script (the control)
 * it takes the address at once and the connections made while it was away
 * break.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Scenario } from "../lib/harness.ts";
import { type Outcome, readText } from "../lib/checks.ts";
import {
  type FlowEvent,
  parseEvents,
  parseTimeline,
  phaseOf,
  PHASES,
} from "../lib/failover_timeline.ts";

/** The cases the guest runs, in order: with the vrrp_script, then without. */
export const KEEPALIVED_CASES = ["gated", "ungated"] as const;

const TCP_FAILURES = /^tcp-(timeout|reset|error|closed-by-peer|write-failed)$/;

/** What one connection (A or B) did. */
interface ConnectionStory {
  connections: number;
  failures: FlowEvent[];
  echoes: Record<(typeof PHASES)[number], number>;
}

function story(timelineText: string, log: string): ConnectionStory {
  const timeline = parseTimeline(timelineText);
  const events = parseEvents(log);
  const echoes = { j1: 0, j2: 0, "j1 again": 0 };
  for (const event of events.filter((e) => e.event === "tcp-echo")) {
    const phase = phaseOf(timeline, event.ms);
    if (phase !== undefined) echoes[phase]++;
  }
  return {
    connections: events.filter((e) => e.event === "tcp-connected").length,
    failures: events.filter((e) => TCP_FAILURES.test(e.event)),
    echoes,
  };
}

/** When j1 first held the address after the failback (vip.txt: `EPOCH_MS HOLDER` lines). */
export function j1BackAt(vipText: string, failbackMs: number): number | undefined {
  return parseEvents(vipText).find((e) => e.ms >= failbackMs && e.event === "j1")?.ms;
}

export async function checkKeepalived(outcome: Outcome): Promise<void> {
  for (const name of KEEPALIVED_CASES) {
    const dir = `${outcome.out}/keepalived/${name}`;
    const timelineText = (await readText(`${dir}/timeline.txt`)) ?? "";
    const marks = new Map(parseEvents(timelineText).map((e) => [e.event, e.ms]));
    const timeline = parseTimeline(timelineText);
    const joolStart = marks.get("joold-start");
    assert.ok(joolStart !== undefined, `${name}: no joold-start mark`);
    const back = j1BackAt((await readText(`${dir}/vip.txt`)) ?? "", timeline.failback);
    const a = story(timelineText, (await readText(`${dir}/a.log`)) ?? "");
    const b = story(timelineText, (await readText(`${dir}/b.log`)) ?? "");
    const status = (await readText(`${dir}/status/j1.exit`))?.trim();
    const report = [
      `${name}: j1 took the address back ${
        back === undefined ? "never" : `${back - timeline.failback} ms after it came back`
      }, its joold started ${joolStart - timeline.failback} ms after; joold status then ${status}`,
      `  A (through j1, j2, j1): ${JSON.stringify(a.echoes)} echoes, ${a.connections} ` +
      `connections, failures ${JSON.stringify(a.failures.map((f) => f.event))}`,
      `  B (made through j2 while j1 was away): ${JSON.stringify(b.echoes)} echoes, ` +
      `${b.connections} connections, failures ${JSON.stringify(b.failures.map((f) => f.event))}`,
    ].join("\n");
    console.log(report);
    assert.ok(back !== undefined, `${name}: j1 never took the address back:\n${report}`);
    if (name === "gated") {
      assert.ok(back > joolStart, `j1 took the address before its joold ran:\n${report}`);
      assert.equal(status, "0", `joold status on j1 once it held the address:\n${report}`);
      for (const [label, connection] of [["A", a], ["B", b]] as const) {
        assert.deepEqual(connection.failures, [], `${label} broke:\n${report}`);
        assert.equal(connection.connections, 1, `${label} reconnected:\n${report}`);
        assert.ok(connection.echoes["j1 again"] > 0, `${label}: no echo after the failback`);
      }
      assert.ok(a.echoes.j1 > 0 && a.echoes.j2 > 0, `A did not go through both:\n${report}`);
    } else {
      assert.ok(back < joolStart, `ungated: j1 waited for its joold:\n${report}`);
      const broken = [...a.failures, ...b.failures].filter((f) => f.ms >= timeline.failback);
      assert.ok(broken.length > 0, `ungated: no connection broke at the failback:\n${report}`);
    }
  }
}

/** One VM run (~3 min); CI runs it on the newest Jool. */
export const SCENARIOS: Scenario[] = [
  { name: "keepalived", ours: true, nodes: 2, ci: "main", check: checkKeepalived },
];
