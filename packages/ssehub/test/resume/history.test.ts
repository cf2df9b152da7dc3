import { describe, expect, it } from 'vitest';
import type { Target } from '../../src/backends/Backend.js';
import { History, type HistoryEntry, type HistoryLookup } from '../../src/hub/History.js';
import { exposeGc } from '../support/gc.js';

const ALL: Target = { all: true };

function entry(seq: number, size = 10, at = 0, target: Target = ALL): HistoryEntry {
  return { seq, bytes: new Uint8Array(size), target, at };
}

/** The seqs a lookup would replay, or the reason it cannot. */
function replay(lookup: HistoryLookup): number[] | string {
  return lookup.ok ? lookup.entries.map((e) => e.seq) : lookup.reason;
}

function filled(options: ConstructorParameters<typeof History>[0], seqs: number[], size = 10): History {
  const history = new History(options);
  history.reset('ep', 0);
  for (const seq of seqs) history.record('ep', seq, entry(seq, size));
  return history;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('History', () => {
  it('starts empty at the backend head', () => {
    const history = new History();
    history.reset('ep', 7);
    expect(history.epoch).toBe('ep');
    expect(history.stats()).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: 'ep-7' });
    expect(replay(history.after('ep-7', 0))).toEqual([]);
    expect(replay(history.after('ep-6', 0))).toBe('stale');
    expect(replay(history.after('ep-8', 0))).toBe('ahead');
  });

  it('classifies ids: malformed, unknown epoch, ahead, stale', () => {
    const history = filled({ maxEvents: 2 }, [1, 2, 3, 4]);
    expect(replay(history.after('', 0))).toBe('malformed');
    expect(replay(history.after('ep-04', 0))).toBe('malformed');
    expect(replay(history.after('ep', 0))).toBe('malformed');
    expect(replay(history.after('other-3', 0))).toBe('unknown-epoch');
    expect(replay(history.after('EP-3', 0))).toBe('unknown-epoch');
    expect(replay(history.after('ep-5', 0))).toBe('ahead');
    expect(replay(history.after('ep-1', 0))).toBe('stale');
    expect(replay(history.after('ep-2', 0))).toEqual([3, 4]);
    expect(replay(history.after('ep-3', 0))).toEqual([4]);
    expect(replay(history.after('ep-4', 0))).toEqual([]);
  });

  it('evicts by count; the newest forgotten seq is the floor, still served', () => {
    const history = filled({ maxEvents: 3 }, [1, 2, 3, 4, 5]);
    expect(history.stats()).toEqual({ size: 3, bytes: 30, oldestId: 'ep-3', newestId: 'ep-5', headId: 'ep-5' });
    expect(replay(history.after('ep-0', 0))).toBe('stale');
    expect(replay(history.after('ep-1', 0))).toBe('stale');
    expect(replay(history.after('ep-2', 0))).toEqual([3, 4, 5]);
    expect(replay(history.after('ep-4', 0))).toEqual([5]);
  });

  it('evicts by bytes, including an event bigger than the whole budget', () => {
    const history = filled({ maxBytes: 25 }, [1, 2, 3]);
    expect(history.stats()).toEqual({ size: 2, bytes: 20, oldestId: 'ep-2', newestId: 'ep-3', headId: 'ep-3' });
    expect(replay(history.after('ep-0', 0))).toBe('stale');
    expect(replay(history.after('ep-1', 0))).toEqual([2, 3]);
    // Exactly at the budget is kept.
    history.record('ep', 4, entry(4, 5));
    expect(history.stats()).toMatchObject({ size: 3, bytes: 25, oldestId: 'ep-2' });
    // One event over the whole budget evicts everything, itself included.
    history.record('ep', 5, entry(5, 26));
    expect(history.stats()).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: 'ep-5' });
    expect(replay(history.after('ep-4', 0))).toBe('stale');
    expect(replay(history.after('ep-5', 0))).toEqual([]);
  });

  it('evicts by age, when recording and when looked up', () => {
    const history = new History({ maxAgeMs: 100 });
    history.reset('ep', 0);
    history.record('ep', 1, entry(1, 10, 0));
    history.record('ep', 2, entry(2, 10, 50));
    history.record('ep', 3, entry(3, 10, 120)); // seq 1 is now older than 100 ms
    expect(history.stats()).toMatchObject({ size: 2, oldestId: 'ep-2' });
    expect(replay(history.after('ep-0', 120))).toBe('stale');
    expect(replay(history.after('ep-1', 120))).toEqual([2, 3]);
    // Exactly maxAgeMs old is still kept; one ms more is not.
    expect(replay(history.after('ep-1', 150))).toEqual([2, 3]);
    expect(replay(history.after('ep-1', 151))).toBe('stale');
    expect(replay(history.after('ep-2', 151))).toEqual([3]);
    // A lookup long after forgets everything; the head itself stays servable.
    expect(replay(history.after('ep-2', 10_000))).toBe('stale');
    expect(replay(history.after('ep-3', 10_000))).toEqual([]);
    expect(history.stats()).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: 'ep-3' });
  });

  it('stats(now) forgets aged-out events first; stats() alone does not', () => {
    const history = new History({ maxAgeMs: 100 });
    history.reset('ep', 0);
    history.record('ep', 1, entry(1, 10, 0));
    history.record('ep', 2, entry(2, 10, 60));
    expect(history.stats()).toMatchObject({ size: 2, oldestId: 'ep-1' });
    expect(history.stats(100)).toMatchObject({ size: 2, oldestId: 'ep-1' });
    expect(history.stats(101)).toEqual({ size: 1, bytes: 10, oldestId: 'ep-2', newestId: 'ep-2', headId: 'ep-2' });
    expect(history.stats(500)).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: 'ep-2' });
    expect(replay(history.after('ep-1', 500))).toBe('stale');
    expect(replay(history.after('ep-2', 500))).toEqual([]);
  });

  it('counts events it does not keep in the head, not in the kept entries', () => {
    const history = filled({ maxEvents: 2 }, [1, 2]);
    history.record('ep', 3, undefined);
    history.record('ep', 4, entry(4));
    history.record('ep', 5, undefined);
    expect(history.stats()).toEqual({ size: 2, bytes: 20, oldestId: 'ep-2', newestId: 'ep-4', headId: 'ep-5' });
    expect(replay(history.after('ep-5', 0))).toEqual([]);
    expect(replay(history.after('ep-6', 0))).toBe('ahead');
    expect(replay(history.after('ep-3', 0))).toEqual([4]);
    expect(replay(history.after('ep-1', 0))).toEqual([2, 4]);
    expect(replay(history.after('ep-0', 0))).toBe('stale');
  });

  it('starts over when the epoch changes', () => {
    const history = filled({}, [1, 2, 3]);
    history.record('ep2', 10, entry(10));
    expect(history.epoch).toBe('ep2');
    expect(history.stats()).toEqual({ size: 1, bytes: 10, oldestId: 'ep2-10', newestId: 'ep2-10', headId: 'ep2-10' });
    expect(replay(history.after('ep-3', 0))).toBe('unknown-epoch');
    expect(replay(history.after('ep2-8', 0))).toBe('stale');
    expect(replay(history.after('ep2-9', 0))).toEqual([10]);
  });

  it('stays exact across many evictions (internal compaction)', () => {
    const history = filled({ maxEvents: 100 }, range(1, 5000), 3);
    expect(history.stats()).toEqual({ size: 100, bytes: 300, oldestId: 'ep-4901', newestId: 'ep-5000', headId: 'ep-5000' });
    expect(replay(history.after('ep-4899', 0))).toBe('stale');
    expect(replay(history.after('ep-4900', 0))).toEqual(range(4901, 5000));
    expect(replay(history.after('ep-4950', 0))).toEqual(range(4951, 5000));
    for (const seq of range(5001, 6000)) history.record('ep', seq, entry(seq, 3));
    expect(replay(history.after('ep-5900', 0))).toEqual(range(5901, 6000));
    expect(replay(history.after('ep-5999', 0))).toEqual([6000]);
  });

  it('keeps 10000 events by default', () => {
    const history = filled(undefined, range(1, 10_001), 1);
    expect(history.stats()).toMatchObject({ size: 10_000, oldestId: 'ep-2', newestId: 'ep-10001' });
    expect(replay(history.after('ep-0', 0))).toBe('stale');
    expect(replay(history.after('ep-1', 0))).toHaveLength(10_000);
  });

  it('with maxEvents 0 (a hub with history: false) serves only a client already at the head', () => {
    const history = filled({ maxEvents: 0 }, [1, 2, 3]);
    expect(history.stats()).toEqual({ size: 0, bytes: 0, oldestId: undefined, newestId: undefined, headId: 'ep-3' });
    expect(replay(history.after('ep-3', 0))).toEqual([]);
    expect(replay(history.after('ep-2', 0))).toBe('stale');
  });

  it('counts target names against maxBytes, so that long target lists cannot grow it without bound', () => {
    const history = new History({ maxBytes: 100_000 });
    history.reset('ep', 0);
    const rooms = Array.from({ length: 5000 }, (_, i) => `room-${i}`);
    for (let seq = 1; seq <= 50; seq++) history.record('ep', seq, entry(seq, 10, 0, { rooms }));
    const stats = history.stats();
    // 5000 names of ~9 characters cost well over 100 kB: one such event at most is kept.
    expect(stats.size).toBeLessThanOrEqual(1);
    expect(stats.bytes).toBeLessThanOrEqual(100_000 + 10 + 5000 * 100);
    expect(replay(history.after('ep-48', 0))).toBe('stale');
    // Short lists cost little: many such events fit.
    const small = new History({ maxBytes: 100_000 });
    small.reset('ep', 0);
    for (let seq = 1; seq <= 50; seq++) small.record('ep', seq, entry(seq, 10, 0, { rooms: ['a', 'b'], users: ['u'] }));
    expect(small.stats().size).toBe(50);
    expect(small.stats().bytes).toBeGreaterThan(50 * 10);
  });

  it('releases an evicted event at once, with or without a history', async () => {
    const gc = exposeGc();
    for (const maxEvents of [0, 3]) {
      const history = new History({ maxEvents });
      history.reset('ep', 0);
      let evicted: WeakRef<object> | undefined;
      for (let seq = 1; seq <= 10; seq++) {
        const target = { rooms: [`r-${seq}`] };
        if (seq === 5) evicted = new WeakRef(target);
        history.record('ep', seq, entry(seq, 10, 0, target));
      }
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      expect(evicted?.deref(), `maxEvents ${maxEvents}`).toBeUndefined();
    }
  });
});
