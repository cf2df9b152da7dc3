/**
 * The memory backend's log: the resume history. Reads after a position return exactly the kept
 * messages after it, say up to which seq they are complete, and refuse (stale, ahead, unknown
 * epoch) rather than answer with a hole; the bounds (count, bytes with target names, age) hold,
 * and an evicted message is released at once.
 */
import { describe, expect, it } from 'vitest';
import type { BackendMessage, LogRead, Target } from '../../src/backends/Backend.js';
import { type HistoryOptions, MemoryLog, messageCost } from '../../src/backends/MemoryLog.js';
import { exposeGc } from '../support/gc.js';

const ALL: Target = { all: true };

function message(seq: number, data = 'x', target: Target = ALL, history = true): BackendMessage {
  return { epoch: 'ep', seq, event: undefined, data, target, history };
}

/** The seqs a read returns, or the reason it cannot. */
function seqs(read: LogRead): number[] | string {
  return read.ok ? read.messages.map((m) => m.seq) : read.reason;
}

function filled(options: HistoryOptions | false, upTo: number, data = 'x'): MemoryLog {
  const log = new MemoryLog('ep', options);
  for (let seq = 1; seq <= upTo; seq++) log.append(message(seq, data), 0);
  return log;
}

const at = (seq: number) => ({ epoch: 'ep', seq });
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const COST = messageCost(message(1));

describe('MemoryLog', () => {
  it('starts empty at seq 0', () => {
    const log = new MemoryLog('ep');
    expect(log.stats()).toEqual({ size: 0, bytes: 0, oldestSeq: undefined, newestSeq: undefined });
    expect(log.read(at(0), 10, 0)).toEqual({ ok: true, messages: [], through: 0, head: 0 });
    expect(seqs(log.read(at(1), 10, 0))).toBe('ahead');
  });

  it('classifies positions: unknown epoch, ahead, stale', () => {
    const log = filled({ maxEvents: 2 }, 4);
    expect(seqs(log.read({ epoch: 'other', seq: 3 }, 10, 0))).toBe('unknown-epoch');
    expect(seqs(log.read({ epoch: 'EP', seq: 3 }, 10, 0))).toBe('unknown-epoch');
    expect(seqs(log.read(at(5), 10, 0))).toBe('ahead');
    expect(seqs(log.read(at(1), 10, 0))).toBe('stale');
    expect(seqs(log.read(at(2), 10, 0))).toEqual([3, 4]);
    expect(seqs(log.read(at(4), 10, 0))).toEqual([]);
    const refused = log.read(at(9), 10, 0);
    expect(refused).toEqual({ ok: false, reason: 'ahead', head: { epoch: 'ep', seq: 4 } });
  });

  it('evicts by count; the newest forgotten seq is the floor, still served', () => {
    const log = filled({ maxEvents: 3 }, 5);
    expect(log.stats()).toEqual({ size: 3, bytes: 3 * COST, oldestSeq: 3, newestSeq: 5 });
    expect(seqs(log.read(at(1), 10, 0))).toBe('stale');
    expect(seqs(log.read(at(2), 10, 0))).toEqual([3, 4, 5]);
  });

  it('evicts by bytes, including a message bigger than the whole budget', () => {
    const log = filled({ maxBytes: 2 * COST + COST - 1 }, 3);
    expect(log.stats()).toMatchObject({ size: 2, bytes: 2 * COST, oldestSeq: 2 });
    expect(seqs(log.read(at(1), 10, 0))).toEqual([2, 3]);
    log.append(message(4, 'x'.repeat(10 * COST)), 0);
    expect(log.stats()).toEqual({ size: 0, bytes: 0, oldestSeq: undefined, newestSeq: undefined });
    expect(seqs(log.read(at(3), 10, 0))).toBe('stale');
    expect(seqs(log.read(at(4), 10, 0))).toEqual([]);
  });

  it('evicts by age, when appending and when read', () => {
    const log = new MemoryLog('ep', { maxAgeMs: 100 });
    log.append(message(1), 0);
    log.append(message(2), 50);
    log.append(message(3), 120);
    expect(log.stats()).toMatchObject({ size: 2, oldestSeq: 2 });
    expect(seqs(log.read(at(1), 10, 150))).toEqual([2, 3]);
    expect(seqs(log.read(at(1), 10, 151))).toBe('stale');
    expect(seqs(log.read(at(3), 10, 10_000))).toEqual([]);
    expect(log.stats(10_000)).toMatchObject({ size: 0, bytes: 0 });
  });

  it('skips messages without history, and says the read is complete through them', () => {
    const log = new MemoryLog('ep');
    log.append(message(1), 0);
    log.append(message(2, 'x', ALL, false), 0);
    log.append(message(3), 0);
    log.append(message(4, 'x', ALL, false), 0);
    expect(log.read(at(1), 10, 0)).toMatchObject({ ok: true, through: 4, head: 4 });
    expect(seqs(log.read(at(1), 10, 0))).toEqual([3]);
    expect(seqs(log.read(at(0), 10, 0))).toEqual([1, 3]);
  });

  it('reads in pages: `through` is the last seq returned while more remain', () => {
    const log = filled({}, 10);
    const first = log.read(at(0), 4, 0);
    expect(first).toMatchObject({ ok: true, through: 4, head: 10 });
    expect(seqs(first)).toEqual([1, 2, 3, 4]);
    expect(seqs(log.read(at(4), 4, 0))).toEqual([5, 6, 7, 8]);
    expect(log.read(at(8), 4, 0)).toMatchObject({ ok: true, through: 10, head: 10 });
  });

  it('stays exact across many evictions', () => {
    const log = filled({ maxEvents: 100 }, 5000);
    expect(log.stats()).toMatchObject({ size: 100, oldestSeq: 4901, newestSeq: 5000 });
    expect(seqs(log.read(at(4899), 1000, 0))).toBe('stale');
    expect(seqs(log.read(at(4900), 1000, 0))).toEqual(range(4901, 5000));
  });

  it('keeps 10000 messages by default', () => {
    const log = filled({}, 10_001);
    expect(log.stats()).toMatchObject({ size: 10_000, oldestSeq: 2, newestSeq: 10_001 });
    expect(seqs(log.read(at(1), 20_000, 0))).toHaveLength(10_000);
  });

  it('with history off, serves only a reader already at the head', () => {
    const log = filled(false, 3);
    expect(log.keeps).toBe(false);
    expect(log.stats()).toEqual({ size: 0, bytes: 0, oldestSeq: undefined, newestSeq: undefined });
    expect(seqs(log.read(at(3), 10, 0))).toEqual([]);
    expect(seqs(log.read(at(2), 10, 0))).toBe('stale');
  });

  it('counts target names against maxBytes, so that long target lists cannot grow it without bound', () => {
    const log = new MemoryLog('ep', { maxBytes: 100_000 });
    const rooms = Array.from({ length: 5000 }, (_, i) => `room-${i}`);
    for (let seq = 1; seq <= 50; seq++) log.append(message(seq, 'x', { rooms }), 0);
    // 5000 names of ~9 characters cost well over 100 kB: not one such message is kept.
    expect(log.stats().size).toBe(0);
    expect(seqs(log.read(at(48), 10, 0))).toBe('stale');
    const small = new MemoryLog('ep', { maxBytes: 100_000 });
    for (let seq = 1; seq <= 50; seq++) small.append(message(seq, 'x', { rooms: ['a', 'b'], users: ['u'] }), 0);
    expect(small.stats()).toMatchObject({ size: 50, bytes: 50 * (COST + 3 * 34) });
  });

  it('releases an evicted message at once, with or without a history', async () => {
    const gc = exposeGc();
    for (const options of [false, { maxEvents: 3 }] as const) {
      const log = new MemoryLog('ep', options);
      let evicted: WeakRef<object> | undefined;
      for (let seq = 1; seq <= 10; seq++) {
        const target = { rooms: [`r-${seq}`] };
        if (seq === 5) evicted = new WeakRef(target);
        log.append(message(seq, 'x', target), 0);
      }
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      expect(evicted?.deref(), JSON.stringify(options)).toBeUndefined();
    }
  });
});
