/**
 * The core scenarios: sync between two and three nodes with our daemon, the C
 * joold and both (every wire encoding), stats, errors, the negative control,
 * and the features beyond the reference (auto-enable, resync, garbage on the
 * link, `joold check`, a release installed as the README says).
 *
 * @module
 */

import type { Scenario } from "../lib/harness.ts";
import {
  checkAutoEnable,
  checkCheckCommand,
  checkGarbage,
  checkInstall,
  checkMissingInstance,
  checkNegativeControl,
  checkResync,
  checkStats,
  checkSync,
  checkSyncDisabled,
} from "../lib/checks.ts";

/**
 * Where CI resyncs: the table comes by SESSION_FOREACH dumps before Jool
 * 4.1.11 and by JOOLD_ADVERTISE from then on, one version of each.
 */
const RESYNC_CI = ["4.1.9", "4.1.15"] as const;

/** Cross-version ones (`ci: "all"`): where versions differ (wire, C joold, advertise). */
export const SCENARIOS: Scenario[] = [
  // Harness checks: Jool's C joold everywhere.
  { name: "ref-ipv6", ours: false, nodes: 2, ci: "main", check: checkSync },
  { name: "ref-ipv4", ours: false, nodes: 2, ci: "main", check: checkSync },
  { name: "ref-three", ours: false, nodes: 3, ci: "main", check: checkSync },
  // This project's joold.
  { name: "ours-ipv6", ours: true, nodes: 2, ci: "main", check: checkSync },
  { name: "ours-ipv4", ours: true, nodes: 2, ci: "main", check: checkSync },
  // Each direction and each family with every version's C joold; all four on the main one.
  { name: "interop6-ours-ref", ours: true, nodes: 2, ci: "all", check: checkSync },
  { name: "interop6-ref-ours", ours: true, nodes: 2, ci: "main", check: checkSync },
  { name: "interop4-ours-ref", ours: true, nodes: 2, ci: "main", check: checkSync },
  { name: "interop4-ref-ours", ours: true, nodes: 2, ci: "all", check: checkSync },
  { name: "ours-three", ours: true, nodes: 3, ci: "main", check: checkSync },
  { name: "ours-stats", ours: true, nodes: 2, ci: "main", check: checkStats },
  { name: "error-instance", ours: true, nodes: 2, ci: "main", check: checkMissingInstance },
  { name: "error-ss-disabled", ours: true, nodes: 2, ci: "main", check: checkSyncDisabled },
  { name: "control-no-daemon", ours: true, nodes: 2, ci: "main", check: checkNegativeControl },
  { name: "auto-enable", ours: true, nodes: 2, ci: "main", check: checkAutoEnable },
  { name: "resync-1000", ours: true, nodes: 3, ci: RESYNC_CI, check: checkResync },
  // j1's kernel holds 1,000 sessions before any daemon starts; j2 starts last.
  { name: "cold-resync", ours: true, nodes: 2, ci: RESYNC_CI, check: checkResync },
  { name: "garbage", ours: true, nodes: 2, ci: "main", check: checkGarbage },
  { name: "check", ours: true, nodes: 2, ci: "main", check: checkCheckCommand },
  // A release installed as the README says and run as its units say.
  { name: "install", ours: true, nodes: 2, ci: "main", check: checkInstall },
];
