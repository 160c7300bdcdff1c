import assert from "node:assert/strict";
import { isJournalStream, journalStreamOf, stderrStyle } from "./stderr_sink.ts";

Deno.test("JOURNAL_STREAM is read from the environment block", () => {
  assert.equal(journalStreamOf("HOME=/root\0JOURNAL_STREAM=8:41326\0LANG=C\0"), "8:41326");
  assert.equal(journalStreamOf("HOME=/root\0"), null);
  assert.equal(journalStreamOf(""), null);
});

Deno.test("journald only when JOURNAL_STREAM names stderr's own device and inode", () => {
  const stderr = () => ({ dev: 8n, ino: 41326n });
  assert.equal(isJournalStream("8:41326", stderr), true);
  assert.equal(isJournalStream(null, stderr), false, "not a service of systemd");
  // A child of the service with its stderr redirected to a pipe or a file.
  assert.equal(isJournalStream("8:41327", stderr), false);
  assert.equal(isJournalStream("9:41326", stderr), false);
  assert.equal(isJournalStream("garbage", stderr), false);
  const large = () => ({ dev: 2n ** 40n, ino: 2n ** 63n });
  assert.equal(isJournalStream(`${2n ** 40n}:${2n ** 63n}`, large), true, "64-bit numbers");
});

Deno.test("the priority prefix under journald; elsewhere the time for the long-running", () => {
  assert.equal(stderrStyle(true, true), "journal");
  assert.equal(stderrStyle(true, false), "journal");
  assert.equal(stderrStyle(false, true), "timestamp");
  assert.equal(stderrStyle(false, false), "plain");
});
