import assert from "node:assert/strict";
import { joolVersion } from "./header.ts";
import {
  kernelAdvertises,
  kernelHonoursFlushAsap,
  kernelUsesMaxPayload,
} from "./kernel_behaviour.ts";

Deno.test("kernel behaviour changes at Jool 4.1.11", () => {
  const table: [number, boolean][] = [
    [joolVersion(4, 1, 0), false],
    [joolVersion(4, 1, 9), false],
    [joolVersion(4, 1, 10, 5), false],
    [joolVersion(4, 1, 11), true],
    [joolVersion(4, 1, 14), true],
  ];
  for (const [version, fixed] of table) {
    assert.equal(kernelAdvertises(version), fixed, `${version}`);
    assert.equal(kernelUsesMaxPayload(version), !fixed, `${version}`);
  }
});

Deno.test("ss-flush-asap sends partial batches up to Jool 4.1.12 only", () => {
  const table: [number, boolean][] = [
    [joolVersion(4, 1, 9), true],
    [joolVersion(4, 1, 12, 9), true],
    [joolVersion(4, 1, 13), false],
    [joolVersion(4, 1, 15), false],
  ];
  for (const [version, honoured] of table) {
    assert.equal(kernelHonoursFlushAsap(version), honoured, `${version}`);
  }
});
