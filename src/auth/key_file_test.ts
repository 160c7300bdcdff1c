/**
 * Key files: the format, every error (one line naming file and line), the
 * permission check, and keygen's text.
 */

import assert from "node:assert/strict";
import { ConfigError } from "../config/errors.ts";
import { loadKeyFile, newKeyFileText, parseKeyFile, unreadableBy } from "./key_file.ts";

const HEX_A = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const HEX_B = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

Deno.test("one key is current, marked or not; comments and blank lines are skipped", () => {
  for (const text of [`key 1 ${HEX_A}\n`, `# keys\n\nkey 1 ${HEX_A} current\n`]) {
    const ring = parseKeyFile(text, "k");
    assert.equal(ring.current.id, 1);
    assert.deepEqual([...ring.accepted.keys()], [1]);
    assert.deepEqual([...ring.current.secret.subarray(0, 3)], [0x00, 0x11, 0x22]);
  }
});

Deno.test("two keys: the one marked current sends, both are accepted", () => {
  const ring = parseKeyFile(`key 1 ${HEX_A} next\nkey 2 ${HEX_B} current\n`, "k");
  assert.equal(ring.current.id, 2);
  assert.deepEqual([...ring.accepted.keys()], [1, 2]);
});

Deno.test("bad key files: one line each, naming the file and line", async (t) => {
  const cases: [string, string, string][] = [
    ["empty", "# nothing\n", "k: holds no key (make one with joold keygen)"],
    ["not a key line", "secret\n", 'k:1: expected "key ID SECRET [current|next]"'],
    ["bad id", `key 256 ${HEX_A}`, 'k:1: key id must be an integer from 0 to 255, got "256"'],
    ["not hex", `key 1 ${HEX_A.slice(2)}zz`, "k:1: key 1: the secret must be hexadecimal digits"],
    [
      "too short",
      `key 1 ${HEX_A.slice(0, 32)}`,
      "k:1: key 1: too short (16 bytes, needs 32: 64 hex digits; make one with joold keygen)",
    ],
    ["too long", `key 1 ${HEX_A}00`, "k:1: key 1: too long (33 bytes, needs 32)"],
    [
      "bad mark",
      `key 1 ${HEX_A} old`,
      'k:1: key 1: expected "current" or "next" after the secret, got "old"',
    ],
    ["same id twice", `key 1 ${HEX_A}\nkey 1 ${HEX_B}`, "k:2: key id 1 is given twice"],
    [
      "three keys",
      `key 1 ${HEX_A} current\nkey 2 ${HEX_B}\nkey 3 ${HEX_B}`,
      "k:3: at most 2 keys (current and next)",
    ],
    [
      "two current",
      `key 1 ${HEX_A} current\nkey 2 ${HEX_B} current`,
      "k:2: keys 1 and 2 are both marked current",
    ],
    ["two, none current", `key 1 ${HEX_A}\nkey 2 ${HEX_B}`, "k: of keys 1 and 2, mark one current"],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseKeyFile(text, "k"), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("a key file readable or writable by group or others is refused", async (t) => {
  for (const mode of [0o100640, 0o100604, 0o100620, 0o100644]) {
    await t.step(mode.toString(8), async () => {
      const io = {
        stat: () => Promise.resolve({ mode, isFile: true }),
        readTextFile: () => Promise.resolve(`key 1 ${HEX_A}`),
      };
      await assert.rejects(loadKeyFile("/etc/jool/keys", "net.json", io), {
        message: `/etc/jool/keys: is accessible to group or others (mode 0${
          (mode & 0o777).toString(8)
        }); chmod 600 /etc/jool/keys`,
      });
    });
  }
});

Deno.test("a missing key file names the netsocket key", async () => {
  await assert.rejects(loadKeyFile("/nonexistent/keys", "net.json"), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^net\.json: "auth key file": cannot read \/nonexistent\/keys: /);
    return true;
  });
});

Deno.test("a real 0600 file loads; chmod 644 makes it refused", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, newKeyFileText(new Uint8Array(32).fill(1), 5));
    await Deno.chmod(file, 0o600);
    const ring = await loadKeyFile(file, "net.json");
    assert.equal(ring.current.id, 5);
    await Deno.chmod(file, 0o644);
    await assert.rejects(loadKeyFile(file, "net.json"), /is accessible to group or others/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("keygen's text is a valid key file with the key it was given", () => {
  const ring = parseKeyFile(newKeyFileText(new Uint8Array(32).fill(0xab)), "k");
  assert.equal(ring.current.id, 1);
  assert.deepEqual(ring.current.secret, new Uint8Array(32).fill(0xab));
});

Deno.test("a key file that is a link, not a regular file, too large or another user's is refused", async (t) => {
  const regular = { mode: 0o100600, isFile: true, isSymlink: false, uid: 0, size: 100 };
  const cases: [string, Partial<typeof regular>, string][] = [
    [
      "symbolic link",
      { isSymlink: true, isFile: false },
      'net.json: "auth key file": /k is a symbolic link; name the key file itself',
    ],
    ["FIFO", { isFile: false, mode: 0o010600 }, 'net.json: "auth key file": /k is not a file'],
    [
      "too large",
      { size: 1 << 20 },
      "/k: is 1048576 bytes; a key file is at most 4096 (joold keygen makes one)",
    ],
    [
      "another user's",
      { uid: 1000 },
      "/k: is owned by uid 1000; only root or the user joold runs as (uid 990) may own it: chown it",
    ],
  ];
  for (const [name, change, message] of cases) {
    await t.step(name, async () => {
      const io = {
        stat: () => Promise.resolve({ ...regular, ...change }),
        readTextFile: () => Promise.reject(new Error("must not be read")),
      };
      await assert.rejects(loadKeyFile("/k", "net.json", io, { owners: [0, 990], groups: [] }), {
        message,
      });
    });
  }
  const io = {
    stat: () => Promise.resolve({ ...regular, uid: 990 }),
    readTextFile: () => Promise.resolve(`key 1 ${HEX_A}`),
  };
  assert.equal(
    (await loadKeyFile("/k", "net.json", io, { owners: [0, 990], groups: [] })).current.id,
    1,
    "the daemon's own",
  );
});

Deno.test("a real FIFO and a real symbolic link are refused at once (nothing blocks)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/fifo.key`;
    const status = await new Deno.Command("mkfifo", { args: ["-m", "600", fifo] }).output();
    assert.ok(status.success);
    await assert.rejects(loadKeyFile(fifo, "net.json"), /is not a file/);
    const real = `${dir}/real.key`;
    await Deno.writeTextFile(real, newKeyFileText(new Uint8Array(32).fill(1)), { mode: 0o600 });
    await Deno.symlink(real, `${dir}/link.key`);
    await assert.rejects(loadKeyFile(`${dir}/link.key`, "net.json"), /is a symbolic link/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an all-zero key is refused", () => {
  assert.throws(() => parseKeyFile(`key 1 ${"0".repeat(64)}`, "k"), {
    message: "k:1: key 1: all zero, not a secret (make one with joold keygen)",
  });
});

Deno.test("a key file readable by its group: accepted only when that is one of the daemon's groups", async (t) => {
  const reader = { owners: [0, 990], groups: [990, 27] };
  const load = (stat: { mode: number; uid: number; gid?: number }) =>
    loadKeyFile("/k", "net.json", {
      stat: () => Promise.resolve({ isFile: true, isSymlink: false, size: 100, ...stat }),
      readTextFile: () => Promise.resolve(`key 1 ${HEX_A}`),
    }, reader);
  await t.step("root:joold 0640, the units' layout", async () => {
    assert.equal((await load({ mode: 0o100640, uid: 0, gid: 990 })).current.id, 1);
  });
  await t.step("the daemon's own 0640, group a supplementary one", async () => {
    assert.equal((await load({ mode: 0o100640, uid: 990, gid: 27 })).current.id, 1);
  });
  await t.step("a group the daemon is not in", async () => {
    await assert.rejects(load({ mode: 0o100640, uid: 0, gid: 100 }), {
      message: "/k: is readable by its group (gid 100, mode 0640), which joold does not run in " +
        "(gids 990, 27): chgrp it to joold's group, or chmod 600 /k",
    });
  });
  for (const mode of [0o100660, 0o100650, 0o100644, 0o100641]) {
    await t.step(`still refused: ${mode.toString(8)}, even in the daemon's group`, async () => {
      await assert.rejects(load({ mode, uid: 0, gid: 990 }), {
        message: `/k: is accessible to group or others (mode 0${
          (mode & 0o777).toString(8)
        }); chmod 600 /k`,
      });
    });
  }
  await t.step("a group read bit with the group unknown", async () => {
    await assert.rejects(load({ mode: 0o100640, uid: 0 }), /is accessible to group or others/);
  });
});

Deno.test("unreadableBy(): the first directory the units' user may not search, or the file it may not read", () => {
  const joold = { name: "joold", uid: 990, gids: [990] };
  const dir = (path: string, mode: number, gid = 0) => ({ path, mode, uid: 0, gid });
  const cases: [string, ReturnType<typeof dir>[], string | null][] = [
    [
      "root:joold 0640 in 0755 directories",
      [dir("/", 0o40755), dir("/etc", 0o40755), dir("/etc/k", 0o100640, 990)],
      null,
    ],
    ["its own 0600", [dir("/", 0o40755), { path: "/k", mode: 0o100600, uid: 990, gid: 0 }], null],
    [
      "root's 0600 (what keygen wrote where no group joold existed)",
      [dir("/", 0o40755), dir("/etc", 0o40755), dir("/etc/k", 0o100600)],
      "the user joold (uid 990) that joold's units run as could not read it " +
      "(uid 0, gid 0, mode 0600): chgrp joold /etc/k && chmod 640 /etc/k",
    ],
    [
      "a 0700 directory above it",
      [dir("/", 0o40755), dir("/etc/joold", 0o40700), dir("/etc/joold/k", 0o100640, 990)],
      "the user joold (uid 990) that joold's units run as could not reach it: " +
      "it may not search /etc/joold (uid 0, gid 0, mode 0700)",
    ],
    [
      "a 0750 directory of its group",
      [dir("/", 0o40755), dir("/etc/joold", 0o40750, 990), dir("/etc/joold/k", 0o100640, 990)],
      null,
    ],
  ];
  for (const [name, chain, expected] of cases) {
    assert.equal(unreadableBy(chain, joold), expected, name);
  }
});
