/**
 * A fixed-size latency histogram: recording allocates nothing, so it can
 * sit on the per-batch hot path.
 *
 * @module
 */

/** Bucket i holds samples below 2^(i+1) µs (bucket 0: below 2 µs). */
const BUCKETS = 32;

/** Latency percentiles, in microseconds. */
export interface LatencySummary {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

/**
 * Counts samples in power-of-two buckets of microseconds. Percentiles are
 * reported as the upper bound of their bucket (at most 2x the true value),
 * the maximum exactly.
 */
export class LatencyHistogram {
  readonly #buckets = new Float64Array(BUCKETS);
  #count = 0;
  #max = 0;
  #sumUs = 0;

  /** Records one sample, in milliseconds (as `performance.now()` differences). */
  recordMs(milliseconds: number): void {
    const micros = Math.max(0, milliseconds * 1000);
    const bucket = micros < 2 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(micros)));
    this.#buckets[bucket]++;
    this.#count++;
    this.#sumUs += micros;
    if (micros > this.#max) this.#max = micros;
  }

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** The samples' total, in microseconds. */
  get sumUs(): number {
    return this.#sumUs;
  }

  /**
   * Cumulative counts: for every bucket, its upper bound in microseconds
   * and how many samples fall below it (the last bucket also holds every
   * larger sample).
   */
  cumulativeBuckets(): { upperUs: number; count: number }[] {
    const out: { upperUs: number; count: number }[] = [];
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#buckets[i];
      out.push({ upperUs: 2 ** (i + 1), count: seen });
    }
    return out;
  }

  /** The upper bound (µs) below which `fraction` of the samples fall. */
  percentileUs(fraction: number): number {
    if (this.#count === 0) return 0;
    const wanted = Math.ceil(this.#count * fraction);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#buckets[i];
      if (seen >= wanted) return Math.min(2 ** (i + 1), Math.ceil(this.#max));
    }
    return Math.ceil(this.#max);
  }

  /** Count, p50, p90, p99 and max. */
  summary(): LatencySummary {
    return {
      count: this.#count,
      p50Us: this.percentileUs(0.5),
      p90Us: this.percentileUs(0.9),
      p99Us: this.percentileUs(0.99),
      maxUs: Math.ceil(this.#max),
    };
  }
}
