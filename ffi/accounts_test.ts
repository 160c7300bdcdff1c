import assert from "node:assert/strict";
import { lookupAccount, lookupGroup } from "./accounts.ts";
import { Libc } from "./libc.ts";
import { createPrivateFile } from "./system_files.ts";

Deno.test("lookupAccount() and lookupGroup(): root by name, an absent name is null", () => {
  const libc = Libc.open();
  try {
    const root = lookupAccount(libc, "root");
    assert.equal(root?.uid, 0);
    assert.equal(root?.gids[0], 0, "the primary group first");
    assert.equal(lookupGroup(libc, "root"), 0);
    assert.equal(lookupAccount(libc, "no-such-user-joold"), null);
    assert.equal(lookupGroup(libc, "no-such-group-joold"), null);
  } finally {
    libc.close();
  }
});

Deno.test({
  name: "createPrivateFile() with a group: that group, mode 0640 whatever the umask",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  fn: () => {
    const libc = Libc.open();
    const dir = Deno.makeTempDirSync();
    try {
      const gid = lookupGroup(libc, "daemon") ?? 1;
      createPrivateFile(libc, `${dir}/k`, "text\n", gid);
      const info = Deno.statSync(`${dir}/k`);
      assert.equal(info.gid, gid);
      assert.equal(info.mode! & 0o777, 0o640);
      assert.equal(Deno.readTextFileSync(`${dir}/k`), "text\n");
    } finally {
      libc.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
