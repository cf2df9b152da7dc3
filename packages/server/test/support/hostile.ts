/**
 * Hostile strings for fuzzing the HTTP API, and a subscriber that parses the raw bytes of
 * `GET /events` with `eventsource-parser` (not an EventSource: it sees every event of every
 * type, every `retry:` and every comment).
 */
import http from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';

/** Text that tries to end the current line or event and start a forged field or event. */
const INJECTIONS = [
  '\n\ndata: forged\n\n',
  '\n\nid: forged\n',
  '\r\revent: forged\r',
  '\r\n\r\nevent: forged\r\ndata: forged\r\n\r\n',
  '\n\nretry: 1\n\n',
  '\n: comment\n',
  'data: ',
  'id: ',
  'event:',
  '\uFEFFdata: ',
  '\0\n\nid: \0',
] as const;

const grapheme = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 });

/** One piece of a hostile string: line breaks, Unicode separators, NUL, lone surrogates, a BOM, look-alike fields, odd characters or plain text. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: grapheme },
  { weight: 2, arbitrary: fc.constantFrom('\r\n', '\r', '\n') },
  { weight: 2, arbitrary: fc.constantFrom('\u2028', '\u2029', '\u0085') },
  { weight: 2, arbitrary: fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF') },
  { weight: 1, arbitrary: fc.constantFrom('\0', '\uFEFF', '😀') },
  { weight: 2, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.constantFrom('\t', '\v', '\x1b', '\x7f', ' ', '"', '\\', '%', '&', '+', '=', '?', '#', '/') },
);

export function hostileText(maxLength = 24, minLength = 0): fc.Arbitrary<string> {
  return fc.string({ unit: hostileUnit, minLength, maxLength });
}

/** A hostile string without CR, LF or NUL. */
export function singleLineText(maxLength = 16, minLength = 0): fc.Arbitrary<string> {
  return fc.string({ unit: hostileUnit.map((unit) => unit.replace(/[\r\n\0]/g, '')), minLength, maxLength });
}

/** A hostile string holding at least one CR, LF or NUL. */
export function forbiddenText(maxLength = 8): fc.Arbitrary<string> {
  return fc
    .tuple(
      hostileText(maxLength),
      fc.constantFrom('\r', '\n', '\r\n', '\0', '\n\nevent: forged\n', '\r\rdata: x\r'),
      hostileText(maxLength),
    )
    .map(([before, bad, after]) => before + bad + after);
}

/** A JSON value whose strings (values and keys) are hostile. */
export function hostileJson(maxLength = 12): fc.Arbitrary<unknown> {
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      hostileText(maxLength),
      fc.constantFrom(null, true, false, 0, -1, 1.5, 1e21),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(hostileText(6), tie('value'), { maxKeys: 4 }),
    ),
  }));
  return value;
}

/** `String.prototype.toWellFormed` (Node 20 may lack it): unpaired surrogates become U+FFFD, as UTF-8 makes them. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** The `data` a parser reads back for a string sent as data: well-formed, every CRLF, CR and LF read as LF. */
export function dataAsRead(data: string): string {
  return wellFormed(data).replace(/\r\n|\r|\n/g, '\n');
}

/**
 * Encodes `text` as UTF-8, except that a lone surrogate is written as its own three bytes
 * (WTF-8) instead of U+FFFD: bytes that are not valid UTF-8.
 */
export function wtf8(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code >= 0xd800 && code <= 0xdfff) parts.push(Buffer.from([0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]));
    else parts.push(Buffer.from(char, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** One parsed event. */
export interface Parsed {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * A `GET /events` connection read with node's HTTP client, its bytes decoded strictly (a
 * byte that is not UTF-8 is an error) and parsed by `eventsource-parser`.
 */
export class WireSubscriber {
  readonly events: Parsed[] = [];
  readonly retries: number[] = [];
  readonly comments: string[] = [];
  readonly errors: string[] = [];
  status: number | undefined;
  /** Events already taken. */
  #seen = 0;
  readonly #request: http.ClientRequest;
  readonly #waiters = new Set<() => void>();

  constructor(url: string) {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const parser = createParser({
      onEvent: ({ id, event, data }: EventSourceMessage) => this.events.push({ id, event, data }),
      onRetry: (retry) => this.retries.push(retry),
      onComment: (comment) => this.comments.push(comment),
      onError: (error) => this.errors.push(error.message),
    });
    this.#request = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      this.status = res.statusCode;
      res.on('data', (chunk: Buffer) => {
        try {
          parser.feed(decoder.decode(chunk, { stream: true }));
        } catch (error) {
          this.errors.push(String(error));
        }
        for (const wake of this.#waiters) wake();
      });
    });
    this.#request.on('error', (error) => this.errors.push(String(error)));
  }

  /** Resolves once an event satisfying `predicate` arrived past the events already taken. */
  until(predicate: (event: Parsed) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!this.events.slice(this.#seen).some(predicate)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}; got ${JSON.stringify(this.events.slice(this.#seen))}, errors ${JSON.stringify(this.errors)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** The events parsed since the last call. */
  take(): Parsed[] {
    const events = this.events.slice(this.#seen);
    this.#seen = this.events.length;
    return events;
  }

  close(): void {
    this.#request.destroy();
  }
}
