/**
 * `joold [NETSOCKET] [MODSOCKET] [PORT]`: the Jool session-synchronisation
 * daemon, and its commands (`joold check`, `advertise`, `proxy`, `follow`,
 * `keygen`). The command line is read in src/commands/cli.ts.
 *
 * @module
 */

import { runJoold } from "./src/commands/cli.ts";

if (import.meta.main) Deno.exit(await runJoold(Deno.args));
