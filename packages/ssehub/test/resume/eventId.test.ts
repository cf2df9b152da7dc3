import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEventId, MemoryBackend, parseEventId } from '../../src/index.js';

describe('formatEventId / parseEventId', () => {
  it('formats <epoch>-<seq>', () => {
    expect(formatEventId('abc', 0)).toBe('abc-0');
    expect(formatEventId('Ab9', 42)).toBe('Ab9-42');
  });

  it('parses what it formats', () => {
    expect(parseEventId('abc-0')).toEqual({ epoch: 'abc', seq: 0 });
    expect(parseEventId('Ab9-42')).toEqual({ epoch: 'Ab9', seq: 42 });
    expect(parseEventId(`${'e'.repeat(32)}-1`)).toEqual({ epoch: 'e'.repeat(32), seq: 1 });
    expect(parseEventId('x-9007199254740991')).toEqual({ epoch: 'x', seq: Number.MAX_SAFE_INTEGER });
  });

  it.each([
    ['', 'empty'],
    ['abc', 'no seq'],
    ['abc-', 'empty seq'],
    ['-1', 'empty epoch'],
    ['abc-01', 'leading zero'],
    ['abc--1', 'negative'],
    ['abc-1.5', 'fraction'],
    ['abc-1e3', 'exponent'],
    ['abc-0x10', 'hex'],
    ['a_c-1', 'underscore in epoch'],
    ['a-b-1', 'dash in epoch'],
    ['ábc-1', 'non-ASCII epoch'],
    [' abc-1', 'leading space'],
    ['abc-1 ', 'trailing space'],
    ['abc-1\n', 'trailing newline'],
    ['\nabc-1', 'leading newline'],
    [`${'e'.repeat(33)}-1`, 'epoch of 33 characters'],
    ['x-9007199254740992', 'seq beyond MAX_SAFE_INTEGER'],
    ['x-99999999999999999', 'seq of 17 digits'],
    ['abc-１', 'full-width digit'],
  ])('rejects %j (%s)', (id) => {
    expect(parseEventId(id)).toBeUndefined();
  });

  it('round-trips every valid epoch and safe seq', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{1,32}$/), fc.maxSafeNat(), (epoch, seq) => {
        expect(parseEventId(formatEventId(epoch, seq))).toEqual({ epoch, seq });
      }),
    );
  });

  it('accepts only canonical ids: whatever parses formats back to the same string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9_-]{0,6}-[0-9]{0,18}$/)), (id) => {
        const parsed = parseEventId(id);
        if (parsed !== undefined) expect(formatEventId(parsed.epoch, parsed.seq)).toBe(id);
      }),
    );
  });

  it('the memory backend makes epochs that parse, and a new one per instance', () => {
    const a = new MemoryBackend();
    const b = new MemoryBackend();
    expect(a.epoch).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(b.epoch).not.toBe(a.epoch);
    const [message] = a.append([{ event: undefined, data: 'x', target: { all: true }, history: true }]);
    if (message === undefined) throw new Error('nothing appended');
    expect(message.seq).toBe(1);
    expect(parseEventId(formatEventId(message.epoch, message.seq))).toEqual({ epoch: a.epoch, seq: 1 });
  });
});
