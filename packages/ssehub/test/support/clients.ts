import { EventSource } from 'eventsource';

/** One event as an `eventsource` client saw it. */
export interface Received {
  type: string;
  data: string;
  lastEventId: string;
}

/**
 * A real WHATWG `EventSource` (the `eventsource` package) that records every event of the
 * listed types in arrival order, with helpers to wait for them.
 */
export class RecordingClient {
  readonly source: EventSource;
  readonly events: Received[] = [];
  errors = 0;
  #waiters: Array<() => void> = [];

  constructor(url: string, types: readonly string[] = ['message', 'connected'], init?: ConstructorParameters<typeof EventSource>[1]) {
    this.source = new EventSource(url, init);
    for (const type of types) {
      this.source.addEventListener(type, (event) => {
        this.events.push({ type, data: (event as MessageEvent).data as string, lastEventId: (event as MessageEvent).lastEventId });
        for (const wake of this.#waiters.splice(0)) wake();
      });
    }
    this.source.addEventListener('error', () => {
      this.errors++;
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Events of one type. */
  of(type: string): Received[] {
    return this.events.filter((event) => event.type === type);
  }

  /** Resolves when `predicate` holds, or rejects after `timeoutMs`. */
  async until(predicate: (client: this) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; got ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for `count` events of `type`. */
  waitFor(type: string, count = 1, timeoutMs = 5000): Promise<void> {
    return this.until((client) => client.of(type).length >= count, timeoutMs, `${count} × ${type}`);
  }

  close(): void {
    this.source.close();
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
