/**
 * Property tests: whatever the application sends, an independent WHATWG parser
 * (`eventsource-parser`) reads back exactly the events that were encoded, however the bytes
 * are split in transit, and no field value can forge a second event or field.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../../src/errors.js';
import { encodeEvent, encodeEventText, type SseEvent } from '../../src/protocol/index.js';
import { createWebStream } from '../../src/stream/createStream.js';

const RUNS = 600;

const LINE_BREAKS = ['\r\n', '\r', '\n'] as const;
const FORBIDDEN = ['\r', '\n', '\0'] as const;

/** One piece of a field value: any printable grapheme (astral included), spaces, colons, field-like text. */
const fieldUnit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/[\r\n\0]/.test(c)) },
  { weight: 2, arbitrary: fc.constantFrom(' ', ':', ': ', '\t', '😀', '\u{10FFFF}', '\uFEFF', 'id:', 'data: ', 'event:') },
);

/** One piece of a data payload: the field pieces plus every kind of line break and NUL. */
const dataUnit = fc.oneof(
  { weight: 4, arbitrary: fieldUnit },
  { weight: 2, arbitrary: fc.constantFrom(...LINE_BREAKS) },
  { weight: 1, arbitrary: fc.constantFrom('\0', '\n\n', '\r\n\r\n', '\r\r', '\n\r') },
);

const fieldValue = fc.string({ unit: fieldUnit, maxLength: 12 });
const dataValue = fc.string({ unit: dataUnit, maxLength: 30 });

const sseEvent: fc.Arbitrary<SseEvent> = fc.record(
  { id: fieldValue, event: fieldValue, data: dataValue, retry: fc.nat({ max: 1e9 }) },
  { requiredKeys: [] },
);

/** A string holding at least one CR, LF or NUL somewhere. */
const injected = fc
  .tuple(fieldValue, fc.constantFrom(...FORBIDDEN, '\r\n'), fc.string({ unit: dataUnit, maxLength: 12 }))
  .map(([before, bad, after]) => before + bad + after);

/** Text that tries to end the current event and start a forged one. */
const smuggle = fc.constantFrom(
  '\n\nid: x\nevent: y\n',
  '\n\nid: x\nevent: y\ndata: z\n\n',
  '\r\n\r\nevent: y\r\ndata: z\r\n\r\n',
  '\r\rretry: 1\r\r',
  '\n\n: comment\n\n',
  '\ndata: a\n\nid:\n\n',
  '\n\nevent: y\ndata:\n\n\n',
  '\0\n\nid: \0\n\n',
);

/** What the WHATWG parser rebuilds from data: every CRLF, CR and LF joined back as LF. */
const normalise = (data: string): string => data.replace(/\r\n|\r|\n/g, '\n');

/** Splits `bytes` at the given (unsorted, possibly repeated) cut points. */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

interface Parsed {
  events: EventSourceMessage[];
  retries: number[];
  comments: string[];
  errors: string[];
}

/** Feeds byte chunks through a streaming UTF-8 decoder into `eventsource-parser`. */
function parse(chunks: readonly Uint8Array[]): Parsed {
  const parsed: Parsed = { events: [], retries: [], comments: [], errors: [] };
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onRetry: (retry) => parsed.retries.push(retry),
    onComment: (comment) => parsed.comments.push(comment),
    onError: (error) => parsed.errors.push(error.message),
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  return parsed;
}

/** The event the parser must report for `event`, or undefined for a retry-only hint. */
function expected(event: SseEvent): EventSourceMessage | undefined {
  if (event.data === undefined && event.id === undefined && event.event === undefined && event.retry !== undefined) return undefined;
  return { id: event.id, event: event.event === '' ? undefined : event.event, data: normalise(event.data ?? '') };
}

describe('encodeEvent round trip through eventsource-parser', () => {
  it('parses back every encoded event, in order, for any chunking of the stream', () => {
    fc.assert(
      fc.property(fc.array(sseEvent, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (events, cuts) => {
        const bytes = Buffer.concat(events.map((event) => encodeEvent(event)));
        const parsed = parse(split(bytes, cuts));
        const want = events.map(expected).filter((event) => event !== undefined);
        expect(parsed.errors).toEqual([]);
        expect(parsed.comments).toEqual([]);
        expect(parsed.events).toHaveLength(want.length);
        parsed.events.forEach((event, i) => {
          const wanted = want[i] as EventSourceMessage;
          expect(event.data).toBe(wanted.data);
          expect(event.id).toBe(wanted.id);
          expect(event.event).toBe(wanted.event);
        });
        expect(parsed.retries).toEqual(events.flatMap((event) => (event.retry === undefined ? [] : [event.retry])));
      }),
      { numRuns: RUNS },
    );
  });

  it('round-trips id "" as "" and an absent id as undefined', () => {
    const parsed = parse([encodeEvent({ id: '', data: 'a' }), encodeEvent({ data: 'b' })]);
    expect(parsed.events).toEqual([
      { id: '', event: undefined, data: 'a' },
      { id: undefined, event: undefined, data: 'b' },
    ]);
  });

  it('survives a split between any two bytes, including inside a UTF-8 sequence', () => {
    const bytes = encodeEvent({ id: 'é😀', event: '世界', data: 'a😀\r\nb\rc\n' });
    for (let cut = 0; cut <= bytes.byteLength; cut++) {
      expect(parse([bytes.subarray(0, cut), bytes.subarray(cut)]).events).toEqual([{ id: 'é😀', event: '世界', data: 'a😀\nb\nc\n' }]);
    }
  });
});

describe('encodeEvent against injection', () => {
  // One stream, never read: a refused send must leave nothing queued on it.
  const { stream } = createWebStream();

  it('refuses any id or event type holding CR, LF or NUL and writes nothing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('id' as const, 'event' as const),
        injected,
        fc.option(fieldValue, { nil: undefined }),
        dataValue,
        (field, bad, other, data) => {
          const event: SseEvent = field === 'id' ? { id: bad, event: other, data } : { id: other, event: bad, data };
          for (const attempt of [() => encodeEvent(event), () => encodeEventText(event), () => stream.send(event)]) {
            let caught: unknown;
            try {
              attempt();
            } catch (error) {
              caught = error;
            }
            expect(caught).toBeInstanceOf(InvalidFieldError);
            expect((caught as InvalidFieldError).code).toBe('ERR_SSEHUB_INVALID_FIELD');
            expect((caught as InvalidFieldError).field).toBe(field);
          }
          expect(stream.queuedBytes).toBe(0);
        },
      ),
      { numRuns: RUNS },
    );
    expect(stream.closed).toBe(false);
  });

  it('parses a data payload that tries to smuggle fields back as exactly one event carrying that payload', () => {
    fc.assert(
      fc.property(
        dataValue,
        smuggle,
        dataValue,
        fc.option(fieldValue, { nil: undefined }),
        fc.option(fieldValue, { nil: undefined }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (before, attack, after, id, type, cuts) => {
          const data = before + attack + after;
          const parsed = parse(split(encodeEvent({ id, event: type, data }), cuts));
          expect(parsed.errors).toEqual([]);
          expect(parsed.retries).toEqual([]);
          expect(parsed.comments).toEqual([]);
          expect(parsed.events).toHaveLength(1);
          expect(parsed.events[0]?.data).toBe(normalise(data));
          expect(parsed.events[0]?.id).toBe(id);
          expect(parsed.events[0]?.event).toBe(type === '' ? undefined : type);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
