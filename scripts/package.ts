/**
 * `deno task package --binary FILE [--arch ARCH] [--out-dir DIR]`: the
 * release archive of one architecture, `DIR/joold-ARCH-linux.tar.gz`
 * (default DIR: dist), holding one folder `joold-ARCH-linux/` with the
 * executable, `install.sh`, the man page (with the version of
 * src/version.ts stamped in), the systemd units, the example configuration
 * files, the README, docs/ and the LICENSE.
 *
 * Modes are set here, not taken from the checkout: 0755 for the executable
 * and `install.sh`, 0644 for the rest, owner root. With SOURCE_DATE_EPOCH
 * set (the release workflow sets the commit's time) the archive is the same
 * bytes on every run.
 *
 * ARCH defaults to the architecture of FILE's ELF header; give it for a
 * stand-in that is not an ELF executable (the end-to-end install scenario
 * packages a script that runs the bundle).
 *
 * Beside it, the Debian package `DIR/joold_VERSION_DEBARCH.deb` (dpkg-deb;
 * skipped with a line when dpkg-deb is missing, or with --no-deb): the
 * executable as /usr/sbin/joold, the units in /lib/systemd/system, the
 * example files as the conffiles /etc/joold/netsocket.json and
 * modsocket.json, the maintainer scripts of packaging/debian/. Why those
 * paths: docs/install.md.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { VERSION } from "../src/version.ts";
import { elfArchitecture } from "./verify_executable.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The architectures releases are built for. */
export const ARCHITECTURES = ["x86_64", "aarch64"] as const;

/** Debian's name of each architecture. */
export const DEB_ARCHITECTURES = {
  x86_64: "amd64",
  aarch64: "arm64",
} as const satisfies Record<typeof ARCHITECTURES[number], string>;

/** The executable's path in the units of packaging/ and for install.sh (the archive's). */
export const TARBALL_BINARY = "/usr/local/bin/joold";

/**
 * The executable's path in the .deb: not /usr/bin/joold, which is the C
 * joold of Debian's jool-tools (that package stays installed for `jool`).
 */
export const DEB_BINARY = "/usr/sbin/joold";

/** The .deb's Maintainer field. */
export const DEB_MAINTAINER = "the joold authors <joold@users.noreply.github.com>";

/** The configuration files both installs create from the examples: target name, example. */
export const CONFIG_FILES = [
  { name: "netsocket.json", example: "ipv6-netsocket.json" },
  { name: "modsocket.json", example: "modsocket.json" },
] as const;

/** One file of the archive, under its top folder. */
export interface PackageEntry {
  /** Path inside the archive's folder. */
  path: string;
  /** Where it comes from, relative to the checkout; undefined for the executable. */
  source?: string;
  mode: 0o755 | 0o644;
}

/** The name of the archive (and of its top folder, without `.tar.gz`) for `arch`. */
export function archiveName(arch: string): string {
  return `joold-${arch}-linux.tar.gz`;
}

/** Every file of the archive, in the checkout `root`. */
export function packageEntries(root: string = ROOT): PackageEntry[] {
  const docs = [...Deno.readDirSync(`${root}/docs`)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => entry.name).sort();
  return [
    { path: "joold", mode: 0o755 },
    { path: "install.sh", source: "packaging/install.sh", mode: 0o755 },
    { path: "uninstall.sh", source: "packaging/uninstall.sh", mode: 0o755 },
    { path: "joold.8", source: "packaging/joold.8", mode: 0o644 },
    { path: "joold.service", source: "packaging/joold.service", mode: 0o644 },
    { path: "joold@.service", source: "packaging/joold@.service", mode: 0o644 },
    ...["ipv4-netsocket.json", "ipv6-netsocket.json", "modsocket.json"].map((name) => ({
      path: `examples/${name}`,
      source: `packaging/examples/${name}`,
      mode: 0o644 as const,
    })),
    { path: "README.md", source: "README.md", mode: 0o644 },
    { path: "LICENSE", source: "LICENSE", mode: 0o644 },
    ...docs.map((name) => ({ path: `docs/${name}`, source: `docs/${name}`, mode: 0o644 as const })),
  ];
}

/**
 * The man page with `version` in its `.TH` source field, where the
 * checkout's copy has only `joold`.
 */
export function stampManPage(page: string, version: string = VERSION): string {
  const th = /^(\.TH JOOLD 8 \S+) joold /m;
  if (!th.test(page)) throw new Error('packaging/joold.8: no ".TH JOOLD 8 DATE joold" line');
  return page.replace(th, `$1 "joold ${version}" `);
}

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, { args, env, stderr: "piped" }).output();
  if (!output.success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
}

/** Builds the archive of `binary` for `arch` in `outDir`; returns its path. */
export async function buildArchive(binary: string, arch: string, outDir: string): Promise<string> {
  const name = archiveName(arch).replace(/\.tar\.gz$/, "");
  const staging = await Deno.makeTempDir({ prefix: "joold-package-" });
  try {
    for (const entry of packageEntries()) {
      const target = `${staging}/${name}/${entry.path}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      if (entry.source === undefined) {
        await Deno.copyFile(binary, target);
      } else if (entry.path === "joold.8") {
        await Deno.writeTextFile(
          target,
          stampManPage(await Deno.readTextFile(ROOT + entry.source)),
        );
      } else {
        await Deno.copyFile(ROOT + entry.source, target);
      }
      await Deno.chmod(target, entry.mode);
    }
    for (const dir of [name, `${name}/examples`, `${name}/docs`]) {
      await Deno.chmod(`${staging}/${dir}`, 0o755);
    }
    await Deno.mkdir(outDir, { recursive: true });
    const archive = `${outDir}/${archiveName(arch)}`;
    const epoch = Deno.env.get("SOURCE_DATE_EPOCH") ?? String(Math.floor(Date.now() / 1000));
    await run("tar", [
      "--create",
      `--file=${archive}`,
      `--directory=${staging}`,
      "--use-compress-program=gzip -n -9",
      "--sort=name",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      `--mtime=@${epoch}`,
      name,
    ], { LC_ALL: "C" });
    return archive;
  } finally {
    await Deno.remove(staging, { recursive: true });
  }
}

/**
 * `unit` (a unit of packaging/) running `binary` instead of
 * {@link TARBALL_BINARY}.
 *
 * @throws {Error} If the unit's ExecStart= does not start with it.
 */
export function unitWithBinary(unit: string, binary: string): string {
  const execStart = `\nExecStart=${TARBALL_BINARY} `;
  if (!unit.includes(execStart)) throw new Error(`a unit has no "ExecStart=${TARBALL_BINARY} "`);
  return unit.replaceAll(execStart, `\nExecStart=${binary} `);
}

/** The name of the .deb of `version` for `arch`. */
export function debName(arch: typeof ARCHITECTURES[number], version: string = VERSION): string {
  return `joold_${version}_${DEB_ARCHITECTURES[arch]}.deb`;
}

/** The .deb's control file; `installedKib` is the unpacked size in KiB. */
export function debControl(
  arch: typeof ARCHITECTURES[number],
  installedKib: number,
  version: string = VERSION,
): string {
  return [
    "Package: joold",
    `Version: ${version}`,
    `Architecture: ${DEB_ARCHITECTURES[arch]}`,
    `Maintainer: ${DEB_MAINTAINER}`,
    `Installed-Size: ${installedKib}`,
    // The executable is Deno's runtime, linked against glibc; adduser for postinst.
    "Depends: libc6, libgcc-s1, adduser",
    "Recommends: jool-tools",
    "Section: net",
    "Priority: optional",
    "Description: session synchronisation daemon for the Jool NAT64 translator",
    " joold keeps the NAT64 sessions of Jool instances on several routers in",
    " step over UDP multicast or unicast, so that a router that takes over",
    " keeps the connections going. Wire-compatible with Jool's own joold, which",
    " Debian's jool-tools ships as /usr/bin/joold; this one is /usr/sbin/joold",
    " and runs under systemd as the system user joold.",
    "",
  ].join("\n");
}

/** A Debian changelog entry for a native package: the release of `version` at `epoch` seconds. */
export function debChangelog(epoch: number, version: string = VERSION): string {
  const date = new Date(epoch * 1000).toUTCString().replace(/GMT$/, "+0000");
  return `joold (${version}) unstable; urgency=medium\n\n` +
    `  * Release ${version}: see https://github.com/OWNER/joold/releases.\n\n` +
    ` -- ${DEB_MAINTAINER}  ${date}\n`;
}

async function hasDpkgDeb(): Promise<boolean> {
  try {
    return (await new Deno.Command("dpkg-deb", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function gzipped(text: string): Promise<Uint8Array> {
  const child = new Deno.Command("gzip", { args: ["-9n"], stdin: "piped", stdout: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  if (!output.success) throw new Error("gzip failed");
  return output.stdout;
}

/**
 * Builds the .deb of `binary` for `arch` in `outDir`; returns its path.
 * `version`: the package's (tests build a higher one to upgrade to).
 */
export async function buildDeb(
  binary: string,
  arch: typeof ARCHITECTURES[number],
  outDir: string,
  version: string = VERSION,
): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "joold-deb-" });
  const epoch = Number(Deno.env.get("SOURCE_DATE_EPOCH") ?? Math.floor(Date.now() / 1000));
  const doc = "usr/share/doc/joold";
  const files: { path: string; bytes: Uint8Array; mode: 0o755 | 0o644 }[] = [];
  const text = (path: string, content: string, mode: 0o755 | 0o644 = 0o644) =>
    files.push({ path, bytes: new TextEncoder().encode(content), mode });
  const copy = async (path: string, source: string, mode: 0o755 | 0o644 = 0o644) =>
    files.push({ path, bytes: await Deno.readFile(ROOT + source), mode });
  try {
    files.push({ path: DEB_BINARY.slice(1), bytes: await Deno.readFile(binary), mode: 0o755 });
    for (const unit of ["joold.service", "joold@.service"]) {
      text(
        `lib/systemd/system/${unit}`,
        unitWithBinary(await Deno.readTextFile(`${ROOT}packaging/${unit}`), DEB_BINARY),
      );
    }
    for (const { name, example } of CONFIG_FILES) {
      await copy(`etc/joold/${name}`, `packaging/examples/${example}`);
    }
    files.push({
      path: "usr/share/man/man8/joold.8.gz",
      bytes: await gzipped(stampManPage(await Deno.readTextFile(`${ROOT}packaging/joold.8`))),
      mode: 0o644,
    });
    for (const entry of packageEntries()) {
      if (entry.source?.endsWith(".md") || entry.path.startsWith("examples/")) {
        await copy(`${doc}/${entry.path}`, entry.source!);
      }
    }
    text(
      `${doc}/copyright`,
      "This package is joold: https://github.com/OWNER/joold\n\n" +
        await Deno.readTextFile(`${ROOT}LICENSE`),
    );
    files.push({
      path: `${doc}/changelog.gz`,
      bytes: await gzipped(debChangelog(epoch, version)),
      mode: 0o644,
    });
    for (const file of files) {
      const target = `${root}/${file.path}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(target, file.bytes);
      await Deno.chmod(target, file.mode);
    }
    await Deno.mkdir(`${root}/DEBIAN`);
    const md5 = await runMd5(root, files.map((file) => file.path).sort());
    const installedKib = Math.ceil(
      files.reduce((sum, file) => sum + file.bytes.length, 0) / 1024,
    );
    const control: [string, string, 0o755 | 0o644][] = [
      ["control", debControl(arch, installedKib, version), 0o644],
      ["conffiles", CONFIG_FILES.map(({ name }) => `/etc/joold/${name}\n`).join(""), 0o644],
      ["md5sums", md5, 0o644],
      ...await Promise.all(
        ["preinst", "postinst", "prerm", "postrm"].map(async (script) =>
          [script, await Deno.readTextFile(`${ROOT}packaging/debian/${script}`), 0o755] as [
            string,
            string,
            0o755,
          ]
        ),
      ),
    ];
    for (const [name, content, mode] of control) {
      await Deno.writeTextFile(`${root}/DEBIAN/${name}`, content);
      await Deno.chmod(`${root}/DEBIAN/${name}`, mode);
    }
    await run("chmod", ["-R", "u=rwX,go=rX", root]);
    for (const script of ["preinst", "postinst", "prerm", "postrm"]) {
      await Deno.chmod(`${root}/DEBIAN/${script}`, 0o755);
    }
    await Deno.mkdir(outDir, { recursive: true });
    const deb = `${outDir}/${debName(arch, version)}`;
    await run("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, deb], {
      SOURCE_DATE_EPOCH: String(epoch),
    });
    return deb;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function runMd5(root: string, paths: string[]): Promise<string> {
  const output = await new Deno.Command("md5sum", { args: paths, cwd: root, stdout: "piped" })
    .output();
  if (!output.success) throw new Error("md5sum failed");
  return new TextDecoder().decode(output.stdout);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      binary: { type: "string" },
      arch: { type: "string" },
      "out-dir": { type: "string", default: "dist" },
      "no-deb": { type: "boolean", default: false },
    },
  });
  if (values.binary === undefined) {
    console.error(
      "Usage: deno task package --binary FILE [--arch ARCH] [--out-dir DIR] [--no-deb]",
    );
    return 2;
  }
  const arch = (values.arch ?? await elfArchitecture(values.binary)) as
    | typeof ARCHITECTURES[number]
    | undefined;
  if (arch === undefined || !(ARCHITECTURES as readonly string[]).includes(arch)) {
    console.error(
      `Cannot package ${values.binary}: ${
        arch === undefined ? "not an x86_64 or aarch64 ELF executable" : `unknown --arch ${arch}`
      }; give --arch ${ARCHITECTURES.join(" or ")}`,
    );
    return 1;
  }
  try {
    console.log(`Packaged ${await buildArchive(values.binary, arch, values["out-dir"])}`);
    if (values["no-deb"]) return 0;
    if (!await hasDpkgDeb()) {
      console.log("No .deb: dpkg-deb is not installed");
      return 0;
    }
    console.log(`Packaged ${await buildDeb(values.binary, arch, values["out-dir"])}`);
    return 0;
  } catch (error) {
    console.error(
      `Cannot package ${values.binary}: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
