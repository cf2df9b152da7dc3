/**
 * A token bucket per key (publish key, JWT subject or IP): `rate` tokens a second refill a
 * bucket of `burst` tokens; each request takes one. Memory is bounded: buckets that have
 * refilled completely carry no information and are swept, and the table has a hard cap.
 * @module
 */

/** The answer of {@link RateLimiter.take}. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const ALLOWED: RateDecision = Object.freeze({ ok: true });

/** Options of a {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second; 0 turns limiting off. */
  readonly ratePerSecond: number;
  /** Bucket size: requests allowed at once. */
  readonly burst: number;
  /** Most keys tracked at once. @defaultValue 100000 */
  readonly maxKeys?: number;
  /** Clock in ms, for tests. @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** Rate limiting by key with token buckets. */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    this.#rate = options.ratePerSecond;
    this.#burst = Math.max(1, options.burst);
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** True when requests are limited at all. */
  get enabled(): boolean {
    return this.#rate > 0;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `key`'s bucket, or says how long until one is available. */
  take(key: string): RateDecision {
    if (this.#rate <= 0) return ALLOWED;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#sweep(now);
      bucket = { tokens: this.#burst, updatedAt: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate)) };
  }

  /** Forgets full buckets; if the table is still full, the least recently created ones. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate >= this.#burst) this.#buckets.delete(key);
    }
    // Map order is insertion order: the oldest keys go first.
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}
