/**
 * The convergence benchmark's starter (bench/convergence_guest.sh runs it
 * in a namespace of the sync link with no daemon): sends the start of a
 * convergence round (a DIGEST of no bucket, src/sync/table_digest.ts) to
 * the daemons' control port, as a daemon's timer would, so that the round
 * comes when the tables are full and not at the daemons' own times. Prints
 * the round's id as the daemons log it (8 hex digits) and when the start
 * went out (epoch ms).
 *
 * ```sh
 * round_start.ts --interface sync0 --group ff08::db8:64:64 --port 6465
 * ```
 *
 * Not part of the daemon: a measuring tool, run with --allow-all.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Libc } from "../ffi/libc.ts";
import { encodeRoundStart } from "../src/sync/table_digest.ts";
import { newRoundId, roundName } from "../src/daemon/convergence_check.ts";
import { syncSocket } from "../tests/e2e/lib/garbage_datagrams.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      group: { type: "string", default: "ff08::db8:64:64" },
      port: { type: "string", default: "6465" },
      interface: { type: "string", default: "sync0" },
      instance: { type: "string", default: "default" },
    },
  });
  const socket = syncSocket(Libc.open(), values.group, Number(values.port), values.interface);
  const id = newRoundId();
  if (!socket.send(encodeRoundStart(values.instance, id))) {
    console.error("round_start: the start could not be sent now (socket busy)");
    Deno.exit(1);
  }
  console.log(`${roundName(id)} ${Date.now()}`);
  Deno.exit(0);
}
