/**
 * The daemon's version, written here and nowhere else: `joold --version`,
 * the stats answers and the metrics read it; the release packaging stamps
 * it into the man page (scripts/package.ts), and the release workflow
 * refuses a tag that is not `v` + it (scripts/release_tag.ts).
 *
 * @module
 */

/** This daemon's version. */
export const VERSION = "0.1.0";

/** The Jool release whose joold this daemon is compatible with. */
export const REFERENCE_VERSION = "4.1.14";
