/**
 * Hostile strings for the fuzzing suites, and an independent reader of event-stream bytes.
 *
 * The strings mix every line break form the WHATWG parser splits on (CRLF, CR, LF), the
 * Unicode separators it must not split on (U+2028, U+2029, U+0085), NUL, lone surrogates,
 * a BOM, control characters and text that looks like SSE fields (`\n\ndata:`, `id:`, …).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';

export const LINE_BREAKS = ['\r\n', '\r', '\n'] as const;
/** Line separators in Unicode, but not in SSE: they must travel as data. */
export const UNICODE_SEPARATORS = ['\u2028', '\u2029', '\u0085'] as const;
export const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'] as const;
export const BOM = '\uFEFF';

/** Text that tries to end the current line or event and start a forged field or event. */
export const INJECTIONS = [
  '\n\ndata: forged\n\n',
  '\n\nid: forged\n',
  '\r\revent: forged\r',
  '\r\n\r\nevent: forged\r\ndata: forged\r\n\r\n',
  '\n\nretry: 1\n\n',
  '\n: comment\n',
  '\ndata:',
  '\rid:',
  '\r\nevent:',
  'data: ',
  'data:data:',
  'id: ',
  'event:',
  ':',
  `${BOM}data: `,
  '\0\n\nid: \0',
] as const;

/** Single characters that are no line break in SSE but are hostile elsewhere. */
const ODD = ['\t', '\v', '\f', '\x1b', '\x7f', '\x1c', '\x1d', '\x1e', '\u00a0', ' ', '"', '\\', '%', '&', '+', '=', '?', '#'];

/** A printable grapheme, astral ones included. */
const grapheme = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 });

/** One piece of a hostile string: any of the above, or plain text. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: grapheme },
  { weight: 2, arbitrary: fc.constantFrom(...LINE_BREAKS) },
  { weight: 2, arbitrary: fc.constantFrom(...UNICODE_SEPARATORS) },
  { weight: 2, arbitrary: fc.constantFrom(...LONE_SURROGATES) },
  { weight: 1, arbitrary: fc.constantFrom('\0', BOM, '😀', '\u{10FFFF}') },
  { weight: 2, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.constantFrom(...ODD) },
);

const FORBIDDEN_IN_FIELD = /[\r\n\0]/;

/** A piece of a hostile string that may stand in an `id` or `event` field: no CR, LF or NUL. */
export const singleLineUnit: fc.Arbitrary<string> = hostileUnit.map((unit) => unit.replace(/[\r\n\0]/g, ''));

/** A hostile string (any piece, line breaks and NUL included). */
export function hostileText(maxLength = 24, minLength = 0): fc.Arbitrary<string> {
  return fc.string({ unit: hostileUnit, minLength, maxLength });
}

/** A hostile string that is still a valid `id`/`event` value (no CR, LF or NUL). */
export function singleLineText(maxLength = 16, minLength = 0): fc.Arbitrary<string> {
  return fc.string({ unit: singleLineUnit, minLength, maxLength });
}

/** A hostile string holding at least one CR, LF or NUL: never a valid `id`/`event` value. */
export function forbiddenField(maxLength = 8): fc.Arbitrary<string> {
  return fc
    .tuple(
      hostileText(maxLength),
      fc.constantFrom('\r', '\n', '\r\n', '\0', ...INJECTIONS.filter((text) => FORBIDDEN_IN_FIELD.test(text))),
      hostileText(maxLength),
    )
    .map(([before, bad, after]) => before + bad + after);
}

/** A JSON-compatible value whose strings (values and keys) are hostile. */
export function hostileJson(maxLength = 12): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      hostileText(maxLength),
      fc.constantFrom(null, true, false, 0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(hostileText(6), tie('value'), { maxKeys: 4 }),
    ),
  }));
  return value;
}

/**
 * What a string becomes after UTF-8 encoding and decoding: every unpaired surrogate turned
 * into U+FFFD, everything else unchanged (`String.prototype.toWellFormed`, which Node 20
 * may lack). Without the `u` flag the pattern sees UTF-16 code units.
 */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** What the WHATWG parser rebuilds from `data`: every CRLF, CR and LF joined back as LF. */
export function normaliseLineBreaks(data: string): string {
  return data.replace(/\r\n|\r|\n/g, '\n');
}

/** The `data` a parser reads back for `data` sent as a string. */
export function dataAsRead(data: string): string {
  return normaliseLineBreaks(wellFormed(data));
}

/** Splits `bytes` at the given (unsorted, possibly repeated) cut points. */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
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

/**
 * Reads event-stream bytes as they arrive: a strict (fatal) streaming UTF-8 decoder feeding
 * `eventsource-parser`, recording every event, `retry:`, comment and parse error.
 */
export class StreamReader {
  readonly events: EventSourceMessage[] = [];
  readonly retries: number[] = [];
  readonly comments: string[] = [];
  readonly errors: string[] = [];
  #decoder = new TextDecoder('utf-8', { fatal: true });
  #parser = createParser({
    onEvent: (event) => this.events.push(event),
    onRetry: (retry) => this.retries.push(retry),
    onComment: (comment) => this.comments.push(comment),
    onError: (error) => this.errors.push(error.message),
  });

  feed(bytes: Uint8Array): void {
    this.#parser.feed(this.#decoder.decode(bytes, { stream: true }));
  }

  /** Ends the input (a partial UTF-8 sequence left over throws). */
  end(): void {
    this.#parser.feed(this.#decoder.decode());
  }

  /** Parses whole byte chunks at once. */
  static read(chunks: readonly Uint8Array[]): StreamReader {
    const reader = new StreamReader();
    for (const chunk of chunks) reader.feed(chunk);
    reader.end();
    return reader;
  }
}

/** Where two strings first differ (-1 when equal): a readable failure for megabyte values. */
export function firstDifference(a: string, b: string): number {
  if (a === b) return -1;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return i;
  return length;
}
