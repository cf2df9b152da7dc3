import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rateLimit.js';

describe('RateLimiter (token bucket)', () => {
  it('allows the burst at once, then the rate, and says when to retry', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].every((decision) => decision.ok)).toBe(true);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 499;
    expect(limiter.take('a').ok).toBe(false);
    now += 1;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    // Keys are independent.
    expect(limiter.take('b').ok).toBe(true);
    // A long pause refills to the burst, never beyond.
    now += 60_000;
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a').ok).toBe(false);
  });

  it('rounds Retry-After up for slow rates', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 0.1, burst: 1, now: () => now });
    expect(limiter.take('k').ok).toBe(true);
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterSeconds: 10 });
    now += 5000;
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterSeconds: 5 });
  });

  it('allows everything at rate 0', () => {
    const limiter = new RateLimiter({ ratePerSecond: 0, burst: 1 });
    expect(limiter.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect(limiter.take('k').ok).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it('bounds its memory: full buckets are swept, then the oldest keys go', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 100, now: () => now });
    for (let i = 0; i < 100; i++) limiter.take(`ip-${i}`);
    expect(limiter.size).toBe(100);
    now += 1000; // every bucket has refilled: they carry no information
    limiter.take('new');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 500; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
    // The newest keys are still limited.
    expect(limiter.take('flood-499').ok).toBe(false);
  });
});
