/**
 * `deno task release-tag TAG`: succeeds if TAG is `v` followed by the
 * version in src/version.ts (the only place the version is written), else
 * says why in one line and exits 1. The release workflow runs it first, so
 * that a release never carries binaries whose `--version` disagrees with
 * its tag.
 *
 * @module
 */

import { VERSION } from "../src/version.ts";

/** A version as the releases use it: three numbers, optionally a pre-release suffix. */
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** Why `tag` cannot release `version`, or undefined if it can. */
export function tagMismatch(tag: string, version: string = VERSION): string | undefined {
  if (!SEMVER.test(version)) {
    return `src/version.ts: VERSION must be MAJOR.MINOR.PATCH[-SUFFIX], got "${version}"`;
  }
  if (tag !== `v${version}`) {
    return `tag "${tag}" does not match the version in src/version.ts: expected "v${version}"`;
  }
  return undefined;
}

if (import.meta.main) {
  const tag = Deno.args[0];
  if (tag === undefined || Deno.args.length > 1) {
    console.error("Usage: deno task release-tag TAG");
    Deno.exit(2);
  }
  const problem = tagMismatch(tag);
  if (problem !== undefined) {
    console.error(`Release refused: ${problem}`);
    Deno.exit(1);
  }
  console.log(`Tag ${tag} matches joold ${VERSION}`);
}
