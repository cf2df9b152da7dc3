import { randomBytes } from 'node:crypto';
import type { Backend, BackendListener, BackendMessage, LogPosition, LogRead, LogStats, MessageDraft } from './Backend.js';
import { type HistoryOptions, MemoryLog } from './MemoryLog.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** Bounds of the events kept for resume, or `false` to keep none. @defaultValue see {@link HistoryOptions} */
  history?: HistoryOptions | false;
}

/**
 * The default backend: hubs in one process (usually just one) share events in memory, and its
 * log is the resume history. Everything is synchronous: a publish has reached every local
 * connection's queue when `append` returns, and a resume reads the log in the same turn. Its
 * epoch is new for every instance: after a restart, ids handed out before are recognised.
 */
export class MemoryBackend implements Backend {
  /** Random per instance; see the epoch rule of the backend contract. */
  readonly epoch: string = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
  readonly #log: MemoryLog;
  readonly #listeners: BackendListener[] = [];
  #seq = 0;
  // Messages appended while others are being delivered (a listener that publishes): delivered
  // after them, so that every listener sees one order.
  readonly #queue: BackendMessage[] = [];
  #delivering = false;

  constructor(options: MemoryBackendOptions = {}) {
    this.#log = new MemoryLog(this.epoch, options.history);
  }

  get keepsHistory(): boolean {
    return this.#log.keeps;
  }

  subscribe(listener: BackendListener): LogPosition {
    this.#listeners.push(listener);
    return { epoch: this.epoch, seq: this.#seq };
  }

  unsubscribe(listener: BackendListener): void {
    const index = this.#listeners.indexOf(listener);
    if (index !== -1) this.#listeners.splice(index, 1);
  }

  append(drafts: readonly MessageDraft[]): readonly BackendMessage[] {
    const now = Date.now();
    const messages: BackendMessage[] = [];
    for (const draft of drafts) {
      // A literal rather than a spread: every message has the same shape for the hot path.
      const message: BackendMessage = {
        epoch: this.epoch,
        seq: ++this.#seq,
        event: draft.event,
        data: draft.data,
        target: draft.target,
        history: draft.history,
      };
      this.#log.append(message, now);
      messages.push(message);
      this.#queue.push(message);
    }
    if (!this.#delivering) this.#deliverQueued();
    return messages;
  }

  read(after: LogPosition, limit: number): LogRead {
    return this.#log.read(after, limit, Date.now());
  }

  stats(): LogStats {
    return this.#log.stats(Date.now());
  }

  close(): void {
    this.#listeners.length = 0;
  }

  #deliverQueued(): void {
    this.#delivering = true;
    try {
      for (let i = 0; i < this.#queue.length; i++) {
        const message = this.#queue[i] as BackendMessage;
        for (const listener of this.#listeners) listener(message);
      }
    } finally {
      this.#queue.length = 0;
      this.#delivering = false;
    }
  }
}
