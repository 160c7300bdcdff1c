/**
 * What the daemon knows of its Jool module: the version, read at start
 * (/sys/module/jool/version) or else learnt from the first batch, and so
 * the encoding peers' sessions must be in, which the datagram filter
 * checks.
 *
 * @module
 */

import { formatVersion } from "../jool/header.ts";
import { sessionEncodingFor } from "../jool/session.ts";
import type { Ipv6Prefix } from "../jool/session_convert.ts";
import type { Logger } from "../log.ts";
import { DatagramFilter } from "../sync/datagram_filter.ts";

/** The local module's version, once known, and the filter it sets. */
export class LocalJool {
  /** Checks peers' datagrams; accepts any encoding until the version is known. */
  readonly filter: DatagramFilter;
  /**
   * The instance's pool6 prefix, read at start; null while unknown. Peers'
   * raw36 batches need it to be converted for an older kernel (dst6).
   */
  pool6: Ipv6Prefix | null = null;
  readonly #logger: Logger;
  #version: number | null;

  /**
   * `version`: the module's, if known. Logs the encoding it implies.
   *
   * @throws {RangeError} If `version` is not a 4.1 one.
   */
  constructor(version: number | null, logger: Logger) {
    this.#version = version;
    this.#logger = logger;
    this.filter = new DatagramFilter(version === null ? null : sessionEncodingFor(version));
    if (version !== null) {
      logger.info(
        `Jool module ${formatVersion(version)}: peers' sessions must be in the ` +
          `${this.filter.encoding} encoding`,
      );
    }
  }

  /** The module's version, or null while unknown. */
  get version(): number | null {
    return this.#version;
  }

  /** Takes the version of a kernel batch, if it is not known yet (logged then). */
  learnFromBatch(version: number): void {
    if (this.filter.encoding !== null) return;
    this.#version ??= version;
    this.filter.learn(sessionEncodingFor(version));
    this.#logger.info(`Peers' sessions must be in the ${this.filter.encoding} encoding`);
  }
}
