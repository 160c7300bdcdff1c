import assert from "node:assert/strict";
import { silentLogger } from "../log.ts";
import {
  configurationToPrint,
  decodePrintedRecord,
  forgetPrintedConfiguration,
  printConfigurationOnce,
  textHash,
} from "./printed_configuration.ts";

const CONFIGURATION = "joold 0.1.0 configuration:\n  instance: default\n  ttl: 1\n";

Deno.test("the configuration is printed whole once, then one line per start while it is the same", async () => {
  const directory = await Deno.makeTempDir();
  const path = `${directory}/default.net-4026531840.printed`;
  try {
    const printed: string[] = [];
    const start = (text: string, at: string) =>
      printConfigurationOnce(
        text,
        path,
        (line) => printed.push(line),
        silentLogger,
        Date.parse(at),
      );
    start(CONFIGURATION, "2026-12-07T14:00:00Z");
    start(CONFIGURATION, "2026-12-07T14:00:05Z");
    start(CONFIGURATION, "2026-12-07T14:00:10Z");
    const changed = CONFIGURATION.replace("ttl: 1", "ttl: 2");
    start(changed, "2026-12-07T14:01:00Z");
    start(changed, "2026-12-07T14:01:05Z");
    // Stopped on a signal: the operator's next start prints it whole.
    await forgetPrintedConfiguration(path);
    start(changed, "2026-12-07T15:00:00Z");
    await forgetPrintedConfiguration(path);
    assert.deepEqual([...Deno.readDirSync(directory)], [], "nothing left behind");
    assert.deepEqual(printed, [
      CONFIGURATION,
      "joold 0.1.0 configuration unchanged since 2026-12-07T14:00:00.000Z",
      "joold 0.1.0 configuration unchanged since 2026-12-07T14:00:00.000Z",
      changed,
      "joold 0.1.0 configuration unchanged since 2026-12-07T14:01:00.000Z",
      changed,
    ]);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("without a record (none, unreadable, another kind of file) it is printed whole", () => {
  const printed: string[] = [];
  printConfigurationOnce(CONFIGURATION, null, (line) => printed.push(line), silentLogger);
  printConfigurationOnce(
    CONFIGURATION,
    "/nonexistent/directory/x.printed",
    (line) => printed.push(line),
    silentLogger,
  );
  assert.deepEqual(printed, [CONFIGURATION, CONFIGURATION]);
  assert.equal(decodePrintedRecord("{}"), null);
  assert.equal(decodePrintedRecord("not json"), null);
  const first = configurationToPrint(CONFIGURATION, "ab", null, 0);
  assert.equal(first.print, CONFIGURATION);
  assert.deepEqual(first.record, { hash: "ab", since: "1970-01-01T00:00:00.000Z" });
});

Deno.test("textHash is 64-bit FNV-1a: the reference vectors", () => {
  assert.equal(textHash(""), "cbf29ce484222325");
  assert.equal(textHash("a"), "af63dc4c8601ec8c");
  assert.equal(textHash("foobar"), "85944171f73967e8");
  assert.notEqual(textHash(CONFIGURATION), textHash(CONFIGURATION.replace("ttl: 1", "ttl: 2")));
});
