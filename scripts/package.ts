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
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { VERSION } from "../src/version.ts";
import { elfArchitecture } from "./verify_executable.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The architectures releases are built for. */
export const ARCHITECTURES = ["x86_64", "aarch64"] as const;

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

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      binary: { type: "string" },
      arch: { type: "string" },
      "out-dir": { type: "string", default: "dist" },
    },
  });
  if (values.binary === undefined) {
    console.error("Usage: deno task package --binary FILE [--arch ARCH] [--out-dir DIR]");
    return 2;
  }
  const arch = values.arch ?? await elfArchitecture(values.binary);
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
    return 0;
  } catch (error) {
    console.error(
      `Cannot package ${values.binary}: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
