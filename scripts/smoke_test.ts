/**
 * `deno task smoke-test ARCHIVE`: what the release workflow runs on each
 * archive before it is published (as root: it needs a network namespace).
 *
 *   1. the archive holds exactly the files of scripts/package.ts, with
 *      their modes, under one folder;
 *   2. its `joold` is joold of this version (scripts/verify_executable.ts:
 *      `--version`, `check --help`);
 *   3. in a fresh network namespace whose `eth0` has the examples' address
 *      192.0.2.1, `joold check` on each example netsocket file with the
 *      example modsocket file passes every item but the Jool module (or,
 *      where the module is loaded, the instance, which the namespace lacks):
 *      the files load, CAP_NET_ADMIN counts, the multicast and control
 *      sockets open; exit status 1 and "1 problem found";
 *   4. the daemon itself, on the same files, stops at that same problem
 *      with exit status 1 and one line saying so.
 *
 * It prints one line per step and exits 0, or says what failed in one line
 * and exits 1.
 *
 * @module
 */

import { archiveName, packageEntries } from "./package.ts";
import { type CommandResult, runCommand } from "./run_command.ts";
import { notJooldReason } from "./verify_executable.ts";

/** A step that failed, with the line that says why. */
class SmokeFailure extends Error {}

/** `tar -tv` lines as `MODE PATH` (e.g. `-rwxr-xr-x joold-x86_64-linux/joold`). */
function listing(text: string): string[] {
  return text.trim().split("\n").map((line) => {
    const fields = line.trim().split(/\s+/);
    return `${fields[0]} ${fields.at(-1)}`;
  }).sort();
}

function modeString(mode: number, directory: boolean): string {
  const bits = ["r", "w", "x"];
  let text = directory ? "d" : "-";
  for (let i = 8; i >= 0; i--) text += mode & (1 << i) ? bits[(8 - i) % 3] : "-";
  return text;
}

/** What `tar -tv` must list for the archive of `arch`. */
export function expectedListing(arch: string): string[] {
  const top = archiveName(arch).replace(/\.tar\.gz$/, "");
  const entries = packageEntries();
  const dirs = new Set([top]);
  for (const entry of entries) {
    const slash = entry.path.lastIndexOf("/");
    if (slash > 0) dirs.add(`${top}/${entry.path.slice(0, slash)}`);
  }
  return [
    ...[...dirs].map((dir) => `${modeString(0o755, true)} ${dir}/`),
    ...entries.map((entry) => `${modeString(entry.mode, false)} ${top}/${entry.path}`),
  ].sort();
}

/** The verdict and subject of each line of `joold check`, e.g. `ok netsocket`. */
export function verdicts(stdout: string): string[] {
  return stdout.trim().split("\n").map((line) => {
    const match = /^(ok|warn|FAIL|skip) +([^:]+):/.exec(line);
    return match === null ? line : `${match[1]} ${match[2]}`;
  });
}

/** What `joold check` must say in a namespace with the examples' interface and no instance. */
export function expectedVerdicts(joolLoaded: boolean): string[] {
  return [
    "ok netsocket",
    "ok modsocket",
    "ok privileges",
    ...(joolLoaded
      ? ["ok Jool module", "FAIL instance 'default'", "skip session sync"]
      : ["FAIL Jool module", "skip instance 'default'", "skip session sync"]),
    "ok multicast socket",
    "ok control socket",
    "1 problem found",
  ];
}

/**
 * Runs `joold ARGS...` in a new network namespace holding `lo` and an
 * `eth0` (a veth, so that it takes multicast) with 192.0.2.1/24, the
 * address and name the example files use.
 */
function inExampleNamespace(joold: string, args: string[], cwd: string): Promise<CommandResult> {
  const setup = [
    "ip link set lo up",
    "ip link add eth0 type veth peer name eth1",
    "ip addr add 192.0.2.1/24 dev eth0",
    "ip link set eth1 up",
    "ip link set eth0 up",
    'exec "$@"',
  ].join(" && ");
  return runCommand("unshare", ["--net", "--", "sh", "-c", setup, "sh", joold, ...args], { cwd });
}

function joolModuleLoaded(): boolean {
  try {
    Deno.statSync("/sys/module/jool");
    return true;
  } catch {
    return false;
  }
}

async function smokeTest(archive: string, say: (line: string) => void): Promise<void> {
  const arch = /joold-(\w+)-linux\.tar\.gz$/.exec(archive)?.[1];
  if (arch === undefined) throw new SmokeFailure(`${archive} is not named joold-ARCH-linux.tar.gz`);
  const listed = await runCommand("tar", ["-tvzf", archive]);
  if (listed.code !== 0) throw new SmokeFailure(`tar cannot read it: ${listed.stderr.trim()}`);
  const want = expectedListing(arch);
  const got = listing(listed.stdout);
  const missing = want.filter((line) => !got.includes(line));
  const extra = got.filter((line) => !want.includes(line));
  if (missing.length > 0 || extra.length > 0) {
    throw new SmokeFailure(
      `its files differ from scripts/package.ts's: missing [${missing.join(", ")}], ` +
        `unexpected [${extra.join(", ")}]`,
    );
  }
  say(`ok    files: ${want.length} entries with their modes`);

  const dir = await Deno.makeTempDir({ prefix: "joold-smoke-" });
  try {
    const extracted = await runCommand("tar", ["-xzf", archive, "-C", dir]);
    if (extracted.code !== 0) throw new SmokeFailure(`tar -x failed: ${extracted.stderr.trim()}`);
    const folder = `${dir}/${archiveName(arch).replace(/\.tar\.gz$/, "")}`;
    const joold = `${folder}/joold`;
    const reason = await notJooldReason(joold);
    if (reason !== undefined) throw new SmokeFailure(`its joold is not joold: ${reason}`);
    say(`ok    identity: --version and check --help answer as joold`);

    const loaded = joolModuleLoaded();
    for (const netsocket of ["ipv6-netsocket.json", "ipv4-netsocket.json"]) {
      const files = [`examples/${netsocket}`, "examples/modsocket.json"];
      const check = await inExampleNamespace(joold, ["check", ...files], folder);
      const expected = expectedVerdicts(loaded);
      const seen = verdicts(check.stdout);
      if (check.code !== 1 || seen.join("\n") !== expected.join("\n")) {
        throw new SmokeFailure(
          `joold check ${files.join(" ")} exited ${check.code} with [${seen.join("; ")}], ` +
            `expected 1 with [${expected.join("; ")}]${
              check.stderr.trim() ? `: ${check.stderr.trim()}` : ""
            }`,
        );
      }
      say(
        `ok    check ${netsocket}: ${
          seen.filter((line) => line.startsWith("FAIL")).join(", ")
        } only`,
      );
    }

    const daemon = await inExampleNamespace(
      joold,
      ["examples/ipv6-netsocket.json", "examples/modsocket.json"],
      folder,
    );
    const problem = loaded
      ? "lacks an instance named 'default'"
      : "The Jool kernel module is not loaded in this network namespace";
    // A line is `error: ...` after a journal priority or a timestamp, or neither (src/log.ts).
    const errors = daemon.stderr.trim().split("\n").filter((line) =>
      /^(<\d>|\S+Z )?error:/.test(line)
    );
    if (daemon.code !== 1 || errors.length !== 1 || !errors[0].includes(problem)) {
      throw new SmokeFailure(
        `the daemon exited ${daemon.code} with [${errors.join("; ")}], expected 1 and one error ` +
          `line saying "${problem}"`,
      );
    }
    say(`ok    daemon: exit status 1, "${errors[0]}"`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(): Promise<number> {
  if (Deno.args.length !== 1) {
    console.error("Usage: deno task smoke-test ARCHIVE (as root)");
    return 2;
  }
  const archive = Deno.args[0];
  if (Deno.uid() !== 0) {
    console.error(`Smoke test of ${archive} failed: it needs root (a network namespace)`);
    return 1;
  }
  try {
    await smokeTest(archive, console.log);
  } catch (error) {
    if (!(error instanceof SmokeFailure)) throw error;
    console.error(`Smoke test of ${archive} failed: ${error.message}`);
    return 1;
  }
  console.log(`Smoke test of ${archive} passed`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
