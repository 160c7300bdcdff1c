/**
 * The loaded Jool module's version, as Linux shows it (file I/O: kept out of
 * the pure codecs of src/jool/).
 *
 * @module
 */

import { errorText } from "./error_text.ts";
import type { Libc } from "../ffi/libc.ts";
import { readSystemFile } from "../ffi/system_files.ts";
import type { Logger } from "./log.ts";
import { parseVersion } from "./jool/header.ts";

/** Where Linux shows a loaded module's version. */
export const JOOL_VERSION_FILE = "/sys/module/jool/version";

/**
 * The Jool module's version (it decides how peers' sessions are encoded
 * and whether JOOLD_ADVERTISE works); null if it cannot be read, with a
 * debug line saying why. Read through libc: Deno refuses /sys to the
 * shipped binary's `--allow-read` (see ffi/system_files.ts).
 */
export function readJoolModuleVersion(
  libc: Libc,
  logger: Logger,
  file = JOOL_VERSION_FILE,
): number | null {
  try {
    return parseVersion(readSystemFile(libc, file));
  } catch (error) {
    logger.debug(`Cannot read ${file}: ${errorText(error)}`);
    return null;
  }
}
