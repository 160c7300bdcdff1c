import assert from "node:assert/strict";
import { joolVersion } from "../jool/header.ts";
import { LevelLogger } from "../log.ts";
import { SyncCounters } from "../stats/counters.ts";
import { FakeJool, fakeJoolLink } from "../../tests/support/fake_jool.ts";
import { ManualClock } from "../../tests/support/manual_clock.ts";
import { settle } from "../../tests/support/sync_harness.ts";
import { KernelWatchdog, MAX_FAILED_PROBES, WATCHDOG_INTERVAL_MS } from "./kernel_watchdog.ts";

async function watched(version = joolVersion(4, 1, 15)) {
  const logs: string[] = [];
  const logger = new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`));
  const jool = new FakeJool({ version });
  const link = await fakeJoolLink(jool, { logger, counters: new SyncCounters() });
  const clock = new ManualClock();
  const fatal: string[] = [];
  let enabled = 0;
  const watchdog = new KernelWatchdog({
    kernel: link,
    clock,
    logger,
    enableSync: () => {
      enabled++;
      jool.ssEnabled = true;
      return Promise.resolve();
    },
    fatal: (reason) => fatal.push(reason),
  });
  watchdog.start();
  logs.length = 0;
  /** One interval, and the probe it set off. */
  const tick = async () => {
    clock.advance(WATCHDOG_INTERVAL_MS);
    for (let i = 0; i < 5; i++) await settle();
  };
  return { jool, watchdog, tick, fatal, logs, enabled: () => enabled };
}

Deno.test("watchdog: a healthy instance is probed every interval and nothing happens", async () => {
  const { jool, tick, fatal, logs } = await watched();
  const before = jool.commands().length;
  await tick();
  await tick();
  assert.equal(jool.commands().length, before + 2, "one probe per interval");
  assert.deepEqual(fatal, []);
  assert.deepEqual(logs, []);
});

Deno.test("watchdog: the module unloaded is fatal at the next probe", async () => {
  const { jool, tick, fatal } = await watched();
  jool.unloaded = true;
  await tick();
  assert.deepEqual(fatal, [
    "The Jool kernel module went away (its Generic Netlink family is gone: unloaded?)",
  ]);
});

Deno.test("watchdog: the instance removed is fatal at the next probe, naming it", async () => {
  const { jool, tick, fatal } = await watched(joolVersion(4, 1, 9));
  jool.instanceExists = false;
  await tick();
  assert.equal(fatal.length, 1);
  assert.match(
    fatal[0],
    /^The Jool instance 'default' is gone or refuses sync: .*lacks an instance named 'default'/,
  );
});

Deno.test("watchdog: session sync turned off is turned on again", async () => {
  const { jool, tick, fatal, logs, enabled } = await watched();
  jool.ssEnabled = false;
  await tick();
  assert.equal(enabled(), 1);
  assert.equal(jool.ssEnabled, true);
  assert.deepEqual(fatal, []);
  assert.deepEqual(logs, ["warning: Session sync was turned off on instance 'default'"]);
});

Deno.test("watchdog: other failures are fatal only after several in a row", async () => {
  const { jool, tick, fatal, logs } = await watched();
  jool.kernel.sendFailure = new Error("sendto(netlink) failed: EPERM (Operation not permitted)");
  for (let i = 1; i < MAX_FAILED_PROBES; i++) await tick();
  assert.deepEqual(fatal, []);
  assert.equal(logs.length, MAX_FAILED_PROBES - 1);
  await tick();
  assert.equal(fatal.length, 1);
  assert.match(fatal[0], /^The kernel failed 3 instance probes in a row: /);
});

Deno.test("watchdog: a probe under way when it stops ends without a failure logged", async () => {
  const logs: string[] = [];
  const fatal: string[] = [];
  let reject: (error: Error) => void = () => {};
  const kernel = {
    instance: "default",
    probe: () => new Promise<void>((_, no) => reject = no),
  } as unknown as ConstructorParameters<typeof KernelWatchdog>[0]["kernel"];
  const clock = new ManualClock();
  const watchdog = new KernelWatchdog({
    kernel,
    clock,
    logger: new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`)),
    enableSync: () => Promise.resolve(),
    fatal: (reason) => fatal.push(reason),
  });
  watchdog.start();
  clock.advance(WATCHDOG_INTERVAL_MS);
  await settle();
  watchdog.stop();
  reject(new Error("Kernel link closed"));
  for (let i = 0; i < 5; i++) await settle();
  assert.deepEqual(logs, []);
  assert.deepEqual(fatal, []);
});
