/**
 * A backend that keeps the contract's promises only as far as a network-bound one would: every
 * call is asynchronous, each delivery to each subscriber arrives after its own random delay (so
 * out of order), some deliveries are lost outright, and reads of the log are slow. The log
 * itself (ids, history) is exact. A hub on it must still give every client every event
 * addressed to it, once, in order — or say it cannot.
 */
import { randomBytes } from 'node:crypto';
import type { Backend, BackendListener, BackendMessage, LogPosition, LogRead, LogStats, MessageDraft } from '../../src/backends/Backend.js';
import { type HistoryOptions, MemoryLog } from '../../src/backends/MemoryLog.js';
import { prng } from '../resume/harness.js';

export interface AwkwardOptions {
  history?: HistoryOptions | false;
  /** Longest delay of a delivery, a read, an append, in ms. @defaultValue 20 */
  maxDelayMs?: number;
  /** Share of deliveries lost (0..1). @defaultValue 0.02 */
  lossRate?: number;
  /** Seed of the randomness, for a reproducible run. */
  seed?: number;
}

export class AwkwardBackend implements Backend {
  readonly epoch = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
  readonly #log: MemoryLog;
  readonly #listeners = new Set<BackendListener>();
  readonly #random: () => number;
  readonly #maxDelayMs: number;
  readonly #lossRate: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #seq = 0;
  /** Deliveries lost so far. */
  lost = 0;
  /** Deliveries made so far. */
  delivered = 0;

  constructor(options: AwkwardOptions = {}) {
    this.#log = new MemoryLog(this.epoch, options.history);
    this.#random = prng(options.seed ?? 0xa3c0);
    this.#maxDelayMs = options.maxDelayMs ?? 20;
    this.#lossRate = options.lossRate ?? 0.02;
  }

  get keepsHistory(): boolean {
    return this.#log.keeps;
  }

  subscribe(listener: BackendListener): Promise<LogPosition> {
    return this.#later(() => {
      this.#listeners.add(listener);
      return { epoch: this.epoch, seq: this.#seq };
    });
  }

  unsubscribe(listener: BackendListener): Promise<void> {
    this.#listeners.delete(listener);
    return Promise.resolve();
  }

  append(drafts: readonly MessageDraft[]): Promise<readonly BackendMessage[]> {
    // The seqs are taken now (a Redis script would too): ids follow the order of the calls.
    const now = Date.now();
    const messages = drafts.map((draft) => {
      const message: BackendMessage = { ...draft, epoch: this.epoch, seq: ++this.#seq };
      this.#log.append(message, now);
      return message;
    });
    for (const listener of this.#listeners) {
      for (const message of messages) {
        if (this.#random() < this.#lossRate) {
          this.lost++;
          continue;
        }
        this.#after(() => {
          this.delivered++;
          if (this.#listeners.has(listener)) listener(message);
        });
      }
    }
    return this.#later(() => messages);
  }

  read(after: LogPosition, limit: number): Promise<LogRead> {
    return this.#later(() => this.#log.read(after, limit, Date.now()));
  }

  stats(): LogStats {
    return this.#log.stats(Date.now());
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#listeners.clear();
  }

  #after(run: () => void): void {
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        run();
      },
      Math.floor(this.#random() * this.#maxDelayMs),
    );
    this.#timers.add(timer);
  }

  #later<T>(make: () => T): Promise<T> {
    return new Promise((resolve) => this.#after(() => resolve(make())));
  }
}
