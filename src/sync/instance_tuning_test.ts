import assert from "node:assert/strict";
import { defaultModsocketConfig, type ModsocketConfig } from "../config/modsocket.ts";
import { joolVersion } from "../jool/header.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import {
  alreadyTuned,
  flushNudgeDelayMs,
  instanceTunings,
  tunedValueText,
} from "./instance_tuning.ts";

const DEFAULTS = defaultModsocketConfig().config;
const { JOOLD_MAX_PAYLOAD, JOOLD_CAPACITY, JOOLD_FLUSH_ASAP, JOOLD_FLUSH_DEADLINE } =
  GlobalAttribute;

Deno.test("instanceTunings(): which global is raised to what, per Jool version and modsocket", () => {
  const cases: {
    name: string;
    modsocket?: Partial<ModsocketConfig>;
    version: number | null;
    want: [number, number][];
  }[] = [
    {
      name: "4.1.9: ss-max-payload, ss-flush-asap on",
      version: joolVersion(4, 1, 9),
      want: [[JOOLD_MAX_PAYLOAD, 32768], [JOOLD_FLUSH_ASAP, 1]],
    },
    {
      name: "4.1.10: ss-max-payload, ss-flush-asap on",
      version: joolVersion(4, 1, 10),
      want: [[JOOLD_MAX_PAYLOAD, 32768], [JOOLD_FLUSH_ASAP, 1]],
    },
    {
      name: "4.1.11: ss-capacity, ss-flush-asap on",
      version: joolVersion(4, 1, 11),
      want: [[JOOLD_CAPACITY, 16384], [JOOLD_FLUSH_ASAP, 1]],
    },
    {
      name: "4.1.12: ss-capacity, ss-flush-asap on",
      version: joolVersion(4, 1, 12),
      want: [[JOOLD_CAPACITY, 16384], [JOOLD_FLUSH_ASAP, 1]],
    },
    {
      name: "4.1.13: ss-capacity, ss-flush-deadline lowered",
      version: joolVersion(4, 1, 13),
      want: [[JOOLD_CAPACITY, 16384], [JOOLD_FLUSH_DEADLINE, 20]],
    },
    {
      name: "4.1.15: ss-capacity, ss-flush-deadline lowered",
      version: joolVersion(4, 1, 15),
      want: [[JOOLD_CAPACITY, 16384], [JOOLD_FLUSH_DEADLINE, 20]],
    },
    {
      name: "unknown version: all (each a no-op on the others' versions)",
      version: null,
      want: [
        [JOOLD_MAX_PAYLOAD, 32768],
        [JOOLD_CAPACITY, 16384],
        [JOOLD_FLUSH_ASAP, 1],
        [JOOLD_FLUSH_DEADLINE, 20],
      ],
    },
    {
      name: "the modsocket's values",
      modsocket: { ssMaxPayload: 16384, ssCapacity: 4096, ssFlushDeadline: 50 },
      version: null,
      want: [
        [JOOLD_MAX_PAYLOAD, 16384],
        [JOOLD_CAPACITY, 4096],
        [JOOLD_FLUSH_ASAP, 1],
        [JOOLD_FLUSH_DEADLINE, 50],
      ],
    },
    {
      name: '"ss capacity" and "ss flush deadline": false on 4.1.15: nothing',
      modsocket: { ssCapacity: null, ssFlushDeadline: null },
      version: joolVersion(4, 1, 15),
      want: [],
    },
    {
      name: '"ss max payload" and "ss flush asap": false on 4.1.9: nothing',
      modsocket: { ssMaxPayload: null, ssFlushAsap: false },
      version: joolVersion(4, 1, 9),
      want: [],
    },
  ];
  for (const c of cases) {
    const tunings = instanceTunings({ ...DEFAULTS, ...c.modsocket }, c.version);
    assert.deepEqual(tunings.map((t) => [t.type, t.wanted]), c.want, c.name);
  }
});

Deno.test("instanceTunings(): each names its global, unit and modsocket key for the log", () => {
  const [payload, capacity] = instanceTunings(DEFAULTS, null);
  assert.deepEqual(
    [payload.name, payload.unit, payload.key],
    ["ss-max-payload", "bytes", "ss max payload"],
  );
  assert.deepEqual([capacity.name, capacity.unit, capacity.key], [
    "ss-capacity",
    "sessions",
    "ss capacity",
  ]);
});

Deno.test("instanceTunings(): the flush globals, their direction and how their values read", () => {
  const [, , asap, deadline] = instanceTunings(DEFAULTS, null);
  assert.deepEqual(
    [asap.name, asap.key, asap.direction, deadline.name, deadline.key, deadline.direction],
    ["ss-flush-asap", "ss flush asap", "raise", "ss-flush-deadline", "ss flush deadline", "lower"],
  );
  assert.deepEqual([tunedValueText(asap, 0), tunedValueText(asap, 1)], ["off", "on"]);
  assert.equal(tunedValueText(deadline, 2000), "2000");
  // A deadline already at or below the wanted one is the operator's choice.
  assert.deepEqual([2000, 21, 20, 5].map((value) => alreadyTuned(deadline, value)), [
    false,
    false,
    true,
    true,
  ]);
  assert.deepEqual([0, 1].map((value) => alreadyTuned(asap, value)), [false, true]);
});

Deno.test("flushNudgeDelayMs(): from 4.1.13 on, the deadline plus a margin; else never", () => {
  const cases: [string, Partial<ModsocketConfig>, number | null, number | null][] = [
    ["4.1.9", {}, joolVersion(4, 1, 9), null],
    ["4.1.12", {}, joolVersion(4, 1, 12), null],
    ["4.1.13", {}, joolVersion(4, 1, 13), 50],
    ["4.1.15, 100 ms", { ssFlushDeadline: 100 }, joolVersion(4, 1, 15), 130],
    ["unknown version", {}, null, 50],
    ['"ss flush deadline": false', { ssFlushDeadline: null }, joolVersion(4, 1, 15), null],
  ];
  for (const [name, modsocket, version, want] of cases) {
    assert.equal(flushNudgeDelayMs({ ...DEFAULTS, ...modsocket }, version), want, name);
  }
});
