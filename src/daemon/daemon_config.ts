/**
 * What the daemon (src/daemon.ts) runs with and on.
 *
 * @module
 */

import type { Libc } from "../../ffi/libc.ts";
import type { Sockets } from "../../ffi/sockets.ts";
import type { KeyRing } from "../auth/sealed_datagram.ts";
import type { ModsocketConfig } from "../config/modsocket.ts";
import type { NetsocketConfig } from "../config/netsocket.ts";
import type { Logger } from "../log.ts";
import type { SyncCounters } from "../stats/counters.ts";
import type { ServiceNotifier } from "./service_notify.ts";

/** What the daemon runs with. */
export interface DaemonConfig {
  netsocket: NetsocketConfig;
  modsocket: ModsocketConfig;
  /** UDP port of the stats server, or null for none. */
  statsPort: number | null;
  /** The one address (4 or 16 bytes) the stats server serves; null: all. */
  statsAddress: Uint8Array | null;
  /** TCP port of the Prometheus endpoint, or null for none. */
  metricsPort: number | null;
  /** The one address the metrics port listens on; null/absent: every address. */
  metricsAddress?: Uint8Array | null;
  /** The local Jool module's version, if known (e.g. /sys/module/jool/version). */
  kernelVersion: number | null;
  /** The keys of `"auth key file"`, or null: sync in clear. */
  keys: KeyRing | null;
  /**
   * Where the operator's values of raised globals are kept (a state file
   * per instance and namespace, src/daemon/tuning_state.ts); absent:
   * DEFAULT_STATE_DIRECTORY (/run/joold); null: nowhere (tests).
   */
  stateDirectory?: string | null;
}

/** What the daemon runs on. */
export interface DaemonDeps {
  libc: Libc;
  sockets: Sockets;
  logger: Logger;
  counters: SyncCounters;
  /** The service manager (systemd's notifications), or absent: none. */
  notifier?: ServiceNotifier;
}
