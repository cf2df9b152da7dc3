/**
 * The backend contract: how hubs share events. Every publish goes through a backend, which
 * gives the event its place in the sequence and hands it back to every hub sharing the backend
 * (the publishing hub included), which then delivers it to its own connections.
 *
 * A backend must:
 * 1. assign each message a `seq` greater than every earlier one within the same `epoch`;
 * 2. deliver every message to every subscribed hub exactly once, in `seq` order;
 * 3. change `epoch` whenever its sequence restarts (memory lost, Redis flushed), so that ids
 *    from before can never be mistaken for new ones.
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
  /** Whether the event is kept in the resume history. */
  readonly history: boolean;
}

/** An event with its place in the backend's sequence. Its SSE id is `${epoch}-${seq}`. */
export interface BackendMessage extends MessageDraft {
  readonly epoch: string;
  readonly seq: number;
}

/** Where a backend's sequence stands: its epoch and the last seq it assigned (0 for none). */
export interface BackendHead {
  readonly epoch: string;
  readonly seq: number;
}

/** The contract every backend implements. Kept small on purpose; see the module comment. */
export interface Backend {
  /**
   * Starts delivering every message published on this backend, by any hub, to `deliver`,
   * in `seq` order. Resolves with the head of the sequence at that moment.
   */
  subscribe(deliver: (message: BackendMessage) => void): Promise<BackendHead> | BackendHead;
  /** Stops delivering to `deliver`. */
  unsubscribe(deliver: (message: BackendMessage) => void): Promise<void> | void;
  /** Assigns the next seq to `draft`, shares it with every subscriber and returns it. */
  publish(draft: MessageDraft): Promise<BackendMessage> | BackendMessage;
  /** Releases the backend's resources (connections, timers). */
  close(): Promise<void> | void;
}
