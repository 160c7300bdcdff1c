/**
 * The daemon's sync path on fakes, for unit tests: a fake Jool instance of
 * one version, a kernel link on it, an in-memory group, a manual clock,
 * counters, and a logger that keeps its lines. What Daemon.start wires on
 * sockets, without root.
 *
 * @module
 */

import { DropReporter } from "../../src/daemon/drop_report.ts";
import { FlushNudge } from "../../src/daemon/flush_nudge.ts";
import { LocalJool } from "../../src/daemon/local_jool.ts";
import type { PeerChannel } from "../../src/daemon/peer_channel.ts";
import { SyncMeasures } from "../../src/daemon/measures.ts";
import { type SyncPath, wireSyncPath } from "../../src/daemon/sync_path.ts";
import { LevelLogger, type Logger } from "../../src/log.ts";
import { SyncCounters } from "../../src/stats/counters.ts";
import type { KernelLink } from "../../src/sync/kernel_link.ts";
import type { InstanceControl } from "../../src/daemon/instance_setup.ts";
import { FakeJool, fakeJoolLink, type FakeJoolOptions } from "./fake_jool.ts";
import { ManualClock } from "./manual_clock.ts";
import { MemoryPeerChannel } from "./memory_peer_channel.ts";

/** How the harness starts. */
export interface SyncHarnessOptions extends FakeJoolOptions {
  /**
   * The version the daemon read at start (/sys/module/jool/version):
   * default the fake's, null for unknown.
   */
  moduleVersion?: number | null;
  /** The instance the daemon syncs (its modsocket file's); default the fake's one. */
  daemonInstance?: string;
  /** Bytes the channel adds to each datagram (sealing); default 0. */
  datagramOverhead?: number;
  /** Nudge the kernel this long after the last batch (src/daemon/flush_nudge.ts); default never. */
  flushNudgeDelayMs?: number | null;
  /**
   * Puts a channel between the sync path and the group (e.g. a guarded
   * one); default none: the sync path uses `channel` itself.
   */
  wrapChannel?: (
    group: MemoryPeerChannel,
    clock: ManualClock,
    counters: SyncCounters,
  ) => PeerChannel;
}

/** Everything a test of the sync path looks at. */
export interface SyncHarness {
  jool: FakeJool;
  link: KernelLink;
  /** The group, as the daemon's network socket. */
  channel: MemoryPeerChannel;
  clock: ManualClock;
  counters: SyncCounters;
  measures: SyncMeasures;
  /** `level: line`, from the end of the set-up on. */
  logs: string[];
  logger: Logger;
  local: LocalJool;
  drops: DropReporter;
  /** Both relays and the advertiser, wired to `link` and `channel`. */
  sync: SyncPath;
}

/** A wired sync path on a fake Jool; the set-up's log lines are left out. */
export async function syncHarness(options: SyncHarnessOptions): Promise<SyncHarness> {
  const logs: string[] = [];
  const logger = new LevelLogger("debug", (level, line) => logs.push(`${level}: ${line}`));
  const counters = new SyncCounters();
  const clock = new ManualClock();
  const measures = new SyncMeasures(clock.now());
  const jool = new FakeJool(options);
  const link = await fakeJoolLink(
    jool,
    { logger, counters, ackLatency: measures.ackLatency },
    options.daemonInstance,
  );
  const channel = new MemoryPeerChannel();
  const local = new LocalJool(
    options.moduleVersion === undefined ? options.version : options.moduleVersion,
    logger,
  );
  const drops = new DropReporter(logger, clock);
  const delayMs = options.flushNudgeDelayMs ?? null;
  const flushNudge = delayMs === null
    ? null
    : new FlushNudge({ clock, delayMs, nudge: () => link.nudge() });
  const sync = wireSyncPath({
    kernel: link,
    channel: options.wrapChannel?.(channel, clock, counters) ?? channel,
    jool: local,
    drops,
    measures,
    counters,
    logger,
    clock,
    datagramOverhead: options.datagramOverhead,
    flushNudge,
  });
  logs.length = 0;
  return { jool, link, channel, clock, counters, measures, logs, logger, local, drops, sync };
}

/** Lets the fake kernel's answers, and what they set off, arrive. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Awaits `work` while moving `clock` on a millisecond at a time, for work
 * that waits on the clock's timers (a table dump pauses between pages).
 */
export async function whileTimePasses<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  while (!done) {
    clock.advance(1);
    await settle();
  }
  return result;
}

/** Moves `clock` on by `ms`, a millisecond at a time, letting what each sets off run. */
export async function letTimePass(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    await settle();
  }
}

/**
 * `link` as the instance setup uses it, except that setting a global
 * without waiting fails with `message`: a socket that cannot send at exit.
 */
export function failingSetNow(link: KernelLink, message: string): InstanceControl {
  return {
    probe: () => link.probe(),
    updateGlobal: link.updateGlobal.bind(link),
    readGlobalNumber: link.readGlobalNumber.bind(link),
    setGlobalNow: () => {
      throw new Error(message);
    },
  };
}
