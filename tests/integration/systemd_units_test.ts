/**
 * The units of packaging/ as systemd 252 (Debian 12) reads them:
 * `systemd-analyze verify` on each, as the archive ships them and as the
 * .deb does, says nothing. verify requires ExecStart='s executable to
 * exist, so each is checked with the executable's path replaced by a
 * stand-in's (the same replacement that makes the .deb's units).
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { DEB_BINARY, TARBALL_BINARY, unitWithBinary } from "../../scripts/package.ts";
import { runCommand } from "../../scripts/run_command.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ANALYZE = "/usr/bin/systemd-analyze";
const hasAnalyze = await Deno.stat(ANALYZE).then(() => true, () => false);
if (!hasAnalyze) console.error(`units test skipped: no ${ANALYZE} (Debian's systemd package)`);

Deno.test({
  name: "units: systemd-analyze verify finds nothing to say, for the archive's and the .deb's",
  ignore: !hasAnalyze,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "joold-units-" });
    try {
      for (const binary of [TARBALL_BINARY, DEB_BINARY]) {
        // Where the executable is, under the temporary directory.
        const standIn = `${dir}${binary}`;
        await Deno.mkdir(standIn.slice(0, standIn.lastIndexOf("/")), { recursive: true });
        await Deno.writeTextFile(standIn, "#!/bin/sh\n", { mode: 0o755 });
        const units: string[] = [];
        for (const name of ["joold.service", "joold@.service"]) {
          const unit = `${dir}/${binary.split("/")[2]}/${name}`;
          await Deno.mkdir(unit.slice(0, unit.lastIndexOf("/")), { recursive: true });
          const text = await Deno.readTextFile(`${ROOT}/packaging/${name}`);
          await Deno.writeTextFile(unit, unitWithBinary(text, standIn));
          units.push(unit);
        }
        const result = await runCommand(ANALYZE, ["verify", "--man=no", ...units]);
        assert.equal(result.code, 0, `${binary}: ${result.stdout}${result.stderr}`);
        assert.equal(result.stdout + result.stderr, "", binary);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
