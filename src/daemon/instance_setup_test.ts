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
import { failingSetNow, syncHarness } from "../../tests/support/sync_harness.ts";
import { withStateDirectory } from "../../tests/support/state_directory.ts";
import { InstanceSetup } from "./instance_setup.ts";
import { stateFileName, TuningStateFile } from "./tuning_state.ts";

/** The queue's globals alone: the flush globals have tests of their own below. */
const MODSOCKET: ModsocketConfig = {
  ...defaultModsocketConfig().config,
  file: "/etc/joold/modsocket.json",
  ssFlushAsap: false,
  ssFlushDeadline: null,
};
/** The defaults: every global the daemon changes. */
const DEFAULT_MODSOCKET: ModsocketConfig = {
  ...defaultModsocketConfig().config,
  file: "/etc/joold/modsocket.json",
};
const { JOOLD_CAPACITY, JOOLD_FLUSH_ASAP, JOOLD_FLUSH_DEADLINE, JOOLD_MAX_PAYLOAD } =
  GlobalAttribute;
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

/** The queue's global a Jool of `version` gets raised, with its default and raised values. */
const QUEUE_GLOBALS = [
  {
    version: joolVersion(4, 1, 9),
    type: JOOLD_MAX_PAYLOAD,
    name: "ss-max-payload",
    low: 1452,
    high: 32768,
  },
  {
    version: joolVersion(4, 1, 15),
    type: JOOLD_CAPACITY,
    name: "ss-capacity",
    low: 512,
    high: 16384,
  },
];

const NETNS = "net:[4026531840]";

Deno.test("state file: after a SIGKILL the next start puts the operator's value back at stop", async () => {
  for (const { version, type, name, low, high } of QUEUE_GLOBALS) {
    await withStateDirectory(async (directory) => {
      const { jool, link, logger, logs } = await syncHarness({ version });
      const store = new TuningStateFile(directory, "default", NETNS);
      const killed = new InstanceSetup(link, MODSOCKET, logger, store);
      await killed.tune(version);
      assert.equal(jool.globals.get(type), high, name);
      const recorded = JSON.parse(await Deno.readTextFile(store.path));
      assert.deepEqual(recorded.globals, { [name]: { type, original: low, raised: high } }, name);
      // SIGKILL: no restore(). The kernel keeps the raised value; the next daemon starts.
      logs.length = 0;
      const next = new InstanceSetup(link, MODSOCKET, logger, store);
      await next.tune(version);
      assert.deepEqual(logs, [
        `info: ${name} is ${high}, set by a joold that did not stop cleanly; the operator's ` +
        `${low} from ${store.path} goes back at exit`,
      ], name);
      next.restore();
      assert.equal(jool.globals.get(type), low, `${name}: the operator's value is back`);
      assert.equal(logs[1], `info: Put ${name} back to ${low}`);
      await assert.rejects(
        Deno.stat(store.path),
        Deno.errors.NotFound,
        "removed after a clean stop",
      );
    });
  }
});

Deno.test("state file: a value the operator changed after the SIGKILL is theirs", async () => {
  await withStateDirectory(async (directory) => {
    const { jool, link, logger, logs } = await syncHarness({ version: joolVersion(4, 1, 15) });
    const store = new TuningStateFile(directory, "default", NETNS);
    await new InstanceSetup(link, MODSOCKET, logger, store).tune(joolVersion(4, 1, 15));
    jool.globals.set(JOOLD_CAPACITY, 1000); // `jool global update ss-capacity 1000`
    logs.length = 0;
    const next = new InstanceSetup(link, MODSOCKET, logger, store);
    await next.tune(joolVersion(4, 1, 15));
    next.restore();
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 1000);
    assert.match(logs[0], /^info: ss-capacity is 1000, not the 16384 .*: the operator changed it/);
    assert.match(logs[1], /^info: Raised ss-capacity from 1000 to 16384 .* back to 1000 at exit/);
  });
});

Deno.test("state file: a corrupt one is named and ignored, then replaced", async () => {
  const cases: { name: string; text: string; detail: string }[] = [
    { name: "not JSON", text: "{ss-capacity: 512", detail: "not JSON (" },
    {
      name: "another instance's",
      text: '{"version":1,"instance":"x","globals":{}}',
      detail: `it is for instance "x", not 'default'`,
    },
    {
      name: "an entry without numbers",
      text: '{"version":1,"instance":"default","globals":{"ss-capacity":{"type":1}}}',
      detail: '"globals"."ss-capacity" needs "type", "original", "raised"',
    },
  ];
  for (const c of cases) {
    await withStateDirectory(async (directory) => {
      const { jool, link, logger, logs } = await syncHarness({ version: joolVersion(4, 1, 15) });
      const store = new TuningStateFile(directory, "default", NETNS);
      await Deno.writeTextFile(store.path, c.text);
      const setup = new InstanceSetup(link, MODSOCKET, logger, store);
      await setup.tune(joolVersion(4, 1, 15));
      assert.ok(
        logs[0].startsWith(`warning: State file ${store.path} is unusable: ${c.detail}`),
        `${c.name}: ${logs[0]}`,
      );
      assert.match(
        logs[0],
        /; ignoring it: the values the instance shows now count as the operator's$/,
      );
      assert.equal(logs[1], RAISED_CAPACITY, c.name);
      assert.equal(
        JSON.parse(await Deno.readTextFile(store.path)).globals["ss-capacity"].original,
        512,
      );
      setup.restore();
      assert.equal(jool.globals.get(JOOLD_CAPACITY), 512, c.name);
    });
  }
});

Deno.test("state file: one per instance and network namespace; each daemon puts back its own", async () => {
  await withStateDirectory(async (directory) => {
    const version = joolVersion(4, 1, 15);
    const nodes = [
      { instance: "default", netns: "net:[4026531840]" },
      { instance: "default", netns: "net:[4026532000]" },
      { instance: "other", netns: "net:[4026531840]" },
    ];
    const running = [];
    for (const node of nodes) {
      // One Jool per namespace; "other" shares the first namespace's module in life, not here.
      const harness = await syncHarness({
        version,
        daemonInstance: node.instance,
        instance: node.instance,
      });
      const store = new TuningStateFile(directory, node.instance, node.netns);
      const setup = new InstanceSetup(
        harness.link,
        { ...MODSOCKET, instance: node.instance },
        harness.logger,
        store,
      );
      await setup.tune(version);
      running.push({ ...harness, store, setup });
    }
    const files = [];
    for await (const entry of Deno.readDir(directory)) files.push(entry.name);
    assert.deepEqual(files.sort(), [
      "default.net-4026531840.json",
      "default.net-4026532000.json",
      "other.net-4026531840.json",
    ]);
    // The first is killed; the others stop cleanly: only the first's file stays.
    running[1].setup.restore();
    running[2].setup.restore();
    assert.deepEqual([...Deno.readDirSync(directory)].map((entry) => entry.name), [
      "default.net-4026531840.json",
    ]);
    assert.equal(running[0].jool.globals.get(JOOLD_CAPACITY), 16384);
    const restarted = new InstanceSetup(
      running[0].link,
      MODSOCKET,
      running[0].logger,
      running[0].store,
    );
    await restarted.tune(version);
    restarted.restore();
    assert.equal(running[0].jool.globals.get(JOOLD_CAPACITY), 512);
  });
});

Deno.test("state file: a directory it cannot write is said once; the globals are raised and put back anyway", async () => {
  await withStateDirectory(async (directory) => {
    await Deno.writeTextFile(`${directory}/file`, "");
    const { jool, link, logger, logs } = await syncHarness({ version: joolVersion(4, 1, 15) });
    // A directory under a file: it can be neither made nor written.
    const store = new TuningStateFile(`${directory}/file/joold`, "default", NETNS);
    const setup = new InstanceSetup(link, MODSOCKET, logger, store);
    await setup.tune(null);
    assert.equal(logs.filter((line) => line.includes("state file")).length, 1, logs.join("\n"));
    assert.match(
      logs[0],
      new RegExp(
        `^warning: Cannot write the state file ${directory}/file/joold/default\\.net-4026531840\\.json: .*; ` +
          "changed globals go back at a clean stop, but after a SIGKILL the next start cannot put them back$",
      ),
    );
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 16384);
    setup.restore();
    assert.equal(jool.globals.get(JOOLD_CAPACITY), 512);
  });
});

Deno.test("stateFileName(): the instance percent-encoded, the namespace's inode", () => {
  assert.equal(stateFileName("default", "net:[4026531840]"), "default.net-4026531840.json");
  assert.equal(stateFileName("../x y", null), "..%2Fx%20y.net-unknown.json");
});

const LOWERED_DEADLINE =
  "info: Lowered ss-flush-deadline from 2000 to 20 ms, so that a new session waits at most " +
  "that long in the kernel before it reaches the peers; it goes back to 2000 at exit (set " +
  `"ss flush deadline": false in ${DEFAULT_MODSOCKET.file} to prevent this)`;
const ASAP_ON =
  "info: Turned ss-flush-asap on, so that a new session leaves the kernel as soon as the last " +
  `batch is ACKed; it goes back to off at exit (set "ss flush asap": false in ` +
  `${DEFAULT_MODSOCKET.file} to prevent this)`;

Deno.test("tune() and restore(): the flush globals per Jool version, the opt-outs, put back at exit", async () => {
  type Case = {
    name: string;
    version: number;
    modsocket?: Partial<ModsocketConfig>;
    /** The flush globals before tune(), if not Jool's defaults. */
    globals?: [number, number][];
    /** ss-flush-asap and ss-flush-deadline after tune(), then after restore(). */
    tuned: [number, number];
    restored: [number, number];
    /** The log lines about the flush globals. */
    logs: string[];
  };
  const cases: Case[] = [
    {
      name: "4.1.9, ss-flush-asap on (Jool's default): left alone",
      version: joolVersion(4, 1, 9),
      tuned: [1, 2000],
      restored: [1, 2000],
      logs: ["info: ss-flush-asap is on already"],
    },
    {
      name: "4.1.9, ss-flush-asap off: turned on, and off again at exit",
      version: joolVersion(4, 1, 9),
      globals: [[JOOLD_FLUSH_ASAP, 0]],
      tuned: [1, 2000],
      restored: [0, 2000],
      logs: [ASAP_ON, "info: Put ss-flush-asap back to off"],
    },
    {
      name: '4.1.9, ss-flush-asap off, "ss flush asap": false: left alone',
      version: joolVersion(4, 1, 9),
      modsocket: { ssFlushAsap: false },
      globals: [[JOOLD_FLUSH_ASAP, 0]],
      tuned: [0, 2000],
      restored: [0, 2000],
      logs: [],
    },
    {
      name: "4.1.13: ss-flush-deadline lowered, and put back at exit",
      version: joolVersion(4, 1, 13),
      tuned: [1, 20],
      restored: [1, 2000],
      logs: [LOWERED_DEADLINE, "info: Put ss-flush-deadline back to 2000"],
    },
    {
      name: "4.1.15: ss-flush-deadline lowered, and put back at exit",
      version: joolVersion(4, 1, 15),
      tuned: [1, 20],
      restored: [1, 2000],
      logs: [LOWERED_DEADLINE, "info: Put ss-flush-deadline back to 2000"],
    },
    {
      name: "4.1.15, the operator's deadline already lower: left alone",
      version: joolVersion(4, 1, 15),
      globals: [[JOOLD_FLUSH_DEADLINE, 15]],
      tuned: [1, 15],
      restored: [1, 15],
      logs: ["info: ss-flush-deadline is 15 ms already"],
    },
    {
      name: '4.1.15, "ss flush deadline": false: left alone',
      version: joolVersion(4, 1, 15),
      modsocket: { ssFlushDeadline: null },
      tuned: [1, 2000],
      restored: [1, 2000],
      logs: [],
    },
  ];
  const FLUSH = [JOOLD_FLUSH_ASAP, JOOLD_FLUSH_DEADLINE];
  for (const c of cases) {
    const { jool, link, logger, logs } = await syncHarness({ version: c.version });
    for (const [type, value] of c.globals ?? []) jool.globals.set(type, value);
    const modsocket = { ...DEFAULT_MODSOCKET, ...c.modsocket };
    const setup = new InstanceSetup(link, modsocket, logger);
    await setup.tune(c.version);
    assert.deepEqual(FLUSH.map((type) => jool.globals.get(type)), c.tuned, c.name);
    setup.restore();
    assert.deepEqual(FLUSH.map((type) => jool.globals.get(type)), c.restored, c.name);
    const flushLogs = logs.filter((line) => /ss-flush/.test(line));
    assert.deepEqual(flushLogs, c.logs, c.name);
  }
});

Deno.test("state file: a deadline lowered by a killed daemon goes back to the operator's at the next stop", async () => {
  await withStateDirectory(async (directory) => {
    const version = joolVersion(4, 1, 15);
    const { jool, link, logger, logs } = await syncHarness({ version });
    jool.globals.set(JOOLD_FLUSH_DEADLINE, 500);
    const store = new TuningStateFile(directory, "default", NETNS);
    await new InstanceSetup(link, DEFAULT_MODSOCKET, logger, store).tune(version);
    assert.equal(jool.globals.get(JOOLD_FLUSH_DEADLINE), 20);
    const recorded = JSON.parse(await Deno.readTextFile(store.path));
    assert.deepEqual(recorded.globals["ss-flush-deadline"], {
      type: JOOLD_FLUSH_DEADLINE,
      original: 500,
      raised: 20,
    });
    // SIGKILL: no restore(). The next daemon finds 20 and knows it is not the operator's.
    logs.length = 0;
    const next = new InstanceSetup(link, DEFAULT_MODSOCKET, logger, store);
    await next.tune(version);
    assert.ok(
      logs.includes(
        "info: ss-flush-deadline is 20, set by a joold that did not stop cleanly; the " +
          `operator's 500 from ${store.path} goes back at exit`,
      ),
      logs.join("\n"),
    );
    next.restore();
    assert.equal(jool.globals.get(JOOLD_FLUSH_DEADLINE), 500, "the operator's value is back");
  });
});

Deno.test("restore(): a global that cannot go back is one warning line saying how to put it back", async () => {
  const version = joolVersion(4, 1, 15);
  const { link, logger, logs } = await syncHarness({ version });
  const failing = failingSetNow(link, "sendto: Bad file descriptor (EBADF)");
  const setup = new InstanceSetup(failing, { ...MODSOCKET, instance: "nat64 a" }, logger);
  await setup.tune(version);
  logs.length = 0;
  setup.restore();
  assert.deepEqual(logs, [
    "warning: Cannot put ss-capacity back to 512: sendto: Bad file descriptor (EBADF); put it " +
    "back with `jool -i 'nat64 a' global update ss-capacity 512`",
  ]);
});
