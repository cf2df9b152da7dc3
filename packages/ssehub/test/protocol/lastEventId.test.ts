import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LAST_EVENT_ID_LENGTH, readLastEventId } from '../../src/protocol/index.js';

describe('readLastEventId', () => {
  it('reads the Last-Event-ID header', () => {
    expect(readLastEventId('abc-7', undefined)).toEqual({ value: 'abc-7', present: true });
    expect(readLastEventId('abc-7', null)).toEqual({ value: 'abc-7', present: true });
  });

  it('reads the lastEventId query parameter when there is no header', () => {
    expect(readLastEventId(undefined, 'q-1')).toEqual({ value: 'q-1', present: true });
  });

  it('prefers the header over the query parameter', () => {
    expect(readLastEventId('h-1', 'q-1')).toEqual({ value: 'h-1', present: true });
  });

  it('falls back to the query parameter when the header is empty', () => {
    expect(readLastEventId('', 'q-1')).toEqual({ value: 'q-1', present: true });
  });

  it('reports an empty or missing id as not present', () => {
    for (const [header, query] of [
      [undefined, undefined],
      [undefined, null],
      ['', undefined],
      ['', null],
      [undefined, ''],
      ['', ''],
    ] as const) {
      expect(readLastEventId(header, query)).toEqual({ value: undefined, present: false });
    }
  });

  it(`accepts ids up to ${DEFAULT_MAX_LAST_EVENT_ID_LENGTH} UTF-16 code units by default`, () => {
    expect(DEFAULT_MAX_LAST_EVENT_ID_LENGTH).toBe(256);
    const atLimit = 'x'.repeat(256);
    expect(readLastEventId(atLimit, undefined)).toEqual({ value: atLimit, present: true });
    expect(readLastEventId(undefined, atLimit)).toEqual({ value: atLimit, present: true });
  });

  it('reports an over-long id as present with value undefined (refused, not truncated)', () => {
    const tooLong = 'x'.repeat(257);
    expect(readLastEventId(tooLong, undefined)).toEqual({ value: undefined, present: true });
    expect(readLastEventId(undefined, tooLong)).toEqual({ value: undefined, present: true });
  });

  it('refuses an over-long header even when the query parameter would fit', () => {
    expect(readLastEventId('x'.repeat(257), 'q-1')).toEqual({ value: undefined, present: true });
  });

  it('counts length in UTF-16 code units (an astral character counts twice)', () => {
    expect(readLastEventId('😀😀', undefined, 4)).toEqual({ value: '😀😀', present: true });
    expect(readLastEventId('😀😀x', undefined, 4)).toEqual({ value: undefined, present: true });
  });

  it('honours a custom maximum length', () => {
    expect(readLastEventId('abcd', undefined, 4)).toEqual({ value: 'abcd', present: true });
    expect(readLastEventId('abcde', undefined, 4)).toEqual({ value: undefined, present: true });
    expect(readLastEventId(undefined, 'abcde', 4)).toEqual({ value: undefined, present: true });
    expect(readLastEventId('x'.repeat(1000), undefined, 1000)).toEqual({ value: 'x'.repeat(1000), present: true });
  });
});
