import { describe, expect, it } from 'vitest';
import { InvalidFieldError, SseHubError } from '../../src/errors.js';
import {
  assertRetry,
  assertSingleLineField,
  encodeComment,
  encodeEvent,
  encodeEventText,
  encodeRetry,
  type SseEvent,
} from '../../src/protocol/index.js';

/** The encoded bytes as text, after checking the two encoders agree byte for byte. */
function wire(event: SseEvent): string {
  const bytes = encodeEvent(event);
  expect(bytes).toBeInstanceOf(Uint8Array);
  const text = encodeEventText(event);
  expect(Buffer.from(bytes).equals(Buffer.from(text, 'utf8'))).toBe(true);
  return text;
}

/** Runs `fn`, expecting an InvalidFieldError for `field`; returns it. */
function refusal(fn: () => unknown, field: InvalidFieldError['field']): InvalidFieldError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidFieldError);
  expect(caught).toBeInstanceOf(SseHubError);
  const error = caught as InvalidFieldError;
  expect(error.code).toBe('ERR_SSEHUB_INVALID_FIELD');
  expect(error.field).toBe(field);
  expect(error.name).toBe('InvalidFieldError');
  return error;
}

describe('encodeEvent', () => {
  it('writes `field: value` with one space after the colon and ends with a blank line', () => {
    expect(wire({ data: 'hello' })).toBe('data: hello\n\n');
    expect(wire({ event: 'chat', data: 'hi' })).toBe('event: chat\ndata: hi\n\n');
    expect(wire({ id: '42', data: 'x' })).toBe('id: 42\ndata: x\n\n');
  });

  it('orders the fields id, event, retry, data', () => {
    expect(wire({ data: 'd', retry: 10, event: 'e', id: 'i' })).toBe('id: i\nevent: e\nretry: 10\ndata: d\n\n');
  });

  it('encodes the documented example exactly', () => {
    expect(wire({ id: '7', event: 'chat', data: 'hi\nthere' })).toBe('id: 7\nevent: chat\ndata: hi\ndata: there\n\n');
  });

  it('writes a bare `data:` line for empty data and for an event without data', () => {
    expect(wire({ data: '' })).toBe('data:\n\n');
    expect(wire({})).toBe('data:\n\n');
    expect(wire({ event: 'ping' })).toBe('event: ping\ndata:\n\n');
    expect(wire({ id: '3' })).toBe('id: 3\ndata:\n\n');
  });

  it('splits CRLF, CR and LF in data into separate data lines', () => {
    expect(wire({ data: 'a\r\nb\rc\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('treats LF followed by CR as two line breaks, and CRLF as one', () => {
    expect(wire({ data: 'a\n\rb' })).toBe('data: a\ndata:\ndata: b\n\n');
    expect(wire({ data: 'a\r\n\r\nb' })).toBe('data: a\ndata:\ndata: b\n\n');
    expect(wire({ data: 'a\r\rb' })).toBe('data: a\ndata:\ndata: b\n\n');
  });

  it('writes empty lines inside data as bare `data:` lines, including leading and trailing ones', () => {
    expect(wire({ data: '\n' })).toBe('data:\ndata:\n\n');
    expect(wire({ data: '\r\n\r\n' })).toBe('data:\ndata:\ndata:\n\n');
    expect(wire({ data: 'a\n\nb' })).toBe('data: a\ndata:\ndata: b\n\n');
    expect(wire({ data: '\nlead' })).toBe('data:\ndata: lead\n\n');
    expect(wire({ data: 'trail\r' })).toBe('data: trail\ndata:\n\n');
  });

  it('keeps leading spaces and colons in data (only the separator space is added)', () => {
    expect(wire({ data: ' x' })).toBe('data:  x\n\n');
    expect(wire({ data: '  two\n three' })).toBe('data:   two\ndata:  three\n\n');
    expect(wire({ data: 'a: b' })).toBe('data: a: b\n\n');
    expect(wire({ data: ':' })).toBe('data: :\n\n');
    expect(wire({ data: 'id: 9\nevent: evil' })).toBe('data: id: 9\ndata: event: evil\n\n');
  });

  it('encodes unicode as UTF-8, astral characters included', () => {
    const bytes = encodeEvent({ event: 'émoji', data: 'héllo 😀 世界' });
    expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from('event: émoji\ndata: héllo 😀 世界\n\n', 'utf8').toString('hex'));
    expect(bytes.byteLength).toBe(Buffer.byteLength('event: émoji\ndata: héllo 😀 世界\n\n'));
    expect([...bytes.subarray(bytes.indexOf(0xf0), bytes.indexOf(0xf0) + 4)]).toEqual([0xf0, 0x9f, 0x98, 0x80]);
  });

  it('passes NUL through in data (only id and event refuse it)', () => {
    expect(wire({ data: 'a\0b' })).toBe('data: a\0b\n\n');
  });

  it('encodes id "" as `id:` (which resets the client last event id)', () => {
    expect(wire({ id: '', data: 'x' })).toBe('id:\ndata: x\n\n');
  });

  it('keeps a leading space in id and event values', () => {
    expect(wire({ id: ' 1', event: ' e', data: 'x' })).toBe('id:  1\nevent:  e\ndata: x\n\n');
  });

  it('allows retry 0', () => {
    expect(wire({ retry: 0 })).toBe('retry: 0\n\n');
    expect(wire({ retry: 0, data: 'x' })).toBe('retry: 0\ndata: x\n\n');
  });

  it('writes no data line for a retry-only event', () => {
    expect(wire({ retry: 2500 })).toBe('retry: 2500\n\n');
    expect(wire({ retry: Number.MAX_SAFE_INTEGER })).toBe(`retry: ${Number.MAX_SAFE_INTEGER}\n\n`);
  });

  it('writes a data line when retry comes with data, an id or an event type, so the event still dispatches', () => {
    expect(wire({ retry: 5, data: '' })).toBe('retry: 5\ndata:\n\n');
    expect(wire({ event: 'ping', retry: 5 })).toBe('event: ping\nretry: 5\ndata:\n\n');
    expect(wire({ id: '9', retry: 5 })).toBe('id: 9\nretry: 5\ndata:\n\n');
  });

  it.each([
    ['LF', 'a\nb'],
    ['CR', 'a\rb'],
    ['CRLF', 'a\r\nb'],
    ['NUL', 'a\0b'],
    ['a trailing LF', 'abc\n'],
    ['a leading CR', '\rabc'],
    ['only NUL', '\0'],
  ])('refuses an id holding %s with InvalidFieldError(field "id")', (_name, id) => {
    refusal(() => encodeEvent({ id, data: 'x' }), 'id');
    refusal(() => encodeEventText({ id, data: 'x' }), 'id');
  });

  it.each([
    ['LF', 'a\nb'],
    ['CR', 'a\rb'],
    ['CRLF', 'a\r\nb'],
    ['NUL', 'a\0b'],
    ['a trailing LF', 'chat\n'],
  ])('refuses an event type holding %s with InvalidFieldError(field "event")', (_name, event) => {
    refusal(() => encodeEvent({ event, data: 'x' }), 'event');
    refusal(() => encodeEventText({ event, data: 'x' }), 'event');
  });

  it('refuses an event type with a line break even when the id is valid', () => {
    const error = refusal(() => encodeEvent({ id: 'ok', event: 'x\ndata: forged', data: 'x' }), 'event');
    expect(error.message).toBe('Invalid SSE "event" field: must not contain CR, LF or NUL');
  });

  it('refuses a non-string id or event', () => {
    refusal(() => encodeEvent({ id: 5 as unknown as string }), 'id');
    refusal(() => encodeEvent({ event: null as unknown as string }), 'event');
  });

  it.each([
    ['negative', -1],
    ['non-integer', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['1e21', 1e21],
    ['beyond MAX_SAFE_INTEGER', 2 ** 53],
    ['a numeric string', '5' as unknown as number],
  ])('refuses a %s retry with InvalidFieldError(field "retry")', (_name, retry) => {
    refusal(() => encodeEvent({ retry }), 'retry');
    refusal(() => encodeEvent({ retry, data: 'x' }), 'retry');
  });
});

describe('encodeComment', () => {
  it('encodes an empty comment as `:` and a blank line (the keep-alive)', () => {
    expect(Buffer.from(encodeComment()).toString('utf8')).toBe(':\n\n');
    expect(Buffer.from(encodeComment('')).toString('utf8')).toBe(':\n\n');
  });

  it('writes `: text` with a space', () => {
    expect(Buffer.from(encodeComment('hello')).toString('utf8')).toBe(': hello\n\n');
  });

  it('turns every line break in a comment into a new comment line', () => {
    expect(Buffer.from(encodeComment('a\r\nb\rc\nd')).toString('utf8')).toBe(': a\n: b\n: c\n: d\n\n');
    expect(Buffer.from(encodeComment('a\n\nb')).toString('utf8')).toBe(': a\n:\n: b\n\n');
    expect(Buffer.from(encodeComment('x\ndata: forged\n')).toString('utf8')).toBe(': x\n: data: forged\n:\n\n');
  });

  it('returns UTF-8 bytes (a Uint8Array: the protocol layer needs no Node)', () => {
    const bytes = encodeComment('ü');
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes]).toEqual([0x3a, 0x20, 0xc3, 0xbc, 0x0a, 0x0a]);
  });
});

describe('encodeRetry', () => {
  it('encodes a lone retry hint', () => {
    expect(Buffer.from(encodeRetry(0)).toString('utf8')).toBe('retry: 0\n\n');
    expect(Buffer.from(encodeRetry(3000)).toString('utf8')).toBe('retry: 3000\n\n');
  });

  it.each([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 1e21])('refuses %s', (value) => {
    refusal(() => encodeRetry(value), 'retry');
  });
});

describe('assertRetry', () => {
  it('accepts non-negative safe integers', () => {
    for (const value of [0, 1, 1000, Number.MAX_SAFE_INTEGER]) expect(() => assertRetry(value)).not.toThrow();
  });

  it('names the refused value in the message', () => {
    expect(refusal(() => assertRetry(-3), 'retry').message).toBe('Invalid SSE "retry" field: must be a non-negative integer, got -3');
    expect(refusal(() => assertRetry(1e21), 'retry').message).toBe('Invalid SSE "retry" field: must be a non-negative integer, got 1e+21');
  });
});

describe('assertSingleLineField', () => {
  it('accepts any string without CR, LF or NUL, empty included', () => {
    for (const value of ['', ' ', 'a b', 'x:y', '😀', '\t', '\u2028\u2029', '\u0085']) {
      expect(() => assertSingleLineField('id', value)).not.toThrow();
      expect(() => assertSingleLineField('event', value)).not.toThrow();
    }
  });

  it('reports the field it was asked about', () => {
    refusal(() => assertSingleLineField('id', '\n'), 'id');
    refusal(() => assertSingleLineField('event', '\r'), 'event');
  });
});
