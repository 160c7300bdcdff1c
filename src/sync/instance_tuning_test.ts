import assert from "node:assert/strict";
import { defaultModsocketConfig, type ModsocketConfig } from "../config/modsocket.ts";
import { joolVersion } from "../jool/header.ts";
import { GlobalAttribute } from "../jool/protocol.ts";
import { instanceTunings } from "./instance_tuning.ts";

const DEFAULTS = defaultModsocketConfig().config;
const { JOOLD_MAX_PAYLOAD, JOOLD_CAPACITY } = GlobalAttribute;

Deno.test("instanceTunings(): which global is raised to what, per Jool version and modsocket", () => {
  const cases: {
    name: string;
    modsocket?: Partial<ModsocketConfig>;
    version: number | null;
    want: [number, number][];
  }[] = [
    {
      name: "4.1.9: ss-max-payload",
      version: joolVersion(4, 1, 9),
      want: [[JOOLD_MAX_PAYLOAD, 32768]],
    },
    {
      name: "4.1.10: ss-max-payload",
      version: joolVersion(4, 1, 10),
      want: [[JOOLD_MAX_PAYLOAD, 32768]],
    },
    {
      name: "4.1.11: ss-capacity",
      version: joolVersion(4, 1, 11),
      want: [[JOOLD_CAPACITY, 16384]],
    },
    {
      name: "4.1.13: ss-capacity",
      version: joolVersion(4, 1, 13),
      want: [[JOOLD_CAPACITY, 16384]],
    },
    {
      name: "4.1.15: ss-capacity",
      version: joolVersion(4, 1, 15),
      want: [[JOOLD_CAPACITY, 16384]],
    },
    {
      name: "unknown version: both (each a no-op on the other's versions)",
      version: null,
      want: [[JOOLD_MAX_PAYLOAD, 32768], [JOOLD_CAPACITY, 16384]],
    },
    {
      name: "the modsocket's values",
      modsocket: { ssMaxPayload: 16384, ssCapacity: 4096 },
      version: null,
      want: [[JOOLD_MAX_PAYLOAD, 16384], [JOOLD_CAPACITY, 4096]],
    },
    {
      name: '"ss capacity": false on 4.1.15: nothing',
      modsocket: { ssCapacity: null },
      version: joolVersion(4, 1, 15),
      want: [],
    },
    {
      name: '"ss max payload": false on 4.1.9: nothing',
      modsocket: { ssMaxPayload: null },
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
