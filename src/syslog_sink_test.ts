import assert from "node:assert/strict";
import { LevelLogger } from "./log.ts";
import { syslogSink, type SyslogWriter } from "./syslog_sink.ts";

function recorder(): { writer: SyslogWriter; records: Array<[number, string]> } {
  const records: Array<[number, string]> = [];
  return { writer: { log: (severity, message) => records.push([severity, message]) }, records };
}

Deno.test("syslogSink: one record per line at the level's syslog severity", () => {
  const { writer, records } = recorder();
  const logger = new LevelLogger("debug", syslogSink(writer));
  logger.error("kernel said: no\nsecond line");
  logger.warning("100% sure %s %n");
  logger.info("started");
  logger.debug("details");
  assert.deepEqual(records, [
    [3, "error: kernel said: no second line"],
    [4, "warning: 100% sure %s %n"],
    [6, "info: started"],
    [7, "debug: details"],
  ]);
});

Deno.test("syslogSink: the logger's threshold still applies", () => {
  const { writer, records } = recorder();
  const logger = new LevelLogger("warning", syslogSink(writer));
  logger.info("dropped");
  logger.debug("dropped");
  logger.warning("kept");
  assert.deepEqual(records, [[4, "warning: kept"]]);
});
