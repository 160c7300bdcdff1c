/**
 * The loaded Jool module's version, as Linux shows it (file I/O: kept out of
 * the pure codecs of src/jool/).
 *
 * @module
 */

import type { Logger } from "./log.ts";
import { parseVersion } from "./jool/header.ts";

/** Where Linux shows a loaded module's version. */
export const JOOL_VERSION_FILE = "/sys/module/jool/version";

/**
 * The Jool module's version (it decides how peers' sessions are encoded
 * and whether JOOLD_ADVERTISE works); null if it cannot be read, with a
 * debug line saying why.
 */
export async function readJoolModuleVersion(
  logger: Logger,
  file = JOOL_VERSION_FILE,
): Promise<number | null> {
  try {
    return parseVersion(await Deno.readTextFile(file));
  } catch (error) {
    logger.debug(`Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}
