import type { Target } from '../backends/Backend.js';
import { formatEventId, parseEventId } from './eventId.js';

/** Bounds of the resume history; an event leaves when any bound is exceeded. */
export interface HistoryOptions {
  /** @defaultValue 10000 */
  maxEvents?: number;
  /** Encoded bytes of all kept events. @defaultValue 16777216 (16 MiB) */
  maxBytes?: number;
  /** Age after which an event is forgotten, in ms. @defaultValue 3600000 (1 hour) */
  maxAgeMs?: number;
}

/** One kept event: its encoded bytes (replay never re-encodes) and who it was for. */
export interface HistoryEntry {
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly target: Target;
  readonly at: number;
}

/** Why a Last-Event-ID cannot be resumed from. */
export type ResetReason = 'malformed' | 'too-long' | 'unknown-epoch' | 'stale' | 'ahead';

/** The answer to "what came after this id?". */
export type HistoryLookup =
  | { readonly ok: true; readonly entries: readonly HistoryEntry[]; readonly from: number }
  | { readonly ok: false; readonly reason: Exclude<ResetReason, 'too-long'> };

/** What the history holds, for status pages. */
export interface HistoryStats {
  readonly size: number;
  readonly bytes: number;
  readonly oldestId: string | undefined;
  readonly newestId: string | undefined;
  /** The id a client is at after every event so far (also sent with a reset). */
  readonly headId: string;
}

/**
 * A bounded, ordered log of published events. It knows up to which seq it is complete:
 * `floor` is the newest seq that may have been forgotten, so a client at seq >= floor can be
 * served exactly; anything older gets a reset.
 */
export class History {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  // A queue with a moving head: cheaper than shift() on every eviction.
  #entries: HistoryEntry[] = [];
  #head = 0;
  #bytes = 0;
  #epoch = '';
  #floor = 0;
  #latest = 0;
  #headId: string | undefined;

  constructor(options: HistoryOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.#maxAgeMs = options.maxAgeMs ?? 60 * 60 * 1000;
  }

  /** Starts a sequence: nothing before `seq` in `epoch` can be replayed. */
  reset(epoch: string, seq: number): void {
    this.#epoch = epoch;
    this.#floor = seq;
    this.#latest = seq;
    this.#headId = undefined;
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  get epoch(): string {
    return this.#epoch;
  }

  /** The id of the newest event so far: where a client that has seen everything stands. */
  get headId(): string {
    // Every new connection reads it: formatted once per event, not once per connection.
    this.#headId ??= formatEventId(this.#epoch, this.#latest);
    return this.#headId;
  }

  /** Records that `seq` happened; keeps the event when `entry` is given. */
  record(epoch: string, seq: number, entry: HistoryEntry | undefined): void {
    if (epoch !== this.#epoch) this.reset(epoch, seq - 1);
    this.#latest = seq;
    this.#headId = undefined;
    if (entry === undefined) return;
    this.#entries.push(entry);
    this.#bytes += entry.bytes.byteLength;
    this.#evict(entry.at);
  }

  /** The events after `lastEventId`, or why they cannot be known. */
  after(lastEventId: string, now: number): HistoryLookup {
    const parsed = parseEventId(lastEventId);
    if (parsed === undefined) return { ok: false, reason: 'malformed' };
    if (parsed.epoch !== this.#epoch) return { ok: false, reason: 'unknown-epoch' };
    if (parsed.seq > this.#latest) return { ok: false, reason: 'ahead' };
    this.#evict(now);
    if (parsed.seq < this.#floor) return { ok: false, reason: 'stale' };
    return { ok: true, entries: this.#entries, from: this.#firstAfter(parsed.seq) };
  }

  /** With `now`, events older than `maxAgeMs` are forgotten first, as a lookup would. */
  stats(now?: number): HistoryStats {
    if (now !== undefined) this.#evict(now);
    const size = this.#entries.length - this.#head;
    const oldest = this.#entries[this.#head];
    // Evicted entries stay in the array until compaction: an empty history has no newest.
    const newest = size === 0 ? undefined : this.#entries[this.#entries.length - 1];
    return {
      size,
      bytes: this.#bytes,
      oldestId: oldest === undefined ? undefined : formatEventId(this.#epoch, oldest.seq),
      newestId: newest === undefined ? undefined : formatEventId(this.#epoch, newest.seq),
      headId: formatEventId(this.#epoch, this.#latest),
    };
  }

  #firstAfter(seq: number): number {
    let low = this.#head;
    let high = this.#entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#entries[mid] as HistoryEntry).seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #evict(now: number): void {
    const oldestAllowed = now - this.#maxAgeMs;
    const entries = this.#entries;
    while (this.#head < entries.length) {
      const oldest = entries[this.#head] as HistoryEntry;
      const size = entries.length - this.#head;
      if (size <= this.#maxEvents && this.#bytes <= this.#maxBytes && oldest.at >= oldestAllowed) break;
      this.#bytes -= oldest.bytes.byteLength;
      this.#floor = oldest.seq;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
