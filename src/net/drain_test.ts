import assert from "node:assert/strict";
import { drain, MAX_DATAGRAMS_PER_WAKE } from "./drain.ts";

Deno.test("drain() stops when a read says so", () => {
  let reads = 0;
  drain(() => ++reads < 3);
  assert.equal(reads, 3);
});

Deno.test("drain() yields after MAX_DATAGRAMS_PER_WAKE reads", () => {
  let reads = 0;
  drain(() => {
    reads++;
    return true;
  });
  assert.equal(reads, MAX_DATAGRAMS_PER_WAKE);
});
