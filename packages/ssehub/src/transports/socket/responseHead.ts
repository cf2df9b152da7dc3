/**
 * Response heads written by the SSE server itself: the event stream's `200` and the JSON
 * answer of a refused connection. Both close the connection when they end (`Connection:
 * close`): the server answers one request per connection, the stream.
 */
import { STATUS_CODES } from 'node:http';
import { SSE_HEADERS } from '../../stream/headers.js';
import { assertValidHeaders } from '../assertValidHeaders.js';

// RFC 9110 asks an origin server with a clock for a Date header; refreshed once a second.
let dateLine = '';
let dateSecond = -1;

function currentDateLine(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

// Framing is this server's business: these are never taken from the extra headers.
const FRAMING = new Set(['connection', 'content-length', 'transfer-encoding', 'date']);

// `Content-Type` given by an application replaces ours rather than adding a second line.
function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const name of Object.keys(headers)) lower[name.toLowerCase()] = headers[name] as string;
  return lower;
}

function headerLines(headers: Readonly<Record<string, string>>): string {
  // The same checks node:http makes: a header cannot smuggle a line break into the head.
  assertValidHeaders(headers);
  let lines = '';
  for (const name of Object.keys(headers)) {
    if (FRAMING.has(name.toLowerCase())) continue;
    const value = headers[name] as string;
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}

// The event-stream head without its date, per set of extra headers (a hub passes the same
// frozen object to every stream; others are rebuilt each time, as they may change).
const streamHeads = new WeakMap<object, { before: string; after: string }>();
const NO_EXTRA = Object.freeze({});

function streamHeadParts(extra: Readonly<Record<string, string>>): { before: string; after: string } {
  let parts = streamHeads.get(extra);
  if (parts === undefined) {
    parts = {
      before: `HTTP/1.1 200 OK\r\n${headerLines({ ...SSE_HEADERS, ...lowerCased(extra) })}`,
      after: 'connection: close\r\ntransfer-encoding: chunked\r\n\r\n',
    };
    if (Object.isFrozen(extra)) streamHeads.set(extra, parts);
  }
  return parts;
}

let cachedHead: Buffer | undefined;
let cachedFor: { parts: object; date: string } | undefined;

/** The head of an event stream response, as bytes. */
export function streamHead(extraHeaders?: Readonly<Record<string, string>>): Buffer {
  const parts = streamHeadParts(extraHeaders ?? NO_EXTRA);
  const date = currentDateLine();
  // Most connections of a second share one buffer: nothing changes between them.
  if (cachedHead !== undefined && cachedFor?.parts === parts && cachedFor.date === date) return cachedHead;
  cachedHead = Buffer.from(`${parts.before}${date}${parts.after}`, 'latin1');
  cachedFor = { parts, date };
  return cachedHead;
}

/** A whole response with a body, as bytes (refusals, timeouts). */
export function completeResponse(status: number, headers: Readonly<Record<string, string>>, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${headerLines(headers)}${currentDateLine()}` +
    `content-length: ${payload.byteLength}\r\nconnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** The content type of every JSON answer. */
export const JSON_TYPE: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json; charset=utf-8' });

/** The JSON body of an error the SSE server answers itself: `{"error":{"code","message"}}`. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** A whole JSON error response, as bytes. */
export function errorResponse(status: number, code: string, message: string): Buffer {
  return completeResponse(status, JSON_TYPE, errorBody(code, message));
}
