/**
 * The events a hub sends by itself, whatever the application's event map: their payloads are
 * part of the API, typed here for clients (the browser client reads the same shapes).
 * @module
 */

/** Why a client's Last-Event-ID could not be resumed from, or a live client missed events. */
export type ResetReason =
  /** The id is not one this hub makes. */
  | 'malformed'
  /** The id is longer than `maxLastEventIdLength`. */
  | 'too-long'
  /** The id is from another sequence (another backend, or before a restart of it). */
  | 'unknown-epoch'
  /** Events after the id have left the history. */
  | 'stale'
  /** The id is past the newest event: no such event was ever published. */
  | 'ahead'
  /** The hub missed events from its backend and its log no longer has them. */
  | 'gap'
  /** The backend's sequence restarted (its data was lost): events may have been lost with it. */
  | 'restarted';

/** Data of the first event of every stream (`connected` unless renamed). */
export interface ConnectedEventData {
  readonly clientId: string;
  readonly userId: string | null;
}

/**
 * Data of the reset event (`ssehub:reset` unless renamed): the client missed events that cannot
 * be replayed, and should reload its state. The event's id is `headId`, so that the client's
 * next resume starts from now.
 */
export interface ResetEventData {
  readonly reason: ResetReason;
  /** The id the client resumed from (null for a live client). */
  readonly lastEventId: string | null;
  readonly headId: string;
}

/** Data of `ssehub:evicted`, sent before a connection is ended to make room for a newer one. */
export interface EvictedEventData {
  readonly clientId: string;
}

/** The built-in events by name (with their default names). */
export interface BuiltinEvents {
  connected: ConnectedEventData;
  'ssehub:reset': ResetEventData;
  'ssehub:evicted': EvictedEventData;
}
