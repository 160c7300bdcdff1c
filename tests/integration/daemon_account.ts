/**
 * The units' identity on this host, for the tests that run joold as
 * systemd would run it (no systemd here): the system user joold, made for
 * the test and removed after it unless it existed, and the setpriv(1)
 * command line that gives a process a unit's User=, Group=, capabilities
 * and NoNewPrivileges=.
 */

import assert from "node:assert/strict";
import { runCommand } from "../../scripts/run_command.ts";

/** Runs `use` with a system user and group `joold`, made for it unless one exists. */
export async function withDaemonUser(use: () => Promise<void>): Promise<void> {
  const exists = (await runCommand("id", ["joold"])).code === 0;
  if (!exists) {
    const added = await runCommand("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "joold",
    ]);
    assert.equal(added.code, 0, `useradd joold: ${added.stderr}`);
  }
  try {
    await use();
  } finally {
    if (!exists) await runCommand("userdel", ["joold"]);
  }
}

/** The value of `key=` in `unit` (the last one, as systemd takes it). */
function setting(unit: string, key: string): string | undefined {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].at(-1)?.[1];
}

/**
 * setpriv's arguments for a service `unit`'s identity: its User= and Group=
 * with the user's groups (initgroups, as systemd does), its
 * AmbientCapabilities= (inheritable too, which ambient ones need), its
 * CapabilityBoundingSet= and NoNewPrivileges=.
 */
export function setprivForUnit(unit: string): string[] {
  const user = setting(unit, "User");
  const group = setting(unit, "Group");
  assert.ok(user !== undefined && group !== undefined, "the unit names User= and Group=");
  const caps = (key: string) =>
    "-all" + (setting(unit, key) ?? "").split(/\s+/).filter((cap) => cap !== "")
      .map((cap) => `,+${cap.replace(/^CAP_/, "").toLowerCase()}`).join("");
  return [
    `--reuid=${user}`,
    `--regid=${group}`,
    "--init-groups",
    `--inh-caps=${caps("AmbientCapabilities")}`,
    `--ambient-caps=${caps("AmbientCapabilities")}`,
    `--bounding-set=${caps("CapabilityBoundingSet")}`,
    ...(setting(unit, "NoNewPrivileges") === "yes" ? ["--no-new-privs"] : []),
  ];
}
