import assert from "node:assert/strict";
import { SyscallError } from "./errors.ts";
import { Libc } from "./libc.ts";
import { monotonicMicroseconds, processExists } from "./process.ts";

Deno.test("processExists(): ourselves yes, a process that has exited no, pid 0 refused", async () => {
  const libc = Libc.open();
  try {
    assert.equal(processExists(libc, Deno.pid), true);
    const child = new Deno.Command("true").spawn();
    await child.status;
    assert.equal(processExists(libc, child.pid), false);
    assert.throws(() => processExists(libc, 0), SyscallError);
    assert.throws(() => processExists(libc, -1), SyscallError);
  } finally {
    libc.close();
  }
});

Deno.test("monotonicMicroseconds(): CLOCK_MONOTONIC, moving on with performance.now()", async () => {
  const libc = Libc.open();
  try {
    const before = monotonicMicroseconds(libc);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = monotonicMicroseconds(libc);
    const elapsedUs = Number(after - before);
    const measuredUs = (performance.now() - started) * 1000;
    assert.ok(elapsedUs >= 19_000, `${elapsedUs} us`);
    assert.ok(Math.abs(elapsedUs - measuredUs) < 5_000, `${elapsedUs} us against ${measuredUs}`);
    // /proc/uptime counts from boot on the same clock, to the hundredth of a second (plus suspend).
    const uptimeS = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
    assert.ok(Number(after) / 1e6 <= uptimeS + 1, `${after} us since boot, uptime ${uptimeS} s`);
  } finally {
    libc.close();
  }
});
