/**
 * `joold keygen FILE`: writes a new key file for `"auth key file"` (one
 * random 256-bit key, id 1, current), mode 0600, never over an existing
 * file. The format is in joold(8) and src/auth/key_file.ts.
 *
 * @module
 */

import { createPrivateFile } from "../../ffi/system_files.ts";
import { KEY_BYTES } from "../auth/sealed_datagram.ts";
import { newKeyFileText } from "../auth/key_file.ts";
import { errorText } from "../error_text.ts";
import type { Logger } from "../log.ts";
import { EXIT_FAILURE } from "../exit_status.ts";
import { withLibc } from "./system.ts";

/**
 * Creates the key file; returns the exit status. `id` is the new key's id
 * (default 1; a rotation's next key wants another).
 */
export function runKeygenCommand(
  file: string,
  logger: Logger,
  print: (text: string) => void,
  id = 1,
): Promise<number> {
  return withLibc(logger, (libc) => {
    try {
      const secret = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
      createPrivateFile(libc, file, newKeyFileText(secret, id));
    } catch (error) {
      logger.error(`Cannot create the key file: ${errorText(error)}`);
      return EXIT_FAILURE;
    }
    print(`Wrote ${file}: key ${id} (current), mode 0600; name it in "auth key file"`);
    return 0;
  });
}
