/**
 * The daemon's log on a stderr pipe that nobody reads: the writes do not
 * wait (the lines that do not fit are counted, not written), where a
 * blocking stderr would stop the daemon's event loop for good.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";

const FLOOD = fromFileUrl(new URL("./fixtures/log_flood.ts", import.meta.url));

/** Runs the fixture with stderr piped and never read; null if it did not finish in `ms`. */
async function flood(args: string[], ms: number): Promise<string | null> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", FLOOD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  const line = await Promise.race([stdout.then((chunk) => chunk.value ?? ""), timeout]);
  clearTimeout(timer);
  if (line === null) child.kill("SIGKILL");
  await child.status;
  await child.stderr.cancel();
  return line;
}

Deno.test("a log nobody reads costs lines, not the event loop", async () => {
  const line = await flood([], 20_000);
  assert.ok(line !== null, "the writer waited for a reader");
  const { failures } = JSON.parse(line);
  assert.ok(failures > 0, "lines that did not fit are counted");
});

Deno.test("as before, with a blocking stderr the writer waits for ever", async () => {
  assert.equal(await flood(["blocking"], 3000), null);
});
