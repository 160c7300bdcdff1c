/**
 * `joold advertise` on fake machines: what it prints, the one error line
 * for each failure, and that the kernel link is always closed.
 */

import assert from "node:assert/strict";
import { fakeModsocketLoader } from "../../tests/support/fake_environment.ts";
import { LevelLogger } from "../log.ts";
import { JoolModuleMissingError, KernelRefusalError } from "../sync/kernel_errors.ts";
import { joolVersion } from "../jool/header.ts";
import { advertise, type AdvertiseOptions } from "./advertise.ts";

interface Machine {
  modsocket?: string | null;
  moduleLoaded?: boolean;
  advertiseError?: Error;
  /** The module's version; default 4.1.14 (null: unknown). */
  version?: number | null;
}

interface Run {
  code: number;
  stdout: string[];
  log: string[];
  /** Instances a kernel link was opened for. */
  opened: string[];
  closed: number;
}

async function runOn(machine: Machine, options: AdvertiseOptions): Promise<Run> {
  const run: Run = { code: -1, stdout: [], log: [], opened: [], closed: 0 };
  const logger = new LevelLogger("debug", (level, line) => run.log.push(`${level}: ${line}`));
  run.code = await advertise(
    options,
    {
      loadModsocket: fakeModsocketLoader(
        machine.modsocket === undefined ? '{ "instance": "default" }' : machine.modsocket,
      ),
      openKernel: (instance) => {
        if (machine.moduleLoaded === false) return Promise.reject(new JoolModuleMissingError());
        run.opened.push(instance);
        return Promise.resolve({
          advertise: () =>
            machine.advertiseError === undefined
              ? Promise.resolve()
              : Promise.reject(machine.advertiseError),
          close: () => {
            run.closed++;
          },
        });
      },
      moduleVersion: () =>
        Promise.resolve(machine.version === undefined ? joolVersion(4, 1, 14) : machine.version),
    },
    logger,
    (text) => run.stdout.push(text),
  );
  return run;
}

const GIVEN: AdvertiseOptions = { modsocketFile: "mod.json", modsocketDefaulted: false };
const DEFAULTED: AdvertiseOptions = { modsocketFile: "modsocket.json", modsocketDefaulted: true };
const SS_DISABLED = "Session sync is disabled on this instance.";

Deno.test("advertise: success prints what happens and exits 0", async () => {
  const run = await runOn({ modsocket: '{ "instance": "alpha", "tll": 1 }' }, GIVEN);
  assert.equal(run.code, 0);
  assert.deepEqual(run.opened, ["alpha"]);
  assert.equal(run.closed, 1);
  assert.deepEqual(run.stdout, [
    "Instance 'alpha' is advertising its session table: the kernel multicasts every session " +
    "to the joold group, and a joold running for this instance sends them to its peers.",
  ]);
  assert.deepEqual(run.log, ['warning: mod.json: unknown key "tll" ignored']);
});

Deno.test("advertise: on Jool 4.1.10 and earlier it warns that nothing was sent", async () => {
  const run = await runOn({ version: joolVersion(4, 1, 9) }, GIVEN);
  assert.equal(run.code, 0);
  assert.equal(run.closed, 1);
  assert.deepEqual(run.stdout, []);
  assert.equal(run.log.length, 1);
  assert.match(
    run.log[0],
    /^warning: Jool 4\.1\.9\.0 accepts JOOLD_ADVERTISE but sends nothing \(fixed in Jool 4\.1\.11\): no session was advertised\./,
  );
  const unknown = await runOn({ version: null }, GIVEN);
  assert.equal(unknown.stdout.length, 1, "an unknown version is assumed to advertise");
});

Deno.test("advertise: each failure is one error line and exit 1", async () => {
  const table: Array<[string, Machine, AdvertiseOptions, string]> = [
    [
      "missing module",
      { moduleLoaded: false },
      DEFAULTED,
      "error: The Jool kernel module is not loaded in this network namespace: " +
      "Generic Netlink has no 'Jool' family (try `modprobe jool`)",
    ],
    [
      "missing instance",
      {
        advertiseError: new KernelRefusalError(
          "Advertising the session table",
          2,
          "This namespace lacks an instance named 'default'.",
        ),
      },
      DEFAULTED,
      "error: Advertising the session table failed: the kernel said: " +
      "This namespace lacks an instance named 'default'. (error 2)",
    ],
    [
      "SS off, the daemon would enable it",
      { advertiseError: new KernelRefusalError("Advertising the session table", 22, SS_DISABLED) },
      DEFAULTED,
      `error: Advertising the session table failed: the kernel said: ${SS_DISABLED} (error 22); ` +
      "enable it with `jool global update ss-enabled true` or start joold, which turns it on",
    ],
    [
      "SS off, the daemon would not enable it",
      {
        modsocket: '{ "instance": "b", "enable ss": false }',
        advertiseError: new KernelRefusalError("Advertising the session table", 22, SS_DISABLED),
      },
      GIVEN,
      `error: Advertising the session table failed: the kernel said: ${SS_DISABLED} (error 22); ` +
      "enable it with `jool -i b global update ss-enabled true`",
    ],
    [
      "explicit modsocket file absent",
      { modsocket: null },
      GIVEN,
      "error: mod.json: cannot read the file: No such file or directory",
    ],
    [
      "bad modsocket file",
      { modsocket: '{ "instance": "" }' },
      GIVEN,
      'error: mod.json: "instance": must not be empty',
    ],
  ];
  for (const [name, machine, options, line] of table) {
    const run = await runOn(machine, options);
    assert.equal(run.code, 1, name);
    assert.deepEqual(run.log, [line], name);
    assert.deepEqual(run.stdout, [], name);
    assert.equal(run.closed, run.opened.length, `${name}: the kernel link is closed`);
  }
});
