/**
 * The wire format alone: spec-exact encoding of Server-Sent Events and Last-Event-ID parsing,
 * with no streams and no hub.
 * @module
 */

export { encodeComment, encodeEvent, encodeEventText, encodeRetry, encodeRetryText } from './encodeEvent.js';
export { formatEventId, parseEventId } from './eventId.js';
export { DEFAULT_MAX_LAST_EVENT_ID_LENGTH, type LastEventIdClaim, readLastEventId } from './lastEventId.js';
export type { SseEvent } from './SseEvent.js';
export { assertRetry, assertSingleLineField } from './validateField.js';
