/**
 * systemd's notification protocol (sd_notify(3), `Type=notify`): datagrams
 * of `KEY=VALUE` lines to the AF_UNIX socket named by `$NOTIFY_SOCKET` (a
 * path, or an abstract name after `@`). joold says `READY=1` once it is
 * synchronising, `STATUS=` as its sync state changes, `WATCHDOG=1` every
 * half `$WATCHDOG_USEC` from a timer on its event loop (a stuck loop stops
 * the pings, and systemd restarts it), `RELOADING=1` and `READY=1` around
 * SIGHUP, `STOPPING=1` when it stops.
 *
 * Without `$NOTIFY_SOCKET` every call does nothing. A failed send is
 * logged (one line per interval) and counted, never fatal: the service
 * manager is not the sync.
 *
 * @module
 */

import { AF_UNIX, SOCK_DGRAM } from "../../ffi/constants.ts";
import { sockaddrUn } from "../../ffi/sockaddr.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import { errorText } from "../error_text.ts";
import { type Logger, RateLimiter } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { DROP_LOG_INTERVAL_MS } from "./drop_report.ts";

/** The variables systemd sets for the protocol: the executable may read these (scripts/runtime_flags.ts). */
export const NOTIFY_VARIABLES = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;

/** The protocol's variables as found, unset ones absent. */
export type NotifyEnvironment = Partial<Record<typeof NOTIFY_VARIABLES[number], string>>;

/** The process environment's protocol variables. */
export function readNotifyEnvironment(): NotifyEnvironment {
  const found: NotifyEnvironment = {};
  for (const name of NOTIFY_VARIABLES) {
    const value = Deno.env.get(name);
    if (value !== undefined) found[name] = value;
  }
  return found;
}

/** What the daemon does with the protocol, read from its variables. */
export interface NotifySettings {
  /** Where to send, or null: notifications off. */
  socket: string | null;
  /** Milliseconds between `WATCHDOG=1`, or null: no watchdog (or not for us). */
  watchdogIntervalMs: number | null;
  /** Variables that could not be used, one line each, for the log. */
  problems: string[];
}

/**
 * Reads the variables for process `pid`: the watchdog pings every half
 * `$WATCHDOG_USEC` (as sd_watchdog_enabled(3) advises), only if
 * `$WATCHDOG_PID` is unset or names `pid` (the variables may have been
 * inherited from a parent that systemd watches).
 */
export function notifySettings(environment: NotifyEnvironment, pid: number): NotifySettings {
  const problems: string[] = [];
  const socket = environment.NOTIFY_SOCKET ?? "";
  const usec = environment.WATCHDOG_USEC;
  const watchdogPid = environment.WATCHDOG_PID;
  let watchdogIntervalMs: number | null = null;
  if (usec !== undefined && (watchdogPid === undefined || watchdogPid === String(pid))) {
    const microseconds = /^\d{1,15}$/.test(usec) ? Number(usec) : 0;
    if (microseconds > 0) watchdogIntervalMs = microseconds / 2 / 1000;
    else problems.push(`WATCHDOG_USEC='${usec}' is not a positive number: no watchdog pings`);
  }
  if (socket === "") {
    if (watchdogIntervalMs !== null) problems.push("WATCHDOG_USEC without NOTIFY_SOCKET: ignored");
    return { socket: null, watchdogIntervalMs: null, problems };
  }
  return { socket, watchdogIntervalMs, problems };
}

/**
 * One notification: `KEY=VALUE` lines. A value's line breaks become spaces
 * (a STATUS= text cannot start a line of its own).
 */
export function notifyMessage(fields: readonly (readonly [string, string])[]): string {
  return fields.map(([key, value]) => `${key}=${value.replace(/[\r\n]+/g, " ")}`).join("\n") +
    "\n";
}

/** What the notifier works with. */
export interface ServiceNotifierDeps {
  sockets: Pick<Sockets, "open" | "send" | "close">;
  logger: Logger;
  clock: Clock;
  /** Where failed sends are counted. */
  counters: Pick<SyncCounters, "serviceNotifyFailures">;
}

/** Speaks the protocol; see the module's doc. */
export class ServiceNotifier {
  readonly #deps: ServiceNotifierDeps;
  readonly #destination: Uint8Array | null;
  readonly #socketName: string | null;
  readonly #watchdogIntervalMs: number | null;
  readonly #failureLog = new RateLimiter(DROP_LOG_INTERVAL_MS);
  #fd: number | null = null;
  #watchdog: TimerHandle | null = null;

  constructor(settings: NotifySettings, deps: ServiceNotifierDeps) {
    this.#deps = deps;
    for (const problem of settings.problems) deps.logger.warning(problem);
    let destination: Uint8Array | null = null;
    if (settings.socket !== null) {
      try {
        destination = sockaddrUn(settings.socket);
      } catch (error) {
        deps.logger.warning(`NOTIFY_SOCKET='${settings.socket}': ${errorText(error)}`);
      }
    }
    this.#destination = destination;
    this.#socketName = destination === null ? null : settings.socket;
    this.#watchdogIntervalMs = destination === null ? null : settings.watchdogIntervalMs;
  }

  /** Whether notifications go anywhere. */
  get enabled(): boolean {
    return this.#destination !== null;
  }

  /** Milliseconds between watchdog pings, or null if there are none. */
  get watchdogIntervalMs(): number | null {
    return this.#watchdogIntervalMs;
  }

  /** `READY=1`, with the state as `STATUS=` if given. */
  ready(status?: string): void {
    this.#send([["READY", "1"], ...(status === undefined ? [] : [["STATUS", status] as const])]);
  }

  /** `STATUS=`: one line for `systemctl status`. */
  status(text: string): void {
    this.#send([["STATUS", text]]);
  }

  /**
   * `RELOADING=1` with `MONOTONIC_USEC=` (CLOCK_MONOTONIC, which systemd
   * requires with it): `monotonicUs` reads that clock.
   */
  reloading(monotonicUs: () => bigint): void {
    if (this.#destination === null) return;
    let now: bigint;
    try {
      now = monotonicUs();
    } catch (error) {
      this.#failed("RELOADING=1", errorText(error));
      return;
    }
    this.#send([["RELOADING", "1"], ["MONOTONIC_USEC", String(now)]]);
  }

  /** `STOPPING=1`. */
  stopping(): void {
    this.#send([["STOPPING", "1"]]);
  }

  /** `WATCHDOG=1`. */
  watchdog(): void {
    this.#send([["WATCHDOG", "1"]]);
  }

  /**
   * Pings the watchdog now and every {@link watchdogIntervalMs} from a timer,
   * which runs only while the event loop turns.
   */
  startWatchdog(): void {
    if (this.#watchdogIntervalMs === null || this.#watchdog !== null) return;
    this.watchdog();
    this.#watchdog = this.#deps.clock.repeat(() => this.watchdog(), this.#watchdogIntervalMs);
  }

  /** Stops the pings and closes the socket. Idempotent. */
  close(): void {
    if (this.#watchdog !== null) this.#deps.clock.clearTimer(this.#watchdog);
    this.#watchdog = null;
    if (this.#fd === null) return;
    try {
      this.#deps.sockets.close(this.#fd, "NOTIFY_SOCKET");
    } catch {
      // The descriptor is gone either way.
    }
    this.#fd = null;
  }

  #send(fields: readonly (readonly [string, string])[]): void {
    if (this.#destination === null) return;
    const text = notifyMessage(fields);
    try {
      this.#fd ??= this.#deps.sockets.open(AF_UNIX, SOCK_DGRAM, 0, "AF_UNIX, NOTIFY_SOCKET");
      const sent = this.#deps.sockets.send(
        this.#fd,
        new TextEncoder().encode(text),
        this.#destination,
        `NOTIFY_SOCKET ${this.#socketName}`,
      );
      if (sent === null) this.#failed(text, "the service manager's socket is full");
    } catch (error) {
      this.#failed(text, errorText(error));
    }
  }

  #failed(text: string, why: string): void {
    this.#deps.counters.serviceNotifyFailures++;
    const suppressed = this.#failureLog.allow("send", this.#deps.clock.now());
    if (suppressed === null) return;
    const what = text.trimEnd().replaceAll("\n", " ");
    this.#deps.logger.warning(
      `Cannot tell the service manager ${what}: ${why}` +
        (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : ""),
    );
  }
}
