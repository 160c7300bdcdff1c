/**
 * `joold keygen [--group GROUP] FILE`: writes a new key file for
 * `"auth key file"` (one random 256-bit key, id 1, current), never over an
 * existing file. Given to GROUP with mode 0640 when that group exists (by
 * default the units' group, joold), so that the daemon the units run as
 * reads it; otherwise mode 0600. The format is in joold(8) and
 * src/auth/key_file.ts.
 *
 * @module
 */

import { createPrivateFile } from "../../ffi/system_files.ts";
import { lookupGroup } from "../../ffi/accounts.ts";
import { KEY_BYTES } from "../auth/sealed_datagram.ts";
import { newKeyFileText } from "../auth/key_file.ts";
import { errorText } from "../error_text.ts";
import type { Logger } from "../log.ts";
import { EXIT_FAILURE } from "../exit_status.ts";
import { DAEMON_ACCOUNT, withLibc } from "./system.ts";

/**
 * Creates the key file; returns the exit status. `id` is the new key's id
 * (default 1; a rotation's next key wants another). `group`: the group to
 * give it to, which must exist; null: the units' group if it exists, else
 * none (mode 0600, said in the printed line).
 */
export function runKeygenCommand(
  file: string,
  logger: Logger,
  print: (text: string) => void,
  id = 1,
  group: string | null = null,
): Promise<number> {
  return withLibc(logger, (libc) => {
    const groupName = group ?? DAEMON_ACCOUNT;
    const gid = lookupGroup(libc, groupName);
    if (gid === null && group !== null) {
      logger.error(`Cannot create the key file: --group ${group}: no such group`);
      return EXIT_FAILURE;
    }
    try {
      const secret = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
      createPrivateFile(libc, file, newKeyFileText(secret, id), gid);
    } catch (error) {
      logger.error(`Cannot create the key file: ${errorText(error)}`);
      return EXIT_FAILURE;
    }
    print(
      gid === null
        ? `Wrote ${file}: key ${id} (current), mode 0600 (no group ${groupName} here: ` +
          `only its owner reads it); name it in "auth key file"`
        : `Wrote ${file}: key ${id} (current), group ${groupName}, mode 0640; ` +
          `name it in "auth key file"`,
    );
    return 0;
  });
}
