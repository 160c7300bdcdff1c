/**
 * `joold proxy` and `joold follow` as processes: a bad command line is one
 * line on stderr and exit status 2, before anything is opened; `--help`
 * prints the usage; `joold --help` names both commands.
 */

import assert from "node:assert/strict";
import { joold } from "./joold_process.ts";

Deno.test("joold proxy and follow: a bad flag is one line and status 2", async () => {
  const cases: [string[], string][] = [
    [
      ["proxy", "--net.ttl=300", "ff08::db8:64:64"],
      "joold proxy: --net.ttl: must be an integer from 0 to 255, got '300'",
    ],
    [["proxy"], "joold proxy: MCAST_ADDRESS is missing (the group, e.g. ff08::db8:64:64)"],
    [
      ["proxy", "--stats.port=0", "ff08::1"],
      "joold proxy: --stats.port: must be a port number from 1 to 65535, got '0'",
    ],
    [["proxy", "--bogus", "ff08::1"], "joold proxy: Unknown option '--bogus'."],
    [["follow", "--json", "--csv"], "joold follow: --json and --csv exclude each other"],
    [
      ["follow", "--source=group"],
      "joold follow: --source=group needs MCAST_ADDRESS (the sync group)",
    ],
    // Listening only, follow changes no global: nothing to opt out of.
    [["follow", "--no-ss-capacity"], "joold follow: --no-ss-capacity only goes with --ack"],
  ];
  for (const [args, line] of cases) {
    const { code, stdout, stderr } = await joold(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "", args.join(" "));
    assert.equal(stderr.split("\n").filter((l) => l !== "").length, 1, stderr);
    assert.ok(stderr.startsWith(line), `${args.join(" ")}: ${stderr}`);
  }
});

Deno.test("joold proxy and follow: --help, and joold --help names them", async () => {
  const proxy = await joold(["proxy", "--help"]);
  assert.equal(proxy.code, 0);
  for (
    const flag of [
      "--net.dev.in",
      "--net.dev.out",
      "--net.mcast.port",
      "--net.ttl",
      "--stats.address",
      "--stats.port",
      "--instance",
    ]
  ) {
    assert.ok(proxy.stdout.includes(flag), `joold proxy --help lacks ${flag}`);
  }
  const follow = await joold(["follow", "--help"]);
  assert.equal(follow.code, 0);
  for (
    const flag of [
      "--json",
      "--csv",
      "--source",
      "--instance",
      "--no-ss-capacity",
      "--no-ss-max-payload",
      "--no-ss-flush-asap",
      "--no-ss-flush-deadline",
    ]
  ) {
    assert.ok(follow.stdout.includes(flag), `joold follow --help lacks ${flag}`);
  }
  const main = await joold(["--help"]);
  assert.equal(main.code, 0);
  for (const text of ["joold proxy", "joold follow", "Jool 4.1 version"]) {
    assert.ok(main.stdout.includes(text), `joold --help lacks '${text}'`);
  }
});
