/**
 * The state file of raised globals under exactly the executable's
 * permissions: the daemon may write it in /run/joold (and make that
 * directory when started by hand), and nowhere else.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { RUNTIME_FLAGS } from "../../scripts/runtime_flags.ts";

const PROBE = fromFileUrl(new URL("./fixtures/state_file_probe.ts", import.meta.url));
const skipReason = Deno.build.os !== "linux" || Deno.uid() !== 0 ? "needs Linux and root" : null;
if (skipReason !== null) console.error(`state file test skipped: ${skipReason}`);

Deno.test({
  name:
    "state file: written, read and removed in /run/joold with the shipped flags; refused elsewhere",
  ignore: skipReason !== null,
  fn: async () => {
    const instance = `joold-test-${Deno.pid}`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...RUNTIME_FLAGS, PROBE, instance],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.deepEqual(result.loaded, [["ss-capacity", { type: 1, original: 512, raised: 16384 }]]);
    assert.equal(result.gone, true);
    assert.equal(result.outside, "NotCapable", "the executable may not write outside /run/joold");
  },
});
