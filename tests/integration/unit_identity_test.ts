/**
 * The daemon as joold.service runs it (reproduced with setpriv, as there is
 * no systemd here): as the user joold, with only CAP_NET_ADMIN, on the
 * bundle with the executable's flags. The key `joold keygen` writes
 * (root:joold 0640) reaches it; a root-only key (0600) is refused with
 * Permission denied and exit 78, which is what the units did with every
 * key before they ran as joold.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleArgs, RUNTIME_FLAGS } from "../../scripts/runtime_flags.ts";
import { runCommand } from "../../scripts/run_command.ts";
import { setprivForUnit, withDaemonUser } from "./daemon_account.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const canRun = Deno.build.os === "linux" && Deno.uid() === 0 &&
  await runCommand("setpriv", ["--version"]).then((r) => r.code === 0, () => false);
if (!canRun) console.error("unit identity test skipped: needs root and setpriv");

Deno.test({
  name: "the unit's identity: joold reads the root:joold key keygen wrote, not a root-only one",
  ignore: !canRun,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "joold-identity-" });
    try {
      await Deno.chmod(dir, 0o755);
      const bundle = `${dir}/joold.js`;
      const built = await runCommand(Deno.execPath(), bundleArgs(bundle), { cwd: ROOT });
      assert.equal(built.code, 0, built.stderr);
      const unit = await Deno.readTextFile(`${ROOT}/packaging/joold.service`);
      await Deno.writeTextFile(
        `${dir}/net.json`,
        JSON.stringify({
          "multicast address": "233.252.0.64",
          "multicast port": 46474,
          "auth key file": `${dir}/sync.key`,
        }),
      );
      await withDaemonUser(async () => {
        const cache = `${dir}/deno-dir`;
        await Deno.mkdir(cache);
        await runCommand("chown", ["joold:joold", cache]);
        const joold = (args: string[]) =>
          runCommand("setpriv", [
            ...setprivForUnit(unit),
            "env",
            "-i",
            "HOME=/nonexistent",
            `DENO_DIR=${cache}`,
            Deno.execPath(),
            "run",
            "--no-config",
            ...RUNTIME_FLAGS,
            bundle,
            ...args,
          ], { cwd: dir });
        const made = await runCommand(Deno.execPath(), [
          "run",
          "--no-config",
          ...RUNTIME_FLAGS,
          bundle,
          "keygen",
          `${dir}/sync.key`,
        ]);
        assert.equal(made.code, 0, made.stderr);
        const shared = await joold(["net.json"]);
        // The key loads; what stops it is the kernel (no Jool here, or no instance).
        assert.notEqual(shared.code, 78, shared.stderr);
        assert.doesNotMatch(shared.stderr, /sync\.key/);
        const checked = await joold(["check", "net.json"]);
        assert.match(checked.stdout, /^ok {4}auth key file: .*sync\.key: sends with key 1$/m);
        assert.match(checked.stdout, /^ok {4}privileges: CAP_NET_ADMIN is in effect$/m);

        await Deno.chmod(`${dir}/sync.key`, 0o600);
        await runCommand("chgrp", ["root", `${dir}/sync.key`]);
        const rootOnly = await joold(["net.json"]);
        assert.equal(rootOnly.code, 78);
        assert.match(
          rootOnly.stderr,
          /net\.json: "auth key file": cannot read .*sync\.key: Permission denied/,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
