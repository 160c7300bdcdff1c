import assert from "node:assert/strict";
import { SyscallError } from "./errors.ts";
import { Libc } from "./libc.ts";
import { fileIdentity, readSystemFile, readSystemLink } from "./system_files.ts";
import { O_CLOEXEC, O_RDONLY } from "./constants.ts";

Deno.test("readSystemFile(): /proc/self/status through libc, whole", () => {
  const libc = Libc.open();
  try {
    const status = readSystemFile(libc, "/proc/self/status");
    assert.match(status, /^Name:\t/);
    assert.match(status, /^CapEff:\t[0-9a-f]{16}$/m);
    assert.match(status, /\n$/, "read to its end");
  } finally {
    libc.close();
  }
});

Deno.test("readSystemFile(): stops at maxBytes; a missing file is ENOENT naming it", () => {
  const libc = Libc.open();
  try {
    assert.equal(readSystemFile(libc, "/proc/self/status", 5), "Name:");
    assert.throws(
      () => readSystemFile(libc, "/sys/module/no-such-module/version"),
      (error: unknown) =>
        error instanceof SyscallError && error.code === "ENOENT" &&
        error.message.startsWith("open(/sys/module/no-such-module/version) failed: ENOENT"),
    );
  } finally {
    libc.close();
  }
});

Deno.test("readSystemLink(): /proc/self/ns/net names the network namespace; a file is EINVAL", () => {
  const libc = Libc.open();
  try {
    assert.match(readSystemLink(libc, "/proc/self/ns/net"), /^net:\[\d+\]$/);
    assert.throws(
      () => readSystemLink(libc, "/proc/self/status"),
      (error: unknown) => error instanceof SyscallError && error.code === "EINVAL",
    );
  } finally {
    libc.close();
  }
});

Deno.test("fileIdentity(): an open descriptor's st_dev and st_ino, as stat(2) gives them", async () => {
  const path = await Deno.makeTempFile();
  const libc = Libc.open();
  try {
    const fd = libc.symbols.open(new TextEncoder().encode(path + "\0"), O_RDONLY | O_CLOEXEC);
    assert.ok(fd >= 0);
    try {
      const { dev, ino } = Deno.statSync(path);
      assert.deepEqual(fileIdentity(libc, fd), { dev: BigInt(dev), ino: BigInt(ino!) });
    } finally {
      libc.symbols.close(fd);
    }
    assert.throws(() => fileIdentity(libc, 9999), (error) => error instanceof SyscallError);
  } finally {
    libc.close();
    await Deno.remove(path);
  }
});
