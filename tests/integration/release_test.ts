/**
 * The release path short of the binary, which only the release workflow
 * can build (denort cannot be downloaded here): the archive
 * (scripts/package.ts), the smoke test the workflow runs on it
 * (scripts/smoke_test.ts), here on an archive whose `joold` is a stand-in
 * running the bundle with the executable's flags, the tag check
 * (scripts/release_tag.ts) and the one place the version is written.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleArgs, RUNTIME_FLAGS } from "../../scripts/runtime_flags.ts";
import { archiveName, DEB_BINARY, debName, stampManPage } from "../../scripts/package.ts";
import { expectedListing, expectedVerdicts, verdicts } from "../../scripts/smoke_test.ts";
import { tagMismatch } from "../../scripts/release_tag.ts";
import { runCommand } from "../../scripts/run_command.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const canSmoke = Deno.build.os === "linux" && Deno.uid() === 0;
if (!canSmoke) console.error("release smoke tests skipped: they need Linux and root");

function task(args: string[]) {
  return runCommand(Deno.execPath(), ["task", "--quiet", ...args], {
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  });
}

/** Runs `use` with a fresh temporary directory, removed afterwards. */
async function inTempDir(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "joold-release-" });
  try {
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A script standing in for the executable: `exec COMMAND... "$@"`. */
async function standIn(dir: string, command: string[]): Promise<string> {
  const path = `${dir}/joold`;
  await Deno.writeTextFile(path, `#!/bin/sh\nexec ${command.join(" ")} "$@"\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

/** The stand-in for the executable: this Deno on the bundle, with the executable's flags. */
async function bundleStandIn(dir: string): Promise<string> {
  const bundle = `${dir}/joold.js`;
  const built = await runCommand(
    Deno.execPath(),
    bundleArgs(bundle),
    { cwd: ROOT },
  );
  assert.equal(built.code, 0, built.stderr);
  return await standIn(dir, [Deno.execPath(), "run", "--no-config", ...RUNTIME_FLAGS, bundle]);
}

async function packageArchive(binary: string, outDir: string, epoch = "1790000000") {
  const packaged = await runCommand(
    Deno.execPath(),
    ["task", "--quiet", "package", "--binary", binary, "--arch", "x86_64", "--out-dir", outDir],
    { cwd: ROOT, env: { SOURCE_DATE_EPOCH: epoch } },
  );
  assert.equal(packaged.code, 0, packaged.stderr);
  return `${outDir}/${archiveName("x86_64")}`;
}

async function tarListing(archive: string): Promise<string[]> {
  const { stdout } = await runCommand("tar", ["-tvzf", archive]);
  return stdout.trim().split("\n").map((line) => {
    const fields = line.trim().split(/\s+/);
    return `${fields[0]} ${fields[1]} ${fields.at(-1)}`;
  }).sort();
}

Deno.test("package: one folder with the files, their modes, root's, the same bytes each time", async () => {
  await inTempDir(async (dir) => {
    const binary = await standIn(dir, ["echo"]);
    const first = await packageArchive(binary, `${dir}/a`);
    const second = await packageArchive(binary, `${dir}/b`);
    assert.deepEqual(await Deno.readFile(first), await Deno.readFile(second));
    const listed = await tarListing(first);
    assert.deepEqual(
      listed.map((line) => line.replace(" 0/0 ", " ")),
      expectedListing("x86_64"),
    );
    assert.ok(listed.every((line) => line.includes(" 0/0 ")), listed.join("\n"));
    for (
      const path of [
        "-rwxr-xr-x joold-x86_64-linux/joold",
        "-rwxr-xr-x joold-x86_64-linux/install.sh",
        "-rw-r--r-- joold-x86_64-linux/joold.8",
        "-rw-r--r-- joold-x86_64-linux/joold.service",
        "-rw-r--r-- joold-x86_64-linux/joold@.service",
        "-rw-r--r-- joold-x86_64-linux/examples/ipv6-netsocket.json",
        "-rw-r--r-- joold-x86_64-linux/README.md",
        "-rw-r--r-- joold-x86_64-linux/LICENSE",
      ]
    ) {
      assert.ok(expectedListing("x86_64").includes(path), path);
    }
    const page = (await runCommand("tar", ["-xzOf", first, "joold-x86_64-linux/joold.8"])).stdout;
    assert.match(page, new RegExp(`^\\.TH JOOLD 8 \\S+ "joold ${VERSION}" `, "m"));
  });
});

const hasDpkgDeb = await runCommand("dpkg-deb", ["--version"]).then(
  (r) => r.code === 0,
  () => false,
);

Deno.test({
  name:
    "package: the .deb beside the archive, the same bytes each time, its units run its executable",
  ignore: !hasDpkgDeb,
  fn: async () => {
    await inTempDir(async (dir) => {
      const binary = await standIn(dir, ["echo"]);
      await packageArchive(binary, `${dir}/a`);
      await packageArchive(binary, `${dir}/b`);
      const deb = `${dir}/a/${debName("x86_64")}`;
      assert.deepEqual(
        await Deno.readFile(deb),
        await Deno.readFile(`${dir}/b/${debName("x86_64")}`),
      );
      const listing = (await runCommand("dpkg-deb", ["-c", deb])).stdout;
      assert.match(listing, new RegExp(`^-rwxr-xr-x root/root .* \\.${DEB_BINARY}$`, "m"));
      assert.match(
        listing,
        /^-rw-r--r-- root\/root .* \.\/lib\/systemd\/system\/joold@\.service$/m,
      );
      const unit = (await runCommand("sh", [
        "-c",
        `dpkg-deb --fsys-tarfile ${deb} | tar -xO ./lib/systemd/system/joold.service`,
      ])).stdout;
      assert.match(unit, new RegExp(`^ExecStart=${DEB_BINARY} /etc/joold/netsocket\\.json `, "m"));
      assert.equal((await runCommand("dpkg-deb", ["-f", deb, "Package"])).stdout.trim(), "joold");
      assert.equal(
        (await runCommand("sh", ["-c", `dpkg-deb --ctrl-tarfile ${deb} | tar -xO ./conffiles`]))
          .stdout,
        "/etc/joold/netsocket.json\n/etc/joold/modsocket.json\n",
      );
    });
  },
});

Deno.test("package: the man page gets the version; a page without the .TH line is refused", () => {
  assert.equal(
    stampManPage('.TH JOOLD 8 2026-12-02 joold "System Manager\'s Manual"\n', "1.2.3"),
    '.TH JOOLD 8 2026-12-02 "joold 1.2.3" "System Manager\'s Manual"\n',
  );
  assert.throws(() => stampManPage(".TH OTHER 1\n"), /no "\.TH JOOLD 8 DATE joold" line/);
});

Deno.test({
  name: "smoke test: an archive of the bundle passes every step",
  ignore: !canSmoke,
  fn: async () => {
    await inTempDir(async (dir) => {
      const archive = await packageArchive(await bundleStandIn(dir), dir);
      const result = await task(["smoke-test", archive]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const lines = result.stdout.trim().split("\n").map((line) => line.split(":")[0]);
      assert.deepEqual(lines, [
        "ok    files",
        "ok    identity",
        "ok    check ipv6-netsocket.json",
        "ok    check ipv4-netsocket.json",
        "ok    daemon",
        `Smoke test of ${archive} passed`,
      ]);
    });
  },
});

Deno.test({
  name: "smoke test: an archive whose joold is a plain deno fails in one line",
  ignore: !canSmoke,
  fn: async () => {
    await inTempDir(async (dir) => {
      const archive = await packageArchive(await standIn(dir, [Deno.execPath()]), dir);
      const result = await task(["smoke-test", archive]);
      assert.equal(result.code, 1, result.stdout);
      assert.equal(
        result.stderr.trim(),
        `Smoke test of ${archive} failed: its joold is not joold: its --version printed ` +
          `"deno ${Deno.version.deno} (stable, release, ${Deno.build.target})" (exit status 0), ` +
          `not "joold ${VERSION} (…)"`,
      );
    });
  },
});

Deno.test({
  name: "smoke test: an archive with a file missing fails in one line",
  ignore: !canSmoke,
  fn: async () => {
    await inTempDir(async (dir) => {
      const archive = await packageArchive(await standIn(dir, ["echo"]), dir);
      const repacked = `${dir}/repacked/${archiveName("x86_64")}`;
      await Deno.mkdir(`${dir}/repacked/x`, { recursive: true });
      const tar = (args: string[]) => runCommand("tar", args);
      await tar(["-xzf", archive, "-C", `${dir}/repacked/x`]);
      await Deno.remove(`${dir}/repacked/x/joold-x86_64-linux/LICENSE`);
      await tar(["-czf", repacked, "-C", `${dir}/repacked/x`, "joold-x86_64-linux"]);
      const result = await task(["smoke-test", repacked]);
      assert.equal(result.code, 1, result.stdout);
      assert.match(
        result.stderr.trim(),
        /^Smoke test of .+ failed: its files differ from scripts\/package\.ts's: missing \[-rw-r--r-- joold-x86_64-linux\/LICENSE\], unexpected \[\]$/,
      );
    });
  },
});

Deno.test("smoke test: the verdicts it expects from joold check", () => {
  const stdout = [
    "ok    netsocket: examples/ipv6-netsocket.json: ff08::db8:64:64 port 6464, in eth0",
    "ok    modsocket: examples/modsocket.json: instance 'default'",
    "ok    privileges: CAP_NET_ADMIN is in effect",
    "FAIL  Jool module: not loaded in this network namespace (try `modprobe jool`)",
    "skip  instance 'default': needs the Jool module",
    "skip  session sync: needs the instance",
    "ok    multicast socket: joined ff08::db8:64:64 port 6464",
    "ok    control socket: joined ff08::db8:64:64 port 6465",
    "1 problem found",
  ].join("\n");
  assert.deepEqual(verdicts(stdout), expectedVerdicts(false));
  assert.notDeepEqual(verdicts(stdout), expectedVerdicts(true));
});

Deno.test("release tag: only v + the version of src/version.ts releases", async () => {
  assert.equal(tagMismatch(`v${VERSION}`), undefined);
  assert.equal(tagMismatch("v1.2.3", "1.2.3"), undefined);
  assert.equal(tagMismatch("v1.2.3-rc.1", "1.2.3-rc.1"), undefined);
  assert.match(tagMismatch("v1.2.4", "1.2.3")!, /tag "v1\.2\.4" does not match .* "v1\.2\.3"/);
  assert.match(tagMismatch("1.2.3", "1.2.3")!, /expected "v1\.2\.3"/);
  assert.match(tagMismatch("v1.2", "1.2")!, /MAJOR\.MINOR\.PATCH/);
  const wrong = await task(["release-tag", "v0.0.0-wrong"]);
  assert.equal(wrong.code, 1);
  assert.equal(
    wrong.stderr.trim(),
    `Release refused: tag "v0.0.0-wrong" does not match the version in src/version.ts: ` +
      `expected "v${VERSION}"`,
  );
  const right = await task(["release-tag", `v${VERSION}`]);
  assert.equal(right.code, 0, right.stderr);
});

Deno.test("the version is written in src/version.ts only", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  assert.equal(config.version, undefined, "deno.json has a version of its own");
  const page = await Deno.readTextFile(`${ROOT}/packaging/joold.8`);
  assert.match(page, /^\.TH JOOLD 8 \S+ joold "/m, "the man page's .TH carries a version");
  const files = ["README.md", "packaging/joold.8", ".github/workflows/release.yml"];
  for await (const entry of Deno.readDir(`${ROOT}/docs`)) files.push(`docs/${entry.name}`);
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    const escaped = VERSION.replaceAll(".", "\\.");
    assert.doesNotMatch(text, new RegExp(`(?<![\\d.])${escaped}(?![\\d.])`), file);
  }
});
