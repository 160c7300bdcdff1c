/**
 * How many answers a server may send: a token bucket per source host and
 * one for all sources together. A forged source address can make a
 * server answer someone who never asked (another stats server, to start an
 * answer loop; a victim, to amplify): the per-source bucket bounds what one
 * address gets, the global one what all of them get together.
 *
 * @module
 */

/** The rates and bursts of a {@link AnswerBudget}. */
export interface AnswerBudgetLimits {
  /** Answers per second one source host may get, in the long run. */
  perSourcePerSecond: number;
  /** Answers one source host may get at once. */
  perSourceBurst: number;
  /** Answers per second all sources together may get. */
  globalPerSecond: number;
  /** Answers all sources together may get at once. */
  globalBurst: number;
  /** Source hosts remembered; the least recently seen is forgotten first. */
  maxSources: number;
}

/**
 * The stats port's limits: a person or a monitoring system asks a few times
 * a minute; 5 a second per host and 100 a second in all leave room for
 * every legitimate client and make a flood cost little.
 */
export const STATS_ANSWER_LIMITS: AnswerBudgetLimits = {
  perSourcePerSecond: 5,
  perSourceBurst: 10,
  globalPerSecond: 100,
  globalBurst: 200,
  maxSources: 1024,
};

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Token buckets per source host and in all. Time comes in as `nowMs`. */
export class AnswerBudget {
  readonly #limits: AnswerBudgetLimits;
  readonly #sources = new Map<string, Bucket>();
  readonly #global: Bucket;

  constructor(limits: AnswerBudgetLimits, nowMs: number) {
    this.#limits = limits;
    this.#global = { tokens: limits.globalBurst, updatedMs: nowMs };
  }

  /**
   * Whether `source` (a host, not a host and port: a flood from many ports
   * of one host is one source) may get an answer now; takes a token from
   * both buckets if so.
   */
  allow(source: string, nowMs: number): boolean {
    const { perSourcePerSecond, perSourceBurst, globalPerSecond, globalBurst } = this.#limits;
    let bucket = this.#sources.get(source);
    if (bucket === undefined) {
      if (this.#sources.size >= this.#limits.maxSources) {
        // Maps iterate in insertion order, and a source is re-inserted on
        // every use: the first key is the least recently seen.
        this.#sources.delete(this.#sources.keys().next().value!);
      }
      bucket = { tokens: perSourceBurst, updatedMs: nowMs };
    } else {
      this.#sources.delete(source);
    }
    this.#sources.set(source, bucket);
    refill(bucket, nowMs, perSourcePerSecond, perSourceBurst);
    refill(this.#global, nowMs, globalPerSecond, globalBurst);
    if (bucket.tokens < 1 || this.#global.tokens < 1) return false;
    bucket.tokens--;
    this.#global.tokens--;
    return true;
  }
}

function refill(bucket: Bucket, nowMs: number, perSecond: number, burst: number): void {
  const elapsed = Math.max(0, nowMs - bucket.updatedMs);
  bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * perSecond) / 1000);
  bucket.updatedMs = nowMs;
}
