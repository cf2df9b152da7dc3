import type { Socket } from 'node:net';

/**
 * A strict reader of HTTP/1.1 request heads, for the one request the SSE server answers
 * itself: `GET <path>` with no body. Anything it does not fully understand is not an error
 * here: the connection is handed to `node:http`, which answers it (400, 431, …) or serves it.
 *
 * Everything here runs before authentication, on bytes an attacker chooses: each byte is
 * looked at a bounded number of times, whatever the head holds and however it is split.
 */

/** The head of a request for an event stream. */
export interface RequestHead {
  readonly method: string;
  /** The request target as sent (origin form: path and query). */
  readonly url: string;
  /** Header values by lower-case name; repeated headers joined as Node joins them. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The request the SSE server serves itself, as authenticate sees it in `request.raw`: the same
 * `method`, `url`, `headers` and `socket` an `IncomingMessage` has.
 */
export interface SocketRequest extends RequestHead {
  readonly socket: Socket;
}

/** Longest head read before handing the connection over (Node's own default limit). */
export const MAX_HEAD_BYTES = 16 * 1024;

const CR = 13;
const LF = 10;

/** What {@link HeadReader.feed} found so far. */
export type HeadScan =
  /** The head has not ended yet; feed more. */
  | { readonly state: 'partial' }
  /** The blank line arrived: `head` is every byte before it (without the final CRLF CRLF). */
  | { readonly state: 'complete'; readonly head: Buffer }
  /** Never a strict head, however much more arrives (a bare CR or LF, or over the size limit). */
  | { readonly state: 'invalid' };

const PARTIAL: HeadScan = Object.freeze({ state: 'partial' });
const INVALID: HeadScan = Object.freeze({ state: 'invalid' });

/**
 * Finds the end of one request head as its bytes arrive. Each call scans only the bytes it is
 * given (a line-break state carries over between chunks), and the bytes are joined once, when
 * the head is complete or handed over: a head dribbled a byte at a time costs no more than one
 * sent whole.
 */
export class HeadReader {
  readonly #chunks: Buffer[] = [];
  #length = 0;
  // The byte before the current one was a CR (its LF may be in the next chunk).
  #afterCr = false;
  // Bytes on the current line so far, line breaks excluded.
  #lineLength = 0;

  /** Every byte fed so far, joined (what is handed to node:http untouched). */
  get received(): Buffer {
    if (this.#chunks.length > 1) {
      const joined = Buffer.concat(this.#chunks, this.#length);
      this.#chunks.length = 0;
      this.#chunks.push(joined);
    }
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  /** Scans `chunk`, which follows every chunk fed before. */
  feed(chunk: Buffer): HeadScan {
    const start = this.#length;
    this.#chunks.push(chunk);
    this.#length += chunk.byteLength;
    let afterCr = this.#afterCr;
    let lineLength = this.#lineLength;
    for (let at = 0; at < chunk.length; at++) {
      const byte = chunk[at];
      if (afterCr) {
        // Only CRLF breaks a line of a strict head: a CR alone never does.
        if (byte !== LF) return INVALID;
        afterCr = false;
        if (lineLength === 0) {
          const end = start + at + 1;
          if (end > MAX_HEAD_BYTES) return INVALID;
          return { state: 'complete', head: this.received.subarray(0, Math.max(end - 4, 0)) };
        }
        lineLength = 0;
      } else if (byte === CR) afterCr = true;
      else if (byte === LF) return INVALID;
      else lineLength++;
    }
    if (this.#length >= MAX_HEAD_BYTES) return INVALID;
    this.#afterCr = afterCr;
    this.#lineLength = lineLength;
    return PARTIAL;
  }
}

// Header names that must appear once: a second one is how requests are smuggled, and node:http
// and this reader would not read it the same way (Node keeps the first, this would join them).
const SINGLE = new Set(['host', 'authorization', 'content-length', 'transfer-encoding', 'last-event-id']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const METHOD = /^[A-Z]{1,16}$/;
// Controls other than tab: NUL, a CR or LF alone, ESC, DEL… (llhttp refuses them too).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const BAD_TARGET = /[\x00-\x20\x7f-\xff]/;

const isOptionalSpace = (code: number): boolean => code === 32 || code === 9;

/**
 * Parses a complete head (without its final blank line) in one pass; `undefined` when not
 * strictly valid. No pattern here can backtrack: values are trimmed by index, not by regex.
 */
export function parseRequestHead(text: string): RequestHead | undefined {
  const lines = text.split('\r\n');
  const requestLine = lines[0] ?? '';
  const methodEnd = requestLine.indexOf(' ');
  const targetEnd = methodEnd === -1 ? -1 : requestLine.indexOf(' ', methodEnd + 1);
  if (targetEnd === -1 || requestLine.slice(targetEnd + 1) !== 'HTTP/1.1') return undefined;
  const method = requestLine.slice(0, methodEnd);
  const url = requestLine.slice(methodEnd + 1, targetEnd);
  if (!METHOD.test(method) || url.charCodeAt(0) !== 47 /* / */ || BAD_TARGET.test(url)) return undefined;
  const headers: Record<string, string> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const rawName = line.slice(0, colon);
    if (!TOKEN.test(rawName)) return undefined;
    let from = colon + 1;
    let to = line.length;
    while (from < to && isOptionalSpace(line.charCodeAt(from))) from++;
    while (to > from && isOptionalSpace(line.charCodeAt(to - 1))) to--;
    const value = line.slice(from, to);
    if (BAD_VALUE.test(value)) return undefined;
    const name = rawName.toLowerCase();
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (SINGLE.has(name)) return undefined;
    else headers[name] = `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return { method, url, headers };
}
