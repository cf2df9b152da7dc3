import type { SseEvent } from './SseEvent.js';
import { assertRetry, assertSingleLineField } from './validateField.js';

const LINE_BREAK = /\r\n|\r|\n/;
// The protocol layer is runtime-neutral (a browser or a worker can use it): bytes come from
// TextEncoder, not Node's Buffer.
const utf8 = new TextEncoder();

/**
 * Appends `data:` lines for `data`. Every CRLF, CR or LF starts a new line, exactly as the
 * WHATWG parser splits them, so the browser rebuilds the same string (with LF joins).
 */
function encodeData(data: string): string {
  // Fast path: most payloads (JSON) hold no line break at all.
  if (!LINE_BREAK.test(data)) return data === '' ? 'data:\n' : `data: ${data}\n`;
  let out = '';
  for (const line of data.split(LINE_BREAK)) out += line === '' ? 'data:\n' : `data: ${line}\n`;
  return out;
}

/**
 * Encodes an event as spec-exact text, ending with the blank line that dispatches it.
 * Throws {@link InvalidFieldError} for an `id`/`event` holding CR, LF or NUL or a bad `retry`.
 *
 * @example
 * encodeEventText({ id: '7', event: 'chat', data: 'hi\nthere' })
 * // 'id: 7\nevent: chat\ndata: hi\ndata: there\n\n'
 */
export function encodeEventText(event: SseEvent): string {
  let out = '';
  if (event.id !== undefined) {
    assertSingleLineField('id', event.id);
    out += event.id === '' ? 'id:\n' : `id: ${event.id}\n`;
  }
  if (event.event !== undefined) {
    assertSingleLineField('event', event.event);
    out += `event: ${event.event}\n`;
  }
  if (event.retry !== undefined) {
    assertRetry(event.retry);
    out += `retry: ${event.retry}\n`;
  }
  // Only a pure retry hint goes without a data line; anything else must dispatch.
  if (event.data !== undefined || event.retry === undefined || event.id !== undefined || event.event !== undefined) {
    out += encodeData(event.data ?? '');
  }
  return `${out}\n`;
}

/**
 * Encodes an event to bytes once; the same buffer is then written to every recipient.
 */
export function encodeEvent(event: SseEvent): Uint8Array {
  return utf8.encode(encodeEventText(event));
}

/**
 * Encodes a comment (ignored by clients; used for keep-alive). Line breaks inside `text`
 * become separate comment lines so a comment can never turn into a field.
 */
export function encodeComment(text = ''): Uint8Array {
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`;
  return utf8.encode(`${out}\n`);
}

/** Encodes a lone `retry:` hint (no event is dispatched) as text. */
export function encodeRetryText(milliseconds: number): string {
  assertRetry(milliseconds);
  return `retry: ${milliseconds}\n\n`;
}

/** Encodes a lone `retry:` hint (no event is dispatched). */
export function encodeRetry(milliseconds: number): Uint8Array {
  return utf8.encode(encodeRetryText(milliseconds));
}
