/**
 * One Server-Sent Event as the application describes it, before it is encoded.
 * Every field is optional; an event with no `data` is sent with an empty `data:` line so
 * that it still dispatches in the browser.
 */
export interface SseEvent {
  /** Becomes the client's `lastEventId`; must not contain CR, LF or NUL. */
  id?: string;
  /** The event type (`addEventListener(type)`); `message` when absent. No CR, LF or NUL. */
  event?: string;
  /** The payload; any line break inside it (CRLF, CR, LF) starts a new `data:` line. */
  data?: string;
  /** Reconnection delay hint in milliseconds: a non-negative integer. */
  retry?: number;
}
