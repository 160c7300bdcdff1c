/**
 * The instance setup against a fake Jool of each version: session sync
 * turned on or left alone, the queue's globals raised and put back.
 */

import assert from "node:assert/strict";
import { defaultModsocketConfig, type ModsocketConfig } from "../config/modsocket.ts";
import { joolVersion } from "../jool/header.ts";
import { GlobalAttribute, JoolOperation } from "../jool/protocol.ts";
import { KernelRefusalError } from "../sync/kernel_errors.ts";
import { SS_DISABLED_TEXT } from "../../tests/support/fake_jool.ts";
import { syncHarness } from "../../tests/support/sync_harness.ts";
import { InstanceSetup } from "./instance_setup.ts";

const MODSOCKET: ModsocketConfig = {
  ...defaultModsocketConfig().config,
  file: "/etc/joold/modsocket.json",
};
const { JOOLD_CAPACITY, JOOLD_MAX_PAYLOAD } = GlobalAttribute;
const PAYLOAD_REASON = "bursts of sessions wait in the kernel instead of being dropped";
const CAPACITY_REASON = "bursts of sessions wait in the kernel's queue instead of being dropped";
const RAISED_PAYLOAD =
  `info: Raised ss-max-payload from 1452 to 32768 bytes, so that ${PAYLOAD_REASON}; it goes ` +
  `back to 1452 at exit (set "ss max payload": false in ${MODSOCKET.file} to prevent this)`;
const RAISED_CAPACITY =
  `info: Raised ss-capacity from 512 to 16384 sessions, so that ${CAPACITY_REASON}; it goes ` +
  `back to 512 at exit (set "ss capacity": false in ${MODSOCKET.file} to prevent this)`;

Deno.test("tune() and restore(): which global is raised and put back, per Jool version", async () => {
  type Case = {
    name: string;
    /** The module's version, and what the daemon read of it at start. */
    version: number;
    moduleVersion?: number | null;
    globals?: [number, number][];
    refuseUpdates?: boolean;
    /** The globals after tune(), then after restore(). */
    raised: [number, number][];
    restored: [number, number][];
    logs: string[];
  };
  const DEFAULTS: [number, number][] = [[JOOLD_CAPACITY, 512], [JOOLD_MAX_PAYLOAD, 1452]];
  /** Jool 4.1.`revision` (up to 10) queues a batch of ss-max-payload bytes. */
  const maxPayloadRaised = (revision: number): Case => ({
    name: `4.1.${revision}: ss-max-payload`,
    version: joolVersion(4, 1, revision),
    raised: [[JOOLD_CAPACITY, 512], [JOOLD_MAX_PAYLOAD, 32768]],
    restored: DEFAULTS,
    logs: [RAISED_PAYLOAD, "info: Put ss-max-payload back to 1452"],
  });
  /** Jool 4.1.`revision` (11 and later) queues ss-capacity sessions. */
  const capacityRaised = (revision: number): Case => ({
    name: `4.1.${revision}: ss-capacity`,
    version: joolVersion(4, 1, revision),
    raised: [[JOOLD_CAPACITY, 16384], [JOOLD_MAX_PAYLOAD, 1452]],
    restored: DEFAULTS,
    logs: [RAISED_CAPACITY, "info: Put ss-capacity back to 512"],
  });
  const cases: Case[] = [
    maxPayloadRaised(9),
    maxPayloadRaised(10),
    capacityRaised(11),
    capacityRaised(13),
    capacityRaised(15),
    {
      name: "version unknown (a 4.1.15): both",
      version: joolVersion(4, 1, 15),
      moduleVersion: null,
      raised: [[JOOLD_CAPACITY, 16384], [JOOLD_MAX_PAYLOAD, 32768]],
      restored: DEFAULTS,
      logs: [
        RAISED_PAYLOAD,
        RAISED_CAPACITY,
        "info: Put ss-max-payload back to 1452",
        "info: Put ss-capacity back to 512",
      ],
    },
    {
      name: "already large enough: left alone",
      version: joolVersion(4, 1, 13),
      globals: [[JOOLD_CAPACITY, 20000], [JOOLD_MAX_PAYLOAD, 1452]],
      raised: [[JOOLD_CAPACITY, 20000], [JOOLD_MAX_PAYLOAD, 1452]],
      restored: [[JOOLD_CAPACITY, 20000], [JOOLD_MAX_PAYLOAD, 1452]],
      logs: ["info: ss-capacity is 20000 sessions already"],
    },
    {
      name: "not reported by the kernel: left alone",
      version: joolVersion(4, 1, 13),
      globals: [[JOOLD_MAX_PAYLOAD, 1452]],
      raised: [[JOOLD_MAX_PAYLOAD, 1452]],
      restored: [[JOOLD_MAX_PAYLOAD, 1452]],
      logs: ["warning: The kernel does not report ss-capacity; leaving it alone"],
    },
    {
      name: "refused: a warning, and nothing to put back",
      version: joolVersion(4, 1, 9),
      refuseUpdates: true,
      raised: DEFAULTS,
      restored: DEFAULTS,
      logs: [
        "warning: Cannot raise ss-max-payload (sync works without it): Setting ss-max-payload " +
        "failed: the kernel said: Operation not permitted. (error 1)",
      ],
    },
  ];
  for (const c of cases) {
    const { jool, link, logger, logs } = await syncHarness({
      version: c.version,
      moduleVersion: c.moduleVersion,
      globals: c.globals === undefined ? undefined : new Map(c.globals),
    });
    if (c.refuseUpdates) jool.refuse(JoolOperation.GLOBAL_UPDATE, 1, "Operation not permitted.");
    const setup = new InstanceSetup(link, MODSOCKET, logger);
    await setup.tune(c.moduleVersion === undefined ? c.version : c.moduleVersion);
    const queueGlobals = () =>
      [JOOLD_CAPACITY, JOOLD_MAX_PAYLOAD].filter((type) => jool.globals.has(type))
        .map((type) => [type, jool.globals.get(type)]);
    assert.deepEqual(queueGlobals(), c.raised, c.name);
    setup.restore();
    assert.deepEqual(queueGlobals(), c.restored, c.name);
    assert.deepEqual(logs, c.logs, c.name);
  }
});

Deno.test("enableSync(): on is left alone, off is turned on unless the modsocket says not to", async () => {
  const probe = JoolOperation.JOOLD_ADD;
  const cases: {
    name: string;
    ssEnabled: boolean;
    enableSs: boolean;
    /** The Jool commands sent, and whether SS is on afterwards. */
    commands: number[];
    ssAfter: boolean;
    logs: string[];
  }[] = [
    {
      name: "on",
      ssEnabled: true,
      enableSs: true,
      commands: [probe],
      ssAfter: true,
      logs: ["info: Session sync is enabled on instance 'default'"],
    },
    {
      name: "off: turned on, checked again",
      ssEnabled: false,
      enableSs: true,
      commands: [probe, JoolOperation.GLOBAL_UPDATE, probe],
      ssAfter: true,
      logs: [
        "info: Session sync was disabled on instance 'default'; joold enabled it " +
        `(set "enable ss": false in ${MODSOCKET.file} to prevent this)`,
      ],
    },
    {
      name: 'off with "enable ss": false: an error line, and it stays off',
      ssEnabled: false,
      enableSs: false,
      commands: [probe],
      ssAfter: false,
      logs: [
        `error: Checking the Jool instance failed: the kernel said: ${SS_DISABLED_TEXT} ` +
        "(error 22); enable it with `jool global update ss-enabled true` " +
        `(${MODSOCKET.file} says "enable ss": false, so joold leaves it alone)`,
      ],
    },
  ];
  for (const c of cases) {
    const { jool, link, logger, logs } = await syncHarness({
      version: joolVersion(4, 1, 13),
      ssEnabled: c.ssEnabled,
    });
    await new InstanceSetup(link, { ...MODSOCKET, enableSs: c.enableSs }, logger).enableSync();
    assert.deepEqual(jool.commands(), c.commands, c.name);
    assert.equal(jool.ssEnabled, c.ssAfter, c.name);
    assert.deepEqual(logs, c.logs, c.name);
  }
});

Deno.test("enableSync(): a missing instance, or SS still off once turned on, is fatal", async () => {
  const missing = await syncHarness({ version: joolVersion(4, 1, 9), daemonInstance: "ghost" });
  await assert.rejects(
    new InstanceSetup(missing.link, { ...MODSOCKET, instance: "ghost" }, missing.logger)
      .enableSync(),
    (error: unknown) => error instanceof KernelRefusalError && error.code === 3,
  );
  const stuck = await syncHarness({ version: joolVersion(4, 1, 9), ssEnabled: false });
  stuck.jool.refuse(JoolOperation.JOOLD_ADD, 22, SS_DISABLED_TEXT); // whatever ss-enabled says
  await assert.rejects(
    new InstanceSetup(stuck.link, MODSOCKET, stuck.logger).enableSync(),
    new RegExp(SS_DISABLED_TEXT),
  );
  assert.deepEqual(stuck.logs, []);
});
