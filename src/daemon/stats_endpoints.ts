/**
 * The daemon's counters on the network, each if configured: the stats port
 * (UDP, the reference's six lines or JSON) and the Prometheus endpoint
 * (TCP, HTTP).
 *
 * @module
 */

import type { Sockets } from "../../ffi/sockets.ts";
import type { Logger } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import { MetricsServer, type ReadinessRegistry } from "../stats/metrics_server.ts";
import { formatPrometheus } from "../stats/prometheus.ts";
import { statsAnswer, type StatsSources } from "../stats/report.ts";
import { StatsServer } from "../stats/stats_server.ts";
import { VERSION } from "../version.ts";
import { RateLimiter } from "../log.ts";
import { formatIp } from "../net/ip.ts";
import type { Clock } from "./clock.ts";
import type { SyncMeasures } from "./measures.ts";

/** Which endpoints to open. */
export interface StatsEndpointsConfig {
  /** UDP port of the stats server, or null for none. */
  statsPort: number | null;
  /** The one address (4 or 16 bytes) the stats server serves; null: all. */
  statsAddress: Uint8Array | null;
  /** TCP port of the Prometheus endpoint, or null for none. */
  metricsPort: number | null;
  /** The one address the metrics port listens on; null/absent: every address. */
  metricsAddress?: Uint8Array | null;
  /** The instance the stats are of. */
  instance: string;
}

/** What the endpoints run on and report. */
export interface StatsEndpointsDeps {
  sockets: Sockets;
  reactor: ReadinessRegistry;
  logger: Logger;
  clock: Clock;
  counters: SyncCounters;
  measures: SyncMeasures;
}

/** One log line per source host of refused stats requests per this interval. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** Something to close at exit. */
export interface Closable {
  close(): void;
}

/**
 * Opens the configured endpoints on the reactor; each goes into `opened`
 * as soon as it is open, so that the caller closes it even if the next one
 * fails. Throws SyscallError if a port cannot be opened.
 */
export function openStatsEndpoints(
  config: StatsEndpointsConfig,
  deps: StatsEndpointsDeps,
  opened: Closable[],
): void {
  const { sockets, reactor, logger, clock, counters, measures } = deps;
  const sources: StatsSources = {
    counters,
    peers: measures.peers,
    ackLatency: measures.ackLatency,
    relayLatency: measures.relayLatency,
    startedMs: measures.startedMs,
    lastSyncMs: () => measures.lastSyncMs,
    delivery: () => measures.deliveryStates?.() ?? new Map(),
    instance: config.instance,
    version: VERSION,
  };
  if (config.statsPort !== null) {
    // One line per source host and interval (and 20 in all): a flood of
    // forged requests must not flood the log either.
    const refusals = new RateLimiter(REFUSAL_LOG_INTERVAL_MS);
    const address = config.statsAddress;
    const stats = StatsServer.open(
      sockets,
      config.statsPort,
      (request) => statsAnswer(request, sources, clock.now()),
      {
        address,
        counters,
        now: () => clock.now(),
        onRefused: (reason, source) => {
          const suppressed = refusals.allow(source, clock.now());
          if (suppressed === null) return;
          logger.warning(
            `Stats port: no answer to ${source}: ${reason}` +
              (suppressed > 0 ? ` (and ${suppressed} more since the last report)` : "") +
              " (count: statsRefused)",
          );
        },
      },
    );
    opened.push(stats);
    reactor.watch(stats.fd, { readable: true }, () => stats.serve());
    logger.info(
      `Stats server listening on UDP port ${config.statsPort} ` +
        (address === null ? "(IPv4 and IPv6)" : `of ${formatIp(address)}`),
    );
  }
  if (config.metricsPort !== null) {
    const metricsAddress = config.metricsAddress ?? null;
    opened.push(
      MetricsServer.open(
        sockets,
        reactor,
        config.metricsPort,
        () => formatPrometheus(sources),
        clock,
        metricsAddress,
      ),
    );
    logger.info(
      metricsAddress === null
        ? `Prometheus metrics at http://[::]:${config.metricsPort}/metrics (TCP, IPv4 and IPv6)`
        : `Prometheus metrics at http://${formatHostPort(metricsAddress, config.metricsPort)}` +
          "/metrics (TCP, that address only)",
    );
  }
}

/** `192.0.2.1:9464` or `[2001:db8::1]:9464`. */
function formatHostPort(address: Uint8Array, port: number): string {
  return address.byteLength === 4
    ? `${formatIp(address)}:${port}`
    : `[${formatIp(address)}]:${port}`;
}
