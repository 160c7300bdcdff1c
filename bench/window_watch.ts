/**
 * The exposure-window benchmark's watcher (bench/window_guest.sh runs it in
 * node 2's namespace): lists the instance's UDP sessions (SESSION_FOREACH,
 * page by page, through the project's kernel link, which does not join the
 * joold group) every INTERVAL_MS until SIGTERM, and prints `EPOCH_MS PORT`
 * the first time a session from CLIENT_ADDRESS shows, EPOCH_MS being the end
 * of that listing. Each listing's `START_MS END_MS` goes to POLLS_FILE.
 * `jool session display` costs ~350 ms a listing under the emulated CPU;
 * this one process lists every few tens of ms.
 *
 * ```sh
 * deno run --allow-all --no-config bench/window_watch.ts 2001:db8:1::2 20 polls.txt
 * ```
 *
 * @module
 */

import { openRequestLink, withSystem } from "../src/commands/system.ts";
import { L4Protocol } from "../src/jool/protocol.ts";
import { decodeSessions } from "../src/jool/session_decode.ts";
import { LevelLogger, stderrSink } from "../src/log.ts";

async function watch(client: string, intervalMs: number, pollsFile: string): Promise<void> {
  const logger = new LevelLogger(
    "warning",
    stderrSink((bytes) => Deno.stderr.writeSync(bytes), "plain"),
  );
  let stopping = false;
  Deno.addSignalListener("SIGTERM", () => stopping = true);
  const polls = await Deno.open(pollsFile, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const seen = new Set<number>();
  await withSystem(logger, async (tools) => {
    const link = await openRequestLink(tools, "default");
    try {
      while (!stopping) {
        const start = performance.timeOrigin + performance.now();
        const ports: number[] = [];
        let after: Uint8Array | null = null;
        for (;;) {
          const page = await link.sessionPage(L4Protocol.UDP, after);
          for (const session of decodeSessions(page.entries, "nested-4.1.0").sessions) {
            if (session.src6.address === client) ports.push(session.src6.port);
          }
          if (!page.more || page.last === null) break;
          after = page.last;
        }
        const end = performance.timeOrigin + performance.now();
        const fresh = ports.filter((port) => !seen.has(port));
        for (const port of fresh) seen.add(port);
        if (fresh.length > 0) {
          console.log(fresh.map((port) => `${end.toFixed(1)} ${port}`).join("\n"));
        }
        await polls.write(encoder.encode(`${start.toFixed(1)} ${end.toFixed(1)}\n`));
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    } finally {
      link.close();
    }
  });
  polls.close();
}

if (import.meta.main) {
  const [client, interval, pollsFile] = Deno.args;
  if (pollsFile === undefined || !/^\d+$/.test(interval)) {
    console.error("Usage: window_watch.ts CLIENT_ADDRESS INTERVAL_MS POLLS_FILE");
    Deno.exit(2);
  }
  await watch(client, Number(interval), pollsFile);
  Deno.exit(0);
}
