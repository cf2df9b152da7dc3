import { EventSource } from 'eventsource';

/** One event as an `eventsource` client saw it. */
export interface Received {
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

/** Options of a {@link Subscriber}. */
export interface SubscriberOptions {
  /** Event types to record, besides `connected` and `message`. */
  types?: readonly string[];
  /** Extra request headers (Authorization, Cookie). */
  headers?: Record<string, string>;
}

/**
 * A real WHATWG EventSource (the `eventsource` package) recording every event of the listed
 * types in arrival order.
 */
export class Subscriber {
  readonly source: EventSource;
  readonly events: Received[] = [];
  errors = 0;
  #waiters = new Set<() => void>();

  constructor(url: string, options: SubscriberOptions = {}) {
    const headers = options.headers;
    this.source = new EventSource(url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
    });
    for (const type of new Set(['connected', 'message', ...(options.types ?? [])])) {
      this.source.addEventListener(type, (event) => {
        const message = event as unknown as { data: string; lastEventId: string };
        this.events.push({ type, data: message.data, lastEventId: message.lastEventId });
        this.#wake();
      });
    }
    this.source.addEventListener('error', () => {
      this.errors++;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }

  /** Events of one type. */
  of(type: string): Received[] {
    return this.events.filter((event) => event.type === type);
  }

  /** The `connected` event's data. */
  get identity(): { clientId: string; userId: string | null } {
    const connected = this.of('connected')[0];
    if (connected === undefined) throw new Error('not connected yet');
    return JSON.parse(connected.data) as { clientId: string; userId: string | null };
  }

  /** Resolves when `predicate` holds, or rejects after `timeoutMs`. */
  until(predicate: (subscriber: this) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Waits for `count` events of `type`. */
  waitFor(type: string, count = 1, timeoutMs = 5000): Promise<void> {
    return this.until((subscriber) => subscriber.of(type).length >= count, timeoutMs, `${count} × ${type}`);
  }

  /** Connects and waits for the `connected` event. */
  static async open(url: string, options: SubscriberOptions = {}): Promise<Subscriber> {
    const subscriber = new Subscriber(url, options);
    await subscriber.waitFor('connected');
    return subscriber;
  }

  close(): void {
    this.source.close();
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
