/** sockaddr_un as `$NOTIFY_SOCKET` names it: a path, or an abstract name after `@`. */

import assert from "node:assert/strict";
import { sockaddrUn } from "./sockaddr.ts";

Deno.test("sockaddrUn(): a path with its NUL, an abstract name with a leading NUL and no end", () => {
  const family = [1, 0]; // sun_family AF_UNIX, little-endian
  assert.deepEqual(
    sockaddrUn("/run/n"),
    Uint8Array.from([...family, ...new TextEncoder().encode("/run/n"), 0]),
  );
  assert.deepEqual(
    sockaddrUn("@sd"),
    Uint8Array.from([...family, 0, ..."sd".split("").map((c) => c.charCodeAt(0))]),
  );
  for (const bad of ["", "@", "/a\0b", `/${"x".repeat(107)}`]) {
    assert.throws(() => sockaddrUn(bad), RangeError, JSON.stringify(bad));
  }
  assert.equal(sockaddrUn(`/${"x".repeat(106)}`).length, 2 + 108, "a path that fills sun_path");
});
