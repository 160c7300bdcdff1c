/**
 * Publishing the sync state (src/daemon/sync_state.ts): the status file that
 * `joold status` reads, rewritten atomically on every change and every
 * {@link HEARTBEAT_MS} (its heartbeat, from a timer on the event loop: a
 * stuck loop goes stale), and systemd's `STATUS=` line whenever its text
 * changes. A file that cannot be written is logged (one line per interval)
 * and counted; the daemon syncs on without it.
 *
 * @module
 */

import { errorText } from "../error_text.ts";
import { type Logger, RateLimiter } from "../log.ts";
import { replaceFile } from "./atomic_file.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { DROP_LOG_INTERVAL_MS } from "./drop_report.ts";
import type { ServiceNotifier } from "./service_notify.ts";
import type { SyncCounters } from "../stats/counters.ts";
import { encodeDaemonStatus, HEARTBEAT_MS, type PeersHeard, type SyncState } from "./sync_state.ts";

/** What the publisher works with. */
export interface StatusPublisherDeps {
  state: SyncState;
  /** Where the status file goes, or null: nowhere (no state directory). */
  path: string | null;
  identity: { pid: number; instance: string };
  /** The peers heard so far, by sync origin. */
  peers(): PeersHeard;
  /** Peers with a known gap in what they sent (lossless delivery gave it up); 0 without it. */
  knownGaps(): number;
  /** CLOCK_MONOTONIC in milliseconds, the clock `joold status` judges freshness on. */
  monotonicMs(): number;
  notifier: Pick<ServiceNotifier, "status"> | null;
  clock: Clock;
  logger: Logger;
  /** Where failed writes are counted. */
  counters: Pick<SyncCounters, "statusFileFailures">;
}

/** Writes the status file and STATUS= lines; see the module's doc. */
export class StatusPublisher {
  readonly #deps: StatusPublisherDeps;
  readonly #failureLog = new RateLimiter(DROP_LOG_INTERVAL_MS);
  #timer: TimerHandle | null = null;
  #lastStatusLine: string | null = null;

  constructor(deps: StatusPublisherDeps) {
    this.#deps = deps;
  }

  /** The state as one line, as STATUS= says it. */
  describe(): string {
    return this.#deps.state.describe(this.#deps.peers());
  }

  /** Publishes now, then every {@link HEARTBEAT_MS}. */
  start(): void {
    this.publish();
    this.#timer ??= this.#deps.clock.repeat(() => this.publish(), HEARTBEAT_MS);
  }

  /** Writes the file, and the STATUS= line if its text changed. */
  publish(): void {
    const { state, identity, clock, notifier, path } = this.#deps;
    const peers = this.#deps.peers();
    state.knownGaps = this.#deps.knownGaps();
    const line = state.describe(peers);
    if (line !== this.#lastStatusLine) {
      this.#lastStatusLine = line;
      notifier?.status(line);
    }
    if (path === null) return;
    try {
      const status = state.snapshot(identity, peers, clock.now(), this.#deps.monotonicMs());
      // Readable by all: keepalived's scripts run as another user.
      replaceFile(path, encodeDaemonStatus(status), 0o644);
    } catch (error) {
      this.#failed(`Cannot write the status file ${path}: ${errorText(error)}`);
    }
  }

  /** Stops the heartbeat and removes the file: a daemon that stopped is not running. */
  stop(): void {
    if (this.#timer !== null) this.#deps.clock.clearTimer(this.#timer);
    this.#timer = null;
    if (this.#deps.path === null) return;
    try {
      Deno.removeSync(this.#deps.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#failed(`Cannot remove the status file: ${errorText(error)}`);
      }
    }
  }

  #failed(line: string): void {
    this.#deps.counters.statusFileFailures++;
    const suppressed = this.#failureLog.allow("write", this.#deps.clock.now());
    if (suppressed === null) return;
    this.#deps.logger.warning(
      line + (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : ""),
    );
  }
}
