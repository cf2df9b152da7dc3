/**
 * The backend contract: how hubs share events. A backend is an ordered log. Every publish is
 * appended to it, which gives the event its place (its `seq`); the backend hands every appended
 * event to every subscribed hub (the publishing hub included), which delivers it to its own
 * connections; and the log can be read after a position, which is how a reconnecting client
 * catches up, on any hub.
 *
 * A backend must:
 * 1. give each appended message a `seq` one greater than the one before it, within an `epoch`;
 * 2. append a batch whole or not at all, with consecutive seqs;
 * 3. deliver every message to every subscribed hub, in `seq` order, exactly once, as far as it
 *    can. A hub tolerates less: it puts late messages back in order, drops repeats, and fills a
 *    hole from `read` (or tells the affected clients it cannot) — never a silent gap;
 * 4. keep messages published with `history: true` for `read`, within its bounds, and know from
 *    which seq on it still has every one of them;
 * 5. change `epoch` whenever its sequence restarts (memory lost, Redis flushed), so that ids from
 *    before can never be mistaken for new ones.
 * @module
 */

/** Who an event is for. Members are unioned; each recipient receives the event once. */
export interface Target {
  /** Every connection of the hub(s). */
  readonly all?: boolean;
  /** Connection (client) ids. */
  readonly clients?: readonly string[];
  /** User ids: every connection of each user. */
  readonly users?: readonly string[];
  /** Room names: every connection in each room. */
  readonly rooms?: readonly string[];
}

/** An event on its way to the backend, before it has an id. */
export interface MessageDraft {
  /** Event type; `undefined` dispatches as `message`. */
  readonly event: string | undefined;
  /** The payload, already a string (JSON for non-string values). */
  readonly data: string;
  readonly target: Target;
  /** Whether the event is kept for resume. */
  readonly history: boolean;
}

/** An event with its place in the backend's sequence. Its SSE id is `${epoch}-${seq}`. */
export interface BackendMessage extends MessageDraft {
  readonly epoch: string;
  readonly seq: number;
}

/** A place in a backend's sequence: after the event `seq` of `epoch` (0 before the first). */
export interface LogPosition {
  readonly epoch: string;
  readonly seq: number;
}

/** Why the log cannot be read after a position. */
export type UnreadableReason =
  /** The position is from another sequence (another backend, or before a restart). */
  | 'unknown-epoch'
  /** Events after the position have been forgotten (history bounds). */
  | 'stale'
  /** The position is past the newest event: no such event was ever appended. */
  | 'ahead';

/** The answer to "what was kept after this position?". */
export type LogRead =
  | {
      readonly ok: true;
      /** Kept messages after the position, in seq order; at most the `limit` asked for. */
      readonly messages: readonly BackendMessage[];
      /**
       * The read is complete up to this seq: any seq up to it that is not in `messages` was not
       * kept (`history: false`). Below `head` when the limit cut the read short.
       */
      readonly through: number;
      /** The newest seq of the log when it was read. */
      readonly head: number;
    }
  | { readonly ok: false; readonly reason: UnreadableReason; readonly head: LogPosition };

/** What a backend's log holds, for status pages. */
export interface LogStats {
  /** Messages kept for resume. */
  readonly size: number;
  /** Memory they hold, as counted against the log's byte bound. */
  readonly bytes: number;
  /** Oldest and newest kept seqs (undefined when none is kept). */
  readonly oldestSeq: number | undefined;
  readonly newestSeq: number | undefined;
}

/** Receives every message of a backend, in seq order as far as the backend can. */
export type BackendListener = (message: BackendMessage) => void;

/** What else a backend tells its subscribers. */
export interface BackendEvents {
  /**
   * The sequence restarted (the backend's data was lost): from now on, messages come in the new
   * epoch, after `head`. Events may have been lost with the old sequence.
   */
  restarted?(head: LogPosition): void;
}

/** The contract every backend implements. Kept small on purpose; see the module comment. */
export interface Backend {
  /**
   * Starts delivering every message appended by any hub to `listener`. Resolves with the head of
   * the sequence at that moment: messages after it are delivered, messages up to it are not.
   */
  subscribe(listener: BackendListener, events?: BackendEvents): Promise<LogPosition> | LogPosition;
  /** Stops delivering to `listener`. */
  unsubscribe(listener: BackendListener): Promise<void> | void;
  /**
   * Appends `drafts` as one unit (consecutive seqs, all or none) and shares them with every
   * subscriber. Resolves with the messages, in order; rejects without appending any of them.
   */
  append(drafts: readonly MessageDraft[]): Promise<readonly BackendMessage[]> | readonly BackendMessage[];
  /** Reads up to `limit` kept messages after `after`. */
  read(after: LogPosition, limit: number): Promise<LogRead> | LogRead;
  /** Whether this backend keeps any event for resume. */
  readonly keepsHistory: boolean;
  /**
   * Whether the backend can take appends now (`false` while a remote backend is unreachable:
   * appends are then refused at once, never queued). Absent means always.
   */
  readonly available?: boolean;
  /** What the log holds now, when the backend can tell cheaply. */
  stats?(): LogStats;
  /** Releases the backend's resources (connections, timers). */
  close(): Promise<void> | void;
}
