import assert from "node:assert/strict";
import { joolVersion } from "./header.ts";
import { kernelAdvertises, kernelUsesMaxPayload } from "./kernel_behaviour.ts";

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
