/**
 * Fuzzing of the encoder with hostile strings (see `../support/hostile.ts`): CRLF, CR and LF;
 * U+2028, U+2029 and U+0085, which must travel as data; NUL; lone surrogates, which UTF-8
 * turns into U+FFFD; a BOM; field look-alikes (`\n\ndata:`, `\n\nid:`, `\r\revent:`,
 * `data:` prefixes); and fields of 64 KiB to 1 MiB. It proves that the bytes hold exactly the
 * fields that were published, line by line, and that an independent WHATWG parser
 * (`eventsource-parser`) reads back exactly the published events, the well-formed UTF-16 of
 * every value, for any chunking of the bytes. `roundtrip.property.test.ts` covers the
 * printable alphabet; this file adds what is hostile.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../../src/errors.js';
import { encodeEvent, encodeEventText, type SseEvent } from '../../src/protocol/index.js';
import {
  BOM,
  dataAsRead,
  firstDifference,
  forbiddenField,
  hostileText,
  INJECTIONS,
  LINE_BREAKS,
  LONE_SURROGATES,
  normaliseLineBreaks,
  StreamReader,
  singleLineText,
  split,
  UNICODE_SEPARATORS,
  wellFormed,
} from '../support/hostile.js';

const RUNS = 300;
const LONG_RUNS = 4;

const hostileEvent: fc.Arbitrary<SseEvent> = fc.record(
  { id: singleLineText(), event: singleLineText(), data: hostileText(40), retry: fc.nat({ max: 1e9 }) },
  { requiredKeys: [] },
);

const cuts = fc.array(fc.nat(), { maxLength: 12 });

/** The event the parser must report for `event` (undefined for a lone retry hint). */
function expected(event: SseEvent): { id: string | undefined; event: string | undefined; data: string } | undefined {
  if (event.data === undefined && event.id === undefined && event.event === undefined && event.retry !== undefined) return undefined;
  return {
    id: event.id === undefined ? undefined : wellFormed(event.id),
    event: event.event === undefined || event.event === '' ? undefined : wellFormed(event.event),
    data: dataAsRead(event.data ?? ''),
  };
}

/**
 * The fields of one encoded event, read line by line as the WHATWG parser splits lines:
 * `name` is what stands before the first colon, `value` what follows it (one leading space
 * dropped), and `blank` counts the empty lines.
 */
function linesOf(bytes: Buffer): { fields: Array<{ name: string; value: string }>; blank: number; lastIsBlank: boolean } {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split(/\r\n|\r|\n/);
  const fields: Array<{ name: string; value: string }> = [];
  let blank = 0;
  for (const line of lines) {
    if (line === '') {
      blank++;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields.push({ name, value });
  }
  return { fields, blank, lastIsBlank: lines.at(-1) === '' };
}

/** Asserts that the encoded bytes of `event` hold exactly its fields, and nothing else. */
function expectOnlyPublishedFields(event: SseEvent): void {
  const { fields, blank, lastIsBlank } = linesOf(Buffer.from(encodeEvent(event)));
  // One blank line, the last one: the event cannot be cut in two.
  expect(blank).toBe(1);
  expect(lastIsBlank).toBe(true);
  const named = (name: string): string[] => fields.filter((field) => field.name === name).map((field) => field.value);
  expect(fields.every((field) => ['id', 'event', 'retry', 'data'].includes(field.name))).toBe(true);
  expect(named('id')).toEqual(event.id === undefined ? [] : [wellFormed(event.id)]);
  expect(named('event')).toEqual(event.event === undefined ? [] : [wellFormed(event.event)]);
  expect(named('retry')).toEqual(event.retry === undefined ? [] : [String(event.retry)]);
  const want = expected(event);
  if (want === undefined) expect(named('data')).toEqual([]);
  else expect(named('data').join('\n')).toBe(want.data);
}

/** Parses `bytes` cut at `cutPoints` and asserts the events are exactly `events`, in order. */
function expectParsedExactly(events: readonly SseEvent[], cutPoints: readonly number[]): void {
  const bytes = Buffer.concat(events.map((event) => encodeEvent(event)));
  const parsed = StreamReader.read(split(bytes, cutPoints));
  expect(parsed.errors).toEqual([]);
  expect(parsed.comments).toEqual([]);
  expect(parsed.retries).toEqual(events.flatMap((event) => (event.retry === undefined ? [] : [event.retry])));
  expect(parsed.events).toEqual(events.map(expected).filter((event) => event !== undefined));
}

describe('the wellFormed helper', () => {
  it('replaces exactly the unpaired surrogates with U+FFFD, as a UTF-8 round trip does', () => {
    expect(wellFormed('a\uD800b\uDFFFc')).toBe('a\uFFFDb\uFFFDc');
    expect(wellFormed('\uDFFF\uD800')).toBe('\uFFFD\uFFFD');
    expect(wellFormed('\uD800\uDFFF')).toBe('\uD800\uDFFF');
    expect(wellFormed('\uD800\uD800\uDC00\uDC00')).toBe('\uFFFD\uD800\uDC00\uFFFD');
    fc.assert(
      fc.property(hostileText(30), (text) => {
        expect(wellFormed(text)).toBe(Buffer.from(text, 'utf8').toString('utf8'));
        const native = (text as string & { toWellFormed?: () => string }).toWellFormed;
        if (native !== undefined) expect(wellFormed(text)).toBe(native.call(text));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('encodeEvent with hostile input', () => {
  it('never yields a field that was not published', () => {
    fc.assert(
      fc.property(hostileEvent, (event) => expectOnlyPublishedFields(event)),
      { numRuns: RUNS },
    );
  });

  it('is parsed back as exactly the published events, in order, for any chunking of the stream', () => {
    fc.assert(
      fc.property(fc.array(hostileEvent, { maxLength: 6 }), cuts, (events, cutPoints) => expectParsedExactly(events, cutPoints)),
      { numRuns: RUNS },
    );
  });

  it('passes U+2028, U+2029 and U+0085 through as data, id and event type: they never break a line', () => {
    const noBreak = fc.string({ unit: fc.constantFrom(...UNICODE_SEPARATORS, 'a', ' ', ':', 'data:', '😀'), maxLength: 20 });
    fc.assert(
      fc.property(noBreak, noBreak, noBreak, cuts, (id, type, data, cutPoints) => {
        const event: SseEvent = { id, event: type, data };
        const { fields } = linesOf(Buffer.from(encodeEvent(event)));
        expect(fields.map((field) => field.name)).toEqual(['id', 'event', 'data']);
        expectParsedExactly([event], cutPoints);
      }),
      { numRuns: RUNS },
    );
  });

  it('turns every lone surrogate into U+FFFD and nothing else: no byte of a line break or field is lost', () => {
    const piece = fc.oneof(fc.constantFrom(...LONE_SURROGATES, ...LINE_BREAKS, ':', ' ', 'x'), fc.constantFrom('\uD83D\uDE00'));
    const text = fc.string({ unit: piece, maxLength: 24 });
    const field = text.map((value) => value.replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(field, field, text, cuts, (id, type, data, cutPoints) => {
        const event: SseEvent = { id, event: type, data };
        const bytes = Buffer.from(encodeEvent(event));
        // Exactly the bytes of the well-formed text: a surrogate takes the place of one U+FFFD.
        expect(bytes.equals(Buffer.from(encodeEventText({ id: wellFormed(id), event: wellFormed(type), data: wellFormed(data) })))).toBe(
          true,
        );
        // One data line per line break, whatever surrogates stand around the breaks.
        const breaks = data.match(/\r\n|\r|\n/g)?.length ?? 0;
        expect(linesOf(bytes).fields.filter((line) => line.name === 'data')).toHaveLength(breaks + 1);
        expectParsedExactly([event], cutPoints);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps `\\n\\ndata:`, `\\n\\nid:`, `\\r\\revent:`, a BOM and `data:` prefixes at the start of data inside one event', () => {
    const prefix = fc.constantFrom(
      ...INJECTIONS,
      BOM,
      `${BOM}${BOM}`,
      '\n\ndata:',
      '\n\nid:',
      '\r\revent:',
      'data: data: ',
      `${BOM}\n\nid: x`,
    );
    fc.assert(
      fc.property(
        fc.array(prefix, { minLength: 1, maxLength: 3 }),
        hostileText(16),
        fc.option(singleLineText(), { nil: undefined }),
        fc.option(singleLineText(), { nil: undefined }),
        cuts,
        (prefixes, rest, id, type, cutPoints) => {
          const data = prefixes.join('') + rest;
          // First in the stream: a BOM the parser would strip at the very start never leads.
          const parsed = StreamReader.read(split(encodeEvent({ id, event: type, data }), cutPoints));
          expect(parsed.errors).toEqual([]);
          expect(parsed.comments).toEqual([]);
          expect(parsed.retries).toEqual([]);
          expect(parsed.events).toEqual([
            {
              id: id === undefined ? undefined : wellFormed(id),
              event: type === undefined || type === '' ? undefined : wellFormed(type),
              data: dataAsRead(data),
            },
          ]);
          expect(parsed.events[0]?.data.startsWith(normaliseLineBreaks(prefixes.join('')))).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses an id or event type holding CR, LF or NUL, whatever surrounds it, before encoding anything', () => {
    fc.assert(
      fc.property(fc.constantFrom('id' as const, 'event' as const), forbiddenField(), hostileText(), (name, bad, data) => {
        let caught: unknown;
        try {
          encodeEvent(name === 'id' ? { id: bad, data } : { event: bad, data });
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(InvalidFieldError);
        expect((caught as InvalidFieldError).code).toBe('ERR_SSEHUB_INVALID_FIELD');
        expect((caught as InvalidFieldError).field).toBe(name);
      }),
      { numRuns: RUNS },
    );
  });

  it('carries data of 64 KiB to 1 MiB, and ids and event types of up to 64 KiB, intact', () => {
    // A hostile pattern repeated to the wanted size: every kind of line break at scale. The
    // pattern and the size are drawn and the value built from them, so a failure prints short.
    const long = (pattern: fc.Arbitrary<string>, min: number, max: number) => fc.record({ pattern, size: fc.integer({ min, max }) });
    const build = ({ pattern, size }: { pattern: string; size: number }): string =>
      pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size);
    const field = singleLineText(12, 1).filter((text) => text.length > 0);
    fc.assert(
      fc.property(
        long(hostileText(40, 8), 64 * 1024, 1024 * 1024),
        long(field, 1, 64 * 1024),
        long(field, 1, 64 * 1024),
        cuts,
        (dataDraft, idDraft, typeDraft, cutPoints) => {
          const [data, id, type] = [build(dataDraft), build(idDraft), build(typeDraft)];
          const parsed = StreamReader.read(split(encodeEvent({ id, event: type, data }), cutPoints));
          expect(parsed.errors).toEqual([]);
          expect(parsed.events).toHaveLength(1);
          const event = parsed.events[0];
          expect(firstDifference(event?.data ?? '', dataAsRead(data))).toBe(-1);
          expect(firstDifference(event?.id ?? '', wellFormed(id))).toBe(-1);
          expect(firstDifference(event?.event ?? '', wellFormed(type))).toBe(-1);
        },
      ),
      { numRuns: LONG_RUNS },
    );
  });
});
