/**
 * The archive's install.sh and uninstall.sh on this machine, in a mount
 * namespace where /etc and /usr/local are overlays (what they write goes
 * to a temporary directory; the host, whose files the end-to-end VM runs
 * on, is untouched): the system user joold is created, the units go to
 * /usr/local/lib/systemd/system, an earlier install.sh's unedited unit in
 * /etc/systemd/system is removed (its enablement kept), an edited one kept
 * and named; a second run keeps the configuration; uninstall.sh removes
 * everything but /etc/joold, and --purge that too.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { archiveName, buildArchive } from "../../scripts/package.ts";
import { runCommand } from "../../scripts/run_command.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const canRun = Deno.build.os === "linux" && Deno.uid() === 0 &&
  await runCommand("unshare", ["-m", "true"]).then((r) => r.code === 0, () => false);
if (!canRun) console.error("install.sh test skipped: needs root and mount namespaces");

/** Runs `script` (sh) in a mount namespace with /etc and /usr/local overlaid in `dir`. */
async function inOverlay(dir: string, script: string) {
  const mounts = ["etc", "usr/local"].map((path) => {
    const name = path.replace("/", "-");
    return `mkdir -p ${dir}/${name}-upper ${dir}/${name}-work && ` +
      `mount -t overlay overlay -o lowerdir=/${path},upperdir=${dir}/${name}-upper,` +
      `workdir=${dir}/${name}-work /${path}`;
  }).join(" && ");
  return await runCommand("unshare", [
    "-m",
    "--propagation",
    "private",
    "sh",
    "-ec",
    `${mounts}\n${script}`,
  ]);
}

const FACTS = `
for path in /usr/local/bin/joold /usr/local/share/man/man8/joold.8 \\
  /usr/local/lib/systemd/system/joold.service /usr/local/lib/systemd/system/joold@.service \\
  /usr/local/lib/joold/uninstall.sh /usr/local/share/doc/joold/README.md \\
  /etc/systemd/system/joold.service /etc/systemd/system/joold@.service \\
  /etc/joold/netsocket.json /etc/joold/modsocket.json; do
  if [ -e "$path" ]; then echo "present $path"; else echo "absent $path"; fi
done
echo "link $(readlink /etc/systemd/system/multi-user.target.wants/joold.service || true)"
echo "user $(getent passwd joold | cut -d: -f1,6,7)"
echo "group $(getent group joold | cut -d: -f1)"
`;

Deno.test({
  name:
    "install.sh and uninstall.sh: user, units beside /etc's, earlier copies, configuration kept",
  ignore: !canRun,
  fn: async () => {
    const hostUser = () => runCommand("getent", ["passwd", "joold"]).then((r) => r.stdout);
    const userBefore = await hostUser();
    const dir = await Deno.makeTempDir({ prefix: "joold-install-" });
    try {
      const binary = `${dir}/joold`;
      await Deno.writeTextFile(binary, '#!/bin/sh\necho "joold 0.0.0 (stand-in)"\n');
      await Deno.chmod(binary, 0o755);
      const archive = await buildArchive(binary, "x86_64", dir);
      assert.ok(archive.endsWith(archiveName("x86_64")));
      const unpacked = await runCommand("tar", ["-xzf", archive, "-C", dir]);
      assert.equal(unpacked.code, 0, unpacked.stderr);
      const folder = `${dir}/joold-x86_64-linux`;
      const result = await inOverlay(
        dir,
        `
units=/etc/systemd/system
mkdir -p $units/multi-user.target.wants
cp ${FIXTURES}earlier_joold.service $units/joold.service
ln -s $units/joold.service $units/multi-user.target.wants/joold.service
printf '[Service]\\nExecStart=/usr/local/bin/joold mine.json\\n' >$units/joold@.service
echo "== install"
${folder}/install.sh
${FACTS}
echo "== again"
echo '// edited' >>/etc/joold/netsocket.json
${folder}/install.sh
tail -n 1 /etc/joold/netsocket.json
echo "== uninstall"
/usr/local/lib/joold/uninstall.sh
${FACTS}
echo "== purge"
${folder}/uninstall.sh --purge
[ -e /etc/joold ] && echo "present /etc/joold" || echo "absent /etc/joold"
`,
      );
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const [, install, again, uninstall, purge] = result.stdout.split(/^== \w+\n/m);
      for (
        const line of [
          "Created the system user joold",
          "Removed /etc/systemd/system/joold.service (an earlier install.sh's, unedited); " +
          "the unit is /usr/local/lib/systemd/system/joold.service",
          "Kept /etc/systemd/system/joold@.service: it overrides " +
          "/usr/local/lib/systemd/system/joold@.service; compare them, then move your changes " +
          "to a drop-in (systemctl edit joold@) and remove it",
          "Created /etc/joold/netsocket.json from examples/ipv6-netsocket.json",
          "present /usr/local/bin/joold",
          "present /usr/local/lib/systemd/system/joold.service",
          "present /usr/local/lib/systemd/system/joold@.service",
          "present /usr/local/lib/joold/uninstall.sh",
          "absent /etc/systemd/system/joold.service",
          "present /etc/systemd/system/joold@.service",
          "present /etc/joold/netsocket.json",
          "link /usr/local/lib/systemd/system/joold.service",
          "user joold:/nonexistent:/usr/sbin/nologin",
          "group joold",
        ]
      ) {
        assert.ok(install.split("\n").includes(line), `install: ${line}\n${install}`);
      }
      assert.ok(!again.includes("Created the system user"), again);
      assert.ok(again.includes("Kept /etc/joold/netsocket.json\n"), again);
      assert.ok(again.trimEnd().endsWith("// edited"), again);
      for (
        const line of [
          "Removed joold; kept /etc/joold (uninstall.sh --purge removes it)",
          "Kept /etc/systemd/system/joold@.service: yours, not install.sh's",
          "absent /usr/local/bin/joold",
          "absent /usr/local/share/man/man8/joold.8",
          "absent /usr/local/lib/systemd/system/joold.service",
          "absent /usr/local/lib/joold/uninstall.sh",
          "absent /usr/local/share/doc/joold/README.md",
          "present /etc/joold/netsocket.json",
          "link ",
        ]
      ) {
        assert.ok(uninstall.split("\n").includes(line), `uninstall: ${line}\n${uninstall}`);
      }
      assert.ok(purge.includes("absent /etc/joold"), purge);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(await hostUser(), userBefore, "the host's users are as they were");
  },
});
