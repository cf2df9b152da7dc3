import type { Socket } from 'node:net';

/**
 * A strict reader of HTTP/1.1 request heads, for the one request the SSE server answers
 * itself: `GET <path>` with no body. Anything it does not fully understand is not an error
 * here: the connection is handed to `node:http`, which answers it (400, 431, …) or serves it.
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

const REQUEST_LINE = /^([A-Z]{1,16}) (\/[^\s]*) HTTP\/1\.1$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
// Controls other than tab: a CR or LF alone, NUL, … (llhttp refuses them too).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const BAD_TARGET = /[\x00-\x20\x7f-\xff]/;

/** Index just past the blank line that ends the head, or -1 while it has not arrived. */
export function headEnd(bytes: Buffer): number {
  const at = bytes.indexOf('\r\n\r\n', 0, 'latin1');
  return at === -1 ? -1 : at + 4;
}

/**
 * Whether `bytes` hold a line break other than CRLF: a LF alone, or a CR followed by anything
 * but LF. Such a head is never strictly valid, however much more of it arrives.
 */
export function hasBareLineBreak(bytes: Buffer): boolean {
  for (let at = 0; at < bytes.length; at++) {
    const byte = bytes[at];
    if (byte === 10 && (at === 0 || bytes[at - 1] !== 13)) return true;
    if (byte === 13 && at + 1 < bytes.length && bytes[at + 1] !== 10) return true;
  }
  return false;
}

/** Parses a complete head (without its final blank line); `undefined` when not strictly valid. */
export function parseRequestHead(text: string): RequestHead | undefined {
  const lines = text.split('\r\n');
  const requestLine = REQUEST_LINE.exec(lines[0] ?? '');
  if (requestLine === null) return undefined;
  const url = requestLine[2] as string;
  if (BAD_TARGET.test(url)) return undefined;
  const headers: Record<string, string> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const match = HEADER_LINE.exec(line);
    if (match === null) return undefined;
    const value = match[2] as string;
    if (BAD_VALUE.test(value)) return undefined;
    const name = (match[1] as string).toLowerCase();
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else headers[name] = `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return { method: requestLine[1] as string, url, headers };
}
