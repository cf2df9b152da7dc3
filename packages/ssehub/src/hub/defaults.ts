import { DEFAULT_MAX_LAST_EVENT_ID_LENGTH } from '../protocol/lastEventId.js';
import { DEFAULT_MAX_QUEUE_BYTES } from '../stream/SseStream.js';

/** Every default of a hub, in one place (the options' docs say the same). */
export const HUB_DEFAULTS = Object.freeze({
  heartbeatMs: 15_000,
  stallTimeoutMs: 60_000,
  deadPeerTimeoutMs: 30_000,
  retryMs: 2000,
  retryAfterSeconds: 5,
  maxQueueBytes: DEFAULT_MAX_QUEUE_BYTES,
  maxLastEventIdLength: DEFAULT_MAX_LAST_EVENT_ID_LENGTH,
  connectedEvent: 'connected',
  resetEvent: 'ssehub:reset',
  evictedEvent: 'ssehub:evicted',
  /** How long a missing seq is waited for before the log is read to fill the hole, in ms. */
  gapTimeoutMs: 200,
  /** Messages read from the log per step of a catch-up. */
  replayPageSize: 500,
  closeTimeoutMs: 5000,
} as const);

/** The longest id a hub makes: a 32-character epoch, a dash and a 16-digit seq. */
export const MIN_LAST_EVENT_ID_LENGTH = 64;
