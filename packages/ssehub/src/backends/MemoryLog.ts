import type { BackendMessage, LogPosition, LogRead, LogStats } from './Backend.js';
import { RingBuffer } from './RingBuffer.js';
import { targetCost } from './targetCost.js';

/** Bounds of the resume history; an event leaves when any bound is exceeded. */
export interface HistoryOptions {
  /** @defaultValue 10000 */
  maxEvents?: number;
  /**
   * Memory the kept events may hold, in bytes: the UTF-8 bytes of each event's data and name,
   * 64 bytes per event, and 32 bytes plus two per character for each name it targets.
   * @defaultValue 16777216 (16 MiB)
   */
  maxBytes?: number;
  /** Age after which an event is forgotten, in ms. @defaultValue 3600000 (1 hour) */
  maxAgeMs?: number;
}

/** The history bounds used when none are given. */
export const DEFAULT_HISTORY: Readonly<Required<HistoryOptions>> = Object.freeze({
  maxEvents: 10_000,
  maxBytes: 16 * 1024 * 1024,
  maxAgeMs: 60 * 60 * 1000,
});

const EVENT_OVERHEAD_BYTES = 64;

/** A kept message, with when it was kept and what it costs. */
interface Kept {
  readonly message: BackendMessage;
  readonly at: number;
  readonly cost: number;
}

/** What a kept message costs against `maxBytes`. */
export function messageCost(message: BackendMessage): number {
  const name = message.event === undefined ? 0 : Buffer.byteLength(message.event);
  return Buffer.byteLength(message.data) + name + EVENT_OVERHEAD_BYTES + targetCost(message.target);
}

/**
 * A bounded, ordered log of messages in memory: the history of the memory backend. It knows up
 * to which seq it is complete: `floor` is the newest seq that may have been forgotten, so a
 * reader at seq >= floor is served exactly; anything older is stale.
 *
 * Its bound is memory, not just payload: target lists count too, so that events sent to tens of
 * thousands of names cannot grow it past `maxBytes`. A message leaves the moment a bound is
 * exceeded, and nothing keeps it reachable after that.
 */
export class MemoryLog {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #kept = new RingBuffer<Kept>();
  readonly #epoch: string;
  #bytes = 0;
  #floor = 0;
  #head = 0;

  constructor(epoch: string, options: HistoryOptions | false = {}) {
    const bounds = options === false ? { maxEvents: 0 } : options;
    this.#epoch = epoch;
    this.#maxEvents = bounds.maxEvents ?? DEFAULT_HISTORY.maxEvents;
    this.#maxBytes = bounds.maxBytes ?? DEFAULT_HISTORY.maxBytes;
    this.#maxAgeMs = bounds.maxAgeMs ?? DEFAULT_HISTORY.maxAgeMs;
  }

  /** Whether any message is kept at all. */
  get keeps(): boolean {
    return this.#maxEvents > 0;
  }

  /** The newest seq appended. */
  get head(): number {
    return this.#head;
  }

  /** Records `message`, the next in the sequence; keeps it when it is for history. */
  append(message: BackendMessage, now: number): void {
    this.#head = message.seq;
    if (!message.history) return;
    if (this.#maxEvents === 0) {
      // Kept by nobody: every read from before it is stale.
      this.#floor = message.seq;
      return;
    }
    const cost = messageCost(message);
    this.#kept.push({ message, at: now, cost });
    this.#bytes += cost;
    this.#evict(now);
  }

  /** Up to `limit` kept messages after `after`, or why there is no knowing them. */
  read(after: LogPosition, limit: number, now: number): LogRead {
    if (after.epoch !== this.#epoch) return { ok: false, reason: 'unknown-epoch', head: this.#position() };
    if (after.seq > this.#head) return { ok: false, reason: 'ahead', head: this.#position() };
    this.#evict(now);
    if (after.seq < this.#floor) return { ok: false, reason: 'stale', head: this.#position() };
    const messages: BackendMessage[] = [];
    const kept = this.#kept;
    for (let i = this.#firstAfter(after.seq); i < kept.size && messages.length < limit; i++) {
      messages.push((kept.at(i) as Kept).message);
    }
    const last = messages[messages.length - 1];
    const through = messages.length === limit && last !== undefined ? last.seq : this.#head;
    return { ok: true, messages, through, head: this.#head };
  }

  /** With `now`, messages older than `maxAgeMs` are forgotten first, as a read would. */
  stats(now?: number): LogStats {
    if (now !== undefined) this.#evict(now);
    const size = this.#kept.size;
    return {
      size,
      bytes: this.#bytes,
      oldestSeq: this.#kept.at(0)?.message.seq,
      newestSeq: this.#kept.at(size - 1)?.message.seq,
    };
  }

  #position(): LogPosition {
    return { epoch: this.#epoch, seq: this.#head };
  }

  #firstAfter(seq: number): number {
    let low = 0;
    let high = this.#kept.size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#kept.at(mid) as Kept).message.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #evict(now: number): void {
    const oldestAllowed = now - this.#maxAgeMs;
    const kept = this.#kept;
    while (kept.size > 0) {
      const oldest = kept.at(0) as Kept;
      if (kept.size <= this.#maxEvents && this.#bytes <= this.#maxBytes && oldest.at >= oldestAllowed) break;
      kept.shift();
      this.#bytes -= oldest.cost;
      this.#floor = oldest.message.seq;
    }
  }
}
