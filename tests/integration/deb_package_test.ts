/**
 * The .deb of `deno task package` on this machine's dpkg, with a stand-in
 * executable: it installs (the system user, the files, the units enabled,
 * joold(8) diverting jool-tools' page), an upgrade keeps an edited
 * conffile, `dpkg -r` keeps the conffiles and `dpkg --purge` removes them;
 * and lintian reports no error on it. The host is left as it was (purged
 * at the end, even on failure; the user removed if the test made it),
 * since the end-to-end VM runs on this machine's files.
 */

import assert from "node:assert/strict";
import { buildDeb, DEB_BINARY } from "../../scripts/package.ts";
import { runCommand } from "../../scripts/run_command.ts";
import { VERSION } from "../../src/version.ts";

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    return (await runCommand(command, args)).code === 0;
  } catch {
    return false;
  }
}

const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;
const hasDpkg = isRoot && await succeeds("dpkg-deb", ["--version"]) &&
  await succeeds("dpkg", ["--version"]);
const alreadyInstalled = hasDpkg && await succeeds("dpkg-query", ["-W", "joold"]);
const hasConfig = await Deno.stat("/etc/joold").then(() => true, () => false);
const skip = !isRoot
  ? "not root"
  : !hasDpkg
  ? "no dpkg"
  : alreadyInstalled
  ? "a package joold is installed here"
  : hasConfig
  ? "/etc/joold exists here"
  : null;
if (skip !== null) console.error(`.deb tests skipped: ${skip}`);
const hasLintian = skip === null && await succeeds("lintian", ["--version"]);
if (skip === null && !hasLintian) console.error(".deb lintian test skipped: no lintian");

const MAN = "/usr/share/man/man8/joold.8.gz";
const DIVERTED_MAN = "/usr/share/man/man8/joold.jool-tools.8.gz";
const WANTS = "/etc/systemd/system/multi-user.target.wants/joold.service";

async function must(command: string, args: string[]): Promise<string> {
  const result = await runCommand(command, args, {
    env: { DEBIAN_FRONTEND: "noninteractive" },
  });
  assert.equal(result.code, 0, `${command} ${args.join(" ")}: ${result.stdout}${result.stderr}`);
  return result.stdout;
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

/** The stand-in executable: answers --version as joold does. */
async function standIn(dir: string): Promise<string> {
  const path = `${dir}/joold`;
  await Deno.writeTextFile(path, `#!/bin/sh\necho "joold ${VERSION} (stand-in)"\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

/** `deb` rebuilt as `version` + "+1" with a line added to the packaged netsocket.json. */
async function upgradeOf(deb: string, dir: string): Promise<string> {
  const tree = `${dir}/upgrade`;
  await must("dpkg-deb", ["-R", deb, tree]);
  const control = await Deno.readTextFile(`${tree}/DEBIAN/control`);
  await Deno.writeTextFile(
    `${tree}/DEBIAN/control`,
    control.replace(/^Version: (.*)$/m, "Version: $1+1"),
  );
  const conffile = `${tree}/etc/joold/netsocket.json`;
  await Deno.writeTextFile(conffile, "// the next version's example\n", { append: true });
  const sums = await must("md5sum", ["etc/joold/netsocket.json"].map((p) => `${tree}/${p}`));
  const md5 = await Deno.readTextFile(`${tree}/DEBIAN/md5sums`);
  await Deno.writeTextFile(
    `${tree}/DEBIAN/md5sums`,
    md5.replace(/^\S+( +etc\/joold\/netsocket\.json)$/m, `${sums.split(" ")[0]}$1`),
  );
  const upgraded = `${dir}/joold-upgrade.deb`;
  await must("dpkg-deb", ["--root-owner-group", "--build", tree, upgraded]);
  return upgraded;
}

Deno.test({
  name: ".deb: installs, upgrades keeping an edited conffile, removes, purges",
  ignore: skip !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "joold-deb-" });
    const userExisted = await succeeds("getent", ["passwd", "joold"]);
    const groupExisted = await succeeds("getent", ["group", "joold"]);
    const joolToolsPage = await exists(MAN);
    try {
      const deb = await buildDeb(await standIn(dir), "x86_64", dir);

      await must("dpkg", ["-i", deb]);
      assert.ok(await succeeds("getent", ["passwd", "joold"]), "postinst made the user joold");
      assert.ok(await succeeds("getent", ["group", "joold"]), "and the group joold");
      assert.match(await must(DEB_BINARY, ["--version"]), /^joold .*stand-in/);
      const unit = await Deno.readTextFile("/lib/systemd/system/joold.service");
      assert.match(unit, new RegExp(`^ExecStart=${DEB_BINARY} /etc/joold/netsocket\\.json `, "m"));
      assert.match(unit, /^User=joold$/m);
      assert.ok(await exists(WANTS), "enabled on install, as Debian does");
      assert.match(await must("zcat", [MAN]), new RegExp(`"joold ${VERSION}"`));
      if (joolToolsPage) assert.ok(await exists(DIVERTED_MAN), "jool-tools' page is diverted");

      const edited = "// edited by the operator\n";
      await Deno.writeTextFile("/etc/joold/netsocket.json", edited, { append: true });
      await must("dpkg", ["-i", "--force-confold", await upgradeOf(deb, dir)]);
      assert.match(
        await must("dpkg-query", ["-W", "-f=${Version}", "joold"]),
        new RegExp(`^${VERSION.replaceAll(".", "\\.")}\\+1$`),
      );
      const kept = await Deno.readTextFile("/etc/joold/netsocket.json");
      assert.ok(kept.endsWith(edited), "the operator's edit survives the upgrade");
      assert.ok(!kept.includes("next version"), kept);
      assert.match(
        await Deno.readTextFile("/etc/joold/netsocket.json.dpkg-dist"),
        /the next version's example/,
      );

      await must("dpkg", ["-r", "joold"]);
      assert.ok(!await exists(DEB_BINARY));
      assert.ok(!await exists("/lib/systemd/system/joold.service"));
      assert.ok((await Deno.readTextFile("/etc/joold/netsocket.json")).endsWith(edited));
      assert.match(await must("dpkg-query", ["-W", "-f=${Status}", "joold"]), /config-files$/);
      assert.equal(await exists(MAN), joolToolsPage, "jool-tools' page is back");
      assert.ok(!await exists(DIVERTED_MAN));

      await must("dpkg", ["--purge", "joold"]);
      assert.ok(!await exists("/etc/joold"), "purge removes /etc/joold");
      assert.ok(!await exists(WANTS), "and the enablement");
      assert.ok(!await succeeds("dpkg-query", ["-W", "joold"]));
      assert.ok(
        await succeeds("getent", ["passwd", "joold"]),
        "the system user stays, as Debian keeps them",
      );
    } finally {
      await runCommand("dpkg", ["--purge", "joold"]);
      if (!userExisted) await runCommand("userdel", ["joold"]);
      if (!groupExisted) await runCommand("groupdel", ["joold"]);
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(await exists(MAN), joolToolsPage, "the host as it was: man page");
    assert.equal(await succeeds("getent", ["passwd", "joold"]), userExisted, "user");
    assert.ok(!await exists(DEB_BINARY), "executable");
  },
});

Deno.test({
  name: ".deb: lintian reports no error",
  ignore: !hasLintian,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "joold-deb-" });
    try {
      const deb = await buildDeb(await standIn(dir), "x86_64", dir);
      const result = await runCommand("lintian", ["--tag-display-limit", "0", deb]);
      const tags = result.stdout.trim().split("\n").filter((line) => line !== "");
      if (tags.length > 0) console.log(`lintian:\n${tags.join("\n")}`);
      assert.deepEqual(tags.filter((line) => line.startsWith("E: ")), [], result.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
