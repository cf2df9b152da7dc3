import type { Target } from '../backends/Backend.js';
import { formatEventId, parseEventId } from './eventId.js';
import { RingBuffer } from './RingBuffer.js';
import { TargetMatcher } from './TargetMatcher.js';

/** Bounds of the resume history; an event leaves when any bound is exceeded. */
export interface HistoryOptions {
  /** @defaultValue 10000 */
  maxEvents?: number;
  /**
   * Memory the kept events may hold, in bytes: their encoded bytes plus their target lists
   * (every room, user and client name, estimated on the safe side). @defaultValue 16777216 (16 MiB)
   */
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

/** A kept event with what it costs and a fast way to tell its recipients. */
interface Kept {
  readonly entry: HistoryEntry;
  readonly matcher: TargetMatcher;
  readonly cost: number;
}

/** Why a Last-Event-ID cannot be resumed from. */
export type ResetReason = 'malformed' | 'too-long' | 'unknown-epoch' | 'stale' | 'ahead';

/** The answer to "what came after this id?". */
export type HistoryLookup =
  | { readonly ok: true; readonly entries: readonly HistoryEntry[]; readonly matchers: readonly TargetMatcher[] }
  | { readonly ok: false; readonly reason: Exclude<ResetReason, 'too-long'> };

/** What the history holds, for status pages. */
export interface HistoryStats {
  readonly size: number;
  /** Memory held, as counted against `maxBytes`: encoded bytes plus target names. */
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
 *
 * Its bound is memory, not just encoded bytes: an event's target lists count too, so that
 * events sent to tens of thousands of names cannot grow it past `maxBytes`. An event leaves
 * the moment a bound is exceeded, and nothing keeps it reachable after that.
 */
export class History {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #kept = new RingBuffer<Kept>();
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
    this.#kept.clear();
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
    if (this.#maxEvents === 0) {
      // Kept by nobody: every resume from before it is a reset.
      this.#floor = seq;
      return;
    }
    const matcher = new TargetMatcher(entry.target);
    const cost = entry.bytes.byteLength + matcher.cost;
    this.#kept.push({ entry, matcher, cost });
    this.#bytes += cost;
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
    const entries: HistoryEntry[] = [];
    const matchers: TargetMatcher[] = [];
    for (let i = this.#firstAfter(parsed.seq); i < this.#kept.size; i++) {
      const kept = this.#kept.at(i) as Kept;
      entries.push(kept.entry);
      matchers.push(kept.matcher);
    }
    return { ok: true, entries, matchers };
  }

  /** With `now`, events older than `maxAgeMs` are forgotten first, as a lookup would. */
  stats(now?: number): HistoryStats {
    if (now !== undefined) this.#evict(now);
    const size = this.#kept.size;
    const oldest = this.#kept.at(0)?.entry;
    const newest = this.#kept.at(size - 1)?.entry;
    return {
      size,
      bytes: this.#bytes,
      oldestId: oldest === undefined ? undefined : formatEventId(this.#epoch, oldest.seq),
      newestId: newest === undefined ? undefined : formatEventId(this.#epoch, newest.seq),
      headId: formatEventId(this.#epoch, this.#latest),
    };
  }

  #firstAfter(seq: number): number {
    let low = 0;
    let high = this.#kept.size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#kept.at(mid) as Kept).entry.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #evict(now: number): void {
    const oldestAllowed = now - this.#maxAgeMs;
    const kept = this.#kept;
    while (kept.size > 0) {
      const oldest = kept.at(0) as Kept;
      if (kept.size <= this.#maxEvents && this.#bytes <= this.#maxBytes && oldest.entry.at >= oldestAllowed) break;
      kept.shift();
      this.#bytes -= oldest.cost;
      this.#floor = oldest.entry.seq;
    }
  }
}
