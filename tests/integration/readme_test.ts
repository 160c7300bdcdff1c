/**
 * The README as a new user reads it: what it is and the two commands first,
 * install from a release in four lines, and nothing it asks to run that no
 * test or scenario runs. Also: its and docs/'s links lead somewhere, and the
 * man page renders.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { ARCHITECTURES, archiveName, packageEntries } from "../../scripts/package.ts";
import { runCommand } from "../../scripts/run_command.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = await Deno.readTextFile(`${ROOT}/README.md`);

/** The lines of each ```sh block of `markdown`, comments and blank lines dropped. */
function shellBlocks(markdown: string): string[][] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) =>
    match[1].split("\n").map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line !== "")
  );
}

/**
 * Every command the README gives, and what runs it: a file, and what in it
 * shows that it runs that very line.
 */
const RUN_BY: { command: RegExp; file: string; evidence: RegExp }[] = [
  {
    command: /^scripts\/deno\.sh task demo$/,
    file: "tests/e2e/demo_test.ts",
    evidence: /new Deno\.Command\("scripts\/deno\.sh", \{\n\s+args: \["task", "demo"\]/,
  },
  {
    command: /^bash scripts\/test\.sh$/,
    file: ".ci/run",
    evidence: /^exec bash scripts\/test\.sh$/m,
  },
  // The four install lines, run as written but for the URL, by the install scenario.
  {
    command: /^(curl|tar|sudo joold-\$\(uname -m\)-linux\/install\.sh)/,
    file: "tests/e2e/scenarios/install.sh",
    evidence:
      /readme_block "Install from a release" 1 >"\$out\/readme-install\.sh"[\s\S]*bash -e "\$out\/readme-install\.sh"/,
  },
  {
    command: /^sudo joold check \/etc\/joold\/netsocket\.json \/etc\/joold\/modsocket\.json$/,
    file: "tests/e2e/scenarios/install.sh",
    evidence:
      /check_line=\$\(grep '\^sudo joold check ' "\$out\/readme-start\.sh"\)[\s\S]*check_node j1 "\$check_line"/,
  },
  // No systemd in the VM: the scenario runs the unit this line names, as systemd would.
  {
    command: /^sudo systemctl enable --now joold$/,
    file: "tests/e2e/scenarios/install.sh",
    evidence:
      /unit=\$\(sed -n 's\/\^sudo systemctl enable --now [^\n]*\n[\s\S]*supervise j1 "\$units\/\$unit\.service"/,
  },
];

Deno.test("README: what it is, then the demo and the test commands within its first 40 lines", () => {
  const lines = README.split("\n");
  const at = (text: string) => lines.findIndex((line) => line.startsWith(text));
  assert.match(lines[0], /^# joold/);
  assert.ok(lines.slice(1, 12).join(" ").includes("session-synchronisation daemon"));
  for (const command of ["scripts/deno.sh task demo", "bash scripts/test.sh"]) {
    const line = at(command);
    assert.ok(line >= 0 && line < 40, `"${command}" is on line ${line + 1}`);
  }
  const install = at("## Install from a release");
  assert.ok(install >= 0 && install < 40, `the install section starts on line ${install + 1}`);
  assert.equal(shellBlocks(README.slice(README.indexOf("## Install from a release")))[0].length, 4);
});

Deno.test("README: every command in it is run by a test or a scenario", async () => {
  const commands = shellBlocks(README).flat();
  const unrun = commands.filter((command) => !RUN_BY.some((run) => run.command.test(command)));
  assert.deepEqual(unrun, [], "commands no test runs (add the test and a RUN_BY entry)");
  for (const run of RUN_BY) {
    assert.ok(commands.some((command) => run.command.test(command)), `${run.command}: gone`);
    assert.match(await Deno.readTextFile(`${ROOT}/${run.file}`), run.evidence, run.file);
  }
});

Deno.test("README: the install lines fetch what the release workflow publishes", async () => {
  const [install] = shellBlocks(README.slice(README.indexOf("## Install from a release")));
  const base = "https://github.com/OWNER/joold/releases/latest/download/";
  const fetched = install.flatMap((line) =>
    [...line.matchAll(/https:\/\/(?:\$\([^)]*\)|[^\s$])+/g)].map((match) => match[0])
  );
  assert.deepEqual(fetched, [`${base}joold-$(uname -m)-linux.tar.gz`, `${base}SHA256SUMS`]);
  const workflow = parse(await Deno.readTextFile(`${ROOT}/.github/workflows/release.yml`));
  const publish = workflow.jobs.release.steps.find((step: { run?: string }) =>
    step.run?.startsWith("gh release create")
  );
  // `uname -m` says x86_64 or aarch64: the names of the archives.
  for (const arch of ARCHITECTURES) {
    assert.ok(publish.run.includes(`release/${archiveName(arch)}`), arch);
    assert.equal(fetched[0].replace("$(uname -m)", arch), `${base}${archiveName(arch)}`);
  }
  assert.ok(publish.run.includes("release/SHA256SUMS"));
  // Chained with &&, so a failed download or checksum stops the lines after it.
  assert.equal(install[2], "tar -xzf joold-$(uname -m)-linux.tar.gz &&");
  assert.equal(install[3], "sudo joold-$(uname -m)-linux/install.sh");
  assert.ok(packageEntries().some((entry) => entry.path === "install.sh" && entry.mode === 0o755));
});

Deno.test({
  name: "README: the install lines stop at the first that fails",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const [install] = shellBlocks(README.slice(README.indexOf("## Install from a release")));
    assert.ok(install.slice(0, -1).every((line) => line.endsWith(" &&")), install.join("\n"));
    // Run with every command failing but the one given: nothing after a failure runs.
    const dir = await Deno.makeTempDir({ prefix: "joold-readme-" });
    try {
      for (const command of ["curl", "sha256sum", "tar", "sudo"]) {
        await Deno.writeTextFile(
          `${dir}/${command}`,
          `#!/bin/sh\necho ${command} >>${dir}/ran\nexit 1\n`,
        );
        await Deno.chmod(`${dir}/${command}`, 0o755);
      }
      const result = await runCommand("sh", ["-c", install.join("\n")], {
        cwd: dir,
        env: { PATH: `${dir}:/usr/bin:/bin` },
      });
      assert.notEqual(result.code, 0);
      // The first download fails: nothing else runs.
      assert.equal(await Deno.readTextFile(`${dir}/ran`), "curl\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("README: it says the binaries need glibc, and how Debian's own joold is handled", () => {
  for (const fact of ["glibc", "musl", "/usr/bin/joold", "`joold(8)`", "/usr/local"]) {
    assert.ok(README.includes(fact), fact);
  }
});

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-");
}

Deno.test("README and docs/: every relative link leads to a file, and an anchor to a heading", async () => {
  const files = ["README.md", "BENCHMARKS.md"];
  for await (const entry of Deno.readDir(`${ROOT}/docs`)) files.push(`docs/${entry.name}`);
  const broken: string[] = [];
  for (const file of files.filter((f) => f === "README.md" || f.startsWith("docs/"))) {
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const resolved = path === "" ? file : new URL(path, `file:///${dir}`).pathname.slice(1);
      let content: string | undefined;
      try {
        const info = await Deno.stat(`${ROOT}/${resolved}`);
        if (info.isFile) content = await Deno.readTextFile(`${ROOT}/${resolved}`);
      } catch {
        broken.push(`${file}: ${target} (no such file)`);
        continue;
      }
      if (anchor === undefined) continue;
      const headings = [...(content ?? "").matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]));
      if (!headings.includes(anchor)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("the docs/*.md that code, units, scripts and workflows name exist", async () => {
  const missing: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (/\.(ts|sh|ya?ml|service|conf|8)$/.test(entry.name)) {
        const text = await Deno.readTextFile(`${ROOT}/${path}`);
        for (const [doc] of text.matchAll(/\bdocs\/[a-z_]+\.md\b/g)) {
          try {
            await Deno.stat(`${ROOT}/${doc}`);
          } catch {
            missing.push(`${path}: ${doc}`);
          }
        }
      }
    }
  };
  for (const dir of ["src", "ffi", "scripts", "packaging", "bench", "tests", ".github"]) {
    await walk(dir);
  }
  assert.deepEqual(missing, []);
});

Deno.test({
  name: "the man page renders without warnings, with the README's `man -l packaging/joold.8`",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    assert.ok(README.includes("`man -l packaging/joold.8`"));
    let result;
    try {
      result = await runCommand("man", ["--warnings", "-l", "packaging/joold.8"], {
        cwd: ROOT,
        env: { MANPAGER: "cat", MANWIDTH: "80" },
      });
    } catch {
      console.error("man page rendering skipped: no man");
      return;
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.match(result.stdout, /^DIFFERENCES FROM THE REFERENCE JOOLD$/m);
  },
});
