import { randomBytes } from 'node:crypto';
import type { Backend, BackendHead, BackendMessage, MessageDraft } from './Backend.js';

/**
 * The default backend: hubs in one process (usually just one) share events in memory.
 * Delivery is synchronous, so a publish has reached every local connection's queue when
 * `publish` returns. Its epoch is new for every instance: after a restart, ids handed out
 * before are recognised as stale.
 */
export class MemoryBackend implements Backend {
  /** Random per instance; see the epoch rule of the backend contract. */
  readonly epoch: string = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
  #seq = 0;
  readonly #subscribers: Array<(message: BackendMessage) => void> = [];

  subscribe(deliver: (message: BackendMessage) => void): BackendHead {
    this.#subscribers.push(deliver);
    return { epoch: this.epoch, seq: this.#seq };
  }

  unsubscribe(deliver: (message: BackendMessage) => void): void {
    const index = this.#subscribers.indexOf(deliver);
    if (index !== -1) this.#subscribers.splice(index, 1);
  }

  publish(draft: MessageDraft): BackendMessage {
    const message: BackendMessage = { ...draft, epoch: this.epoch, seq: ++this.#seq };
    for (const deliver of this.#subscribers) deliver(message);
    return message;
  }

  close(): void {
    this.#subscribers.length = 0;
  }
}
