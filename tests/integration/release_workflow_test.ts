/**
 * .github/workflows/release.yml, parsed: the steps that make a release
 * users can verify are there, in order, with the permissions they need and
 * no more, and everything they run exists in this checkout. (GitHub alone
 * can run it; this is what can be checked here.)
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { ARCHITECTURES, archiveName } from "../../scripts/package.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  "working-directory"?: string;
}

interface Job {
  needs?: string | string[];
  if?: string;
  "runs-on": string;
  permissions?: Record<string, string>;
  strategy?: { matrix: { include: Record<string, string>[] } };
  env?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  on: { push?: { tags?: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow: Workflow = parse(
  await Deno.readTextFile(`${ROOT}/.github/workflows/release.yml`),
);
const tasks: Record<string, string> = JSON.parse(
  await Deno.readTextFile(`${ROOT}/deno.json`),
).tasks;

/** The index of the first step of `job` whose `run` matches, or that uses `action`. */
function stepIndex(job: Job, what: RegExp | string): number {
  const index = job.steps.findIndex((step) =>
    typeof what === "string" ? step.uses?.split("@")[0] === what : what.test(step.run ?? "")
  );
  assert.notEqual(index, -1, `no step ${what} in ${JSON.stringify(job.steps.map((s) => s.name))}`);
  return index;
}

function step(job: Job, what: RegExp | string): Step {
  return job.steps[stepIndex(job, what)];
}

Deno.test("release workflow: a pushed tag v* starts it; read-only unless a job says otherwise", () => {
  assert.deepEqual(workflow.on.push?.tags, ["v*"]);
  assert.deepEqual(workflow.permissions, { contents: "read" });
  for (const [name, job] of Object.entries(workflow.jobs)) {
    if (name === "release") continue;
    assert.equal(job.permissions, undefined, `${name} asks for permissions`);
  }
});

Deno.test("release workflow: check job refuses a tag that is not the version, then lints and tests", () => {
  const check = workflow.jobs.check;
  const tag = step(check, /task release-tag "\$GITHUB_REF_NAME"/);
  assert.equal(tag.if, "github.ref_type == 'tag'");
  const order = [
    /task release-tag/,
    /deno\.sh fmt --check$/,
    /deno\.sh lint$/,
    /deno\.sh task check$/,
    /deno\.sh test --allow-all src\/ ffi\/ bench\/ tests\/e2e\/$/,
    /^sudo .*deno\.sh test --allow-all tests\/integration\/$/,
  ].map((what) => stepIndex(check, what));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), "check steps out of order");
});

Deno.test("release workflow: each architecture built natively, packaged, smoke-tested, then uploaded", () => {
  const build = workflow.jobs.build;
  assert.equal(build.needs, "check");
  assert.equal(build["runs-on"], "${{ matrix.runner }}");
  const matrix = build.strategy!.matrix.include;
  assert.deepEqual(matrix.map((entry) => entry.arch), [...ARCHITECTURES]);
  for (const entry of matrix) {
    // GitHub's hosted runners: ubuntu-24.04 is x86_64, ubuntu-24.04-arm aarch64.
    assert.equal(entry.runner, entry.arch === "aarch64" ? "ubuntu-24.04-arm" : "ubuntu-24.04");
  }
  assert.equal(build.env?.ARCHIVE, `dist/${archiveName("${{ matrix.arch }}")}`);
  const compile = stepIndex(
    build,
    /task compile --target \$\{\{ matrix\.arch \}\}-unknown-linux-gnu$/,
  );
  const pack = stepIndex(
    build,
    /task package --binary dist\/joold-\$\{\{ matrix\.arch \}\}-linux$/m,
  );
  assert.match(build.steps[pack].run!, /SOURCE_DATE_EPOCH="\$\(git log -1 --format=%ct\)"/);
  const smoke = stepIndex(build, /^sudo .*task smoke-test "\$ARCHIVE"$/);
  const upload = stepIndex(build, "actions/upload-artifact");
  assert.ok(compile < pack && pack < smoke && smoke < upload, "build steps out of order");
  assert.equal(build.steps[upload].with?.path, "${{ env.ARCHIVE }}");
  assert.equal(build.steps[upload].with?.["if-no-files-found"], "error");
});

Deno.test("release workflow: release job checksums, attests and uploads with contents: write", () => {
  const release = workflow.jobs.release;
  assert.equal(release.needs, "build");
  assert.equal(release.if, "github.ref_type == 'tag'");
  assert.deepEqual(release.permissions, {
    contents: "write",
    "id-token": "write",
    attestations: "write",
  });
  const archives = ARCHITECTURES.map(archiveName);
  const download = stepIndex(release, "actions/download-artifact");
  assert.equal(release.steps[download].with?.["merge-multiple"], true);
  assert.equal(release.steps[download].with?.path, "release");
  const sums = stepIndex(release, /^sha256sum .* > SHA256SUMS$/m);
  assert.equal(release.steps[sums]["working-directory"], "release");
  assert.match(
    release.steps[sums].run!,
    new RegExp(`^sha256sum ${archives.join(" ")} > SHA256SUMS$`, "m"),
  );
  assert.match(release.steps[sums].run!, /^sha256sum --check SHA256SUMS$/m);
  const attest = stepIndex(release, "actions/attest-build-provenance");
  assert.equal(release.steps[attest].with?.["subject-path"], "release/joold-*-linux.tar.gz");
  const publish = stepIndex(release, /^gh release create "\$GITHUB_REF_NAME"/);
  const command = release.steps[publish].run!.split(/\s+/);
  assert.ok(command.includes("--verify-tag"), "the release must be of the pushed tag");
  assert.deepEqual(
    command.filter((word) => word.startsWith("release/")),
    [...archives, "SHA256SUMS"].map((file) => `release/${file}`),
  );
  assert.equal(release.steps[publish].env?.GH_TOKEN, "${{ github.token }}");
  assert.ok(download < sums && sums < attest && attest < publish, "release steps out of order");
});

Deno.test("release workflow: actions pinned to a major version; every task and script exists", async () => {
  for (const job of Object.values(workflow.jobs)) {
    for (const s of job.steps) {
      if (s.uses !== undefined) assert.match(s.uses, /^actions\/[a-z-]+@v\d+$/, s.uses);
      for (const [, task] of (s.run ?? "").matchAll(/deno\.sh task ([\w:-]+)/g)) {
        assert.ok(task in tasks, `deno.json has no task ${task}`);
      }
    }
  }
  for (const task of ["compile", "package", "smoke-test", "release-tag"]) {
    for (const [, script] of tasks[task].matchAll(/(scripts\/\S+\.ts)/g)) {
      await Deno.stat(`${ROOT}/${script}`);
    }
  }
});

Deno.test("release workflow: the .deb of each architecture is carried, checksummed, attested and uploaded", () => {
  const build = workflow.jobs.build;
  const uploads = build.steps.filter((s) => s.uses?.startsWith("actions/upload-artifact@"));
  assert.ok(
    uploads.some((s) =>
      s.with?.path === "dist/joold_*.deb" && s.with?.name === "joold-${{ matrix.arch }}-deb" &&
      s.with?.["if-no-files-found"] === "error"
    ),
    JSON.stringify(uploads),
  );
  const release = workflow.jobs.release;
  const downloads = release.steps.filter((s) => s.uses?.startsWith("actions/download-artifact@"));
  assert.ok(downloads.some((s) => s.with?.pattern === "joold-*-deb" && s.with?.path === "release"));
  const sums = stepIndex(release, /^sha256sum joold_\*\.deb >> SHA256SUMS$/m);
  assert.ok(
    release.steps[sums].run!.indexOf(">> SHA256SUMS") <
      release.steps[sums].run!.indexOf("--check"),
    "checked after",
  );
  assert.ok(
    release.steps.some((s) =>
      s.uses?.startsWith("actions/attest-build-provenance@") &&
      s.with?.["subject-path"] === "release/joold_*.deb"
    ),
  );
  const create = stepIndex(release, /^gh release create /);
  const upload = stepIndex(
    release,
    /^gh release upload "\$GITHUB_REF_NAME" .* release\/joold_\*\.deb$/,
  );
  assert.ok(create < upload, "uploaded to the release once it exists");
});
