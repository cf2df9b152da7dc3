import type { Socket } from 'node:net';
import { StreamClosedError } from '../errors.js';
import { encodeComment, encodeEvent, encodeRetry } from '../protocol/encodeEvent.js';
import type { LastEventIdClaim } from '../protocol/lastEventId.js';
import type { SseEvent } from '../protocol/SseEvent.js';
import { coarseNow, type Flushable, flushRound, scheduleFlush } from './flushScheduler.js';
import { joinChunks } from './joinChunks.js';
import type { Sink, SinkEvents } from './Sink.js';

/** What happens when a client does not read fast enough and its queue is full. */
export type OverflowPolicy = 'disconnect' | 'drop-oldest';

/** Options of one stream's outgoing queue. */
export interface StreamQueueOptions {
  /**
   * Bytes a stream may hold for a client that is not reading, beyond what the socket buffers.
   * @defaultValue 1048576 (1 MiB)
   */
  maxQueueBytes?: number;
  /**
   * `disconnect` ends the connection (the client reconnects and resumes with Last-Event-ID);
   * `drop-oldest` discards the oldest queued events to make room.
   * @defaultValue 'disconnect'
   */
  overflow?: OverflowPolicy;
}

/** Receives what happens to a stream: one listener per stream, set by its owner (the hub). */
export interface StreamListener {
  streamClosed(stream: SseStream): void;
  streamOverflowed(stream: SseStream, droppedEvents: number, disconnected: boolean): void;
}

export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;

// Past this many queued bytes a writable stream is written at once instead of at the end of
// the loop turn, so a synchronous burst cannot pile up unbounded memory before the flush.
const EAGER_FLUSH_BYTES = 64 * 1024;

enum State {
  Open = 0,
  Closing = 1,
  Closed = 2,
}

/**
 * One Server-Sent Events connection. Sends are queued and written once per loop turn (all
 * pending events in one write); `res.write()` backpressure is honoured and the queue is
 * bounded, with a policy for clients that stop reading.
 *
 * @example
 * const stream = createNodeStream(req, res);
 * stream.sendJSON('price', { symbol: 'ACME', value: 42 });
 * stream.signal.addEventListener('abort', () => clearInterval(timer));
 */
export class SseStream implements Flushable, SinkEvents {
  /** The client's Last-Event-ID (header or `lastEventId` query), when it sent one that fits. */
  readonly lastEventId: string | undefined;
  /** Whether the client sent a Last-Event-ID at all, even one refused as too long. */
  readonly lastEventIdPresent: boolean;
  /** Set by the owner (a hub) to hear about close and overflow. */
  listener: StreamListener | undefined;

  readonly #sink: Sink;
  readonly #maxQueueBytes: number;
  readonly #dropOldest: boolean;
  #chunks: Uint8Array[] | undefined;
  #queuedBytes = 0;
  #marked = false;
  #waitingDrain = false;
  #state = State.Open;
  #endedLocally = false;
  #lastWriteAt = coarseNow;
  #stalledSince = 0;
  #abort: AbortController | undefined;
  #writableWaiters: Array<() => void> | undefined;
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;

  /**
   * A stream on a sink of your own (`createNodeStream`, `createWebStream` and the hub make theirs):
   * `sinkFactory` opens the transport, and is handed the stream to call back on drain and close.
   */
  constructor(sinkFactory: (events: SinkEvents) => Sink, lastEventId: LastEventIdClaim, options: StreamQueueOptions = {}) {
    this.lastEventId = lastEventId.value;
    this.lastEventIdPresent = lastEventId.present;
    this.#maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.#dropOldest = options.overflow === 'drop-oldest';
    this.#sink = sinkFactory(this);
    // The first flush sends the response head, with the first events when there are some.
    this.#marked = true;
    scheduleFlush(this);
  }

  /** True once the connection has ended, from either side. */
  get closed(): boolean {
    return this.#state === State.Closed;
  }

  /** Aborts when the connection ends: hand it to anything that should stop with the client. */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#state === State.Closed) this.#abort.abort();
    }
    return this.#abort.signal;
  }

  /** Resolves when the connection has ended. Never rejects. */
  get done(): Promise<void> {
    if (this.#done === undefined) {
      this.#done =
        this.#state === State.Closed
          ? Promise.resolve()
          : new Promise((resolve) => {
              this.#resolveDone = resolve;
            });
    }
    return this.#done;
  }

  /** True when this side ended the stream (`close()`/`destroy()`), not the peer. */
  get endedLocally(): boolean {
    return this.#endedLocally;
  }

  /** The TCP socket under the stream (for a Web `Response` body there is none to reach). */
  get socket(): Socket | undefined {
    return this.#sink.socket;
  }

  /** Bytes queued for this client and not yet handed to the transport. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** True while the transport is full and the stream waits for it to drain. */
  get backpressured(): boolean {
    return this.#waitingDrain;
  }

  /** Coarse time (ms) of the last write; the heartbeat skips streams written to recently. */
  get lastWriteAt(): number {
    return this.#lastWriteAt;
  }

  /** Coarse time (ms) since when the transport has refused more bytes, or 0. */
  get stalledSince(): number {
    return this.#waitingDrain ? this.#stalledSince : 0;
  }

  /**
   * Resolves when the transport takes bytes again: at once unless it is full, and at the latest
   * when the stream closes. Never rejects.
   */
  whenWritable(): Promise<void> {
    if (!this.#waitingDrain || this.#state === State.Closed) return Promise.resolve();
    return new Promise((resolve) => {
      (this.#writableWaiters ??= []).push(resolve);
    });
  }

  /** Sends an event. Throws `InvalidFieldError` for fields that would break the format. */
  send(event: SseEvent): this {
    this.#assertOpen();
    this.enqueue(encodeEvent(event));
    return this;
  }

  /** Sends a `message` event carrying `data`. */
  sendData(data: string): this {
    return this.send({ data });
  }

  /** Sends an event of type `event` carrying `data`. */
  sendEvent(event: string, data: string): this {
    return this.send({ event, data });
  }

  /** Sends `value` as JSON in an event of type `event` (or `message`). */
  sendJSON(event: string | undefined, value: unknown): this {
    return this.send(event === undefined ? { data: JSON.stringify(value) } : { event, data: JSON.stringify(value) });
  }

  /** Sends a comment line, ignored by clients (keep-alive, debugging). */
  sendComment(text = ''): this {
    this.#assertOpen();
    this.enqueue(encodeComment(text));
    return this;
  }

  /** Tells the client how long to wait before reconnecting, in milliseconds. */
  sendRetry(milliseconds: number): this {
    this.#assertOpen();
    this.enqueue(encodeRetry(milliseconds));
    return this;
  }

  /**
   * Queues already-encoded bytes (a hub encodes an event once and enqueues the same buffer
   * for every recipient). Returns false when the stream is closed or the bytes were refused.
   */
  enqueue(chunk: Uint8Array): boolean {
    if (this.#state !== State.Open) return false;
    if (this.#waitingDrain && this.#queuedBytes + chunk.byteLength > this.#maxQueueBytes) {
      if (!this.#makeRoom(chunk.byteLength)) return false;
    }
    if (this.#chunks === undefined) this.#chunks = [chunk];
    else this.#chunks.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    if (this.#waitingDrain) return true;
    if (this.#queuedBytes >= EAGER_FLUSH_BYTES || this.#queuedBytes >= this.#maxQueueBytes) this.flush();
    else if (!this.#marked) {
      this.#marked = true;
      scheduleFlush(this);
    }
    return true;
  }

  /** Writes every queued chunk in one write, unless the transport asked to wait. */
  flush(): void {
    this.#marked = false;
    if (this.#waitingDrain || this.#state === State.Closed) return;
    if (this.#queuedBytes === 0) {
      this.#sink.flushHead?.();
      return;
    }
    const chunk = this.#takeQueued();
    this.#lastWriteAt = coarseNow;
    if (!this.#sink.write(chunk)) {
      this.#waitingDrain = true;
      this.#stalledSince = coarseNow;
    }
  }

  /**
   * Ends the stream after what is queued. Call it when your handler is finished; the hub
   * calls it on `hub.close()`.
   */
  close(): void {
    if (this.#state !== State.Open) return;
    this.#state = State.Closing;
    this.#endedLocally = true;
    // Graceful: the queue is bounded, so it is handed over whole before the end.
    if (this.#queuedBytes > 0) this.#sink.write(this.#takeQueued());
    this.#sink.end();
  }

  /** Drops the connection at once, discarding what is queued. */
  destroy(): void {
    if (this.#state === State.Closed) return;
    this.#endedLocally = true;
    this.#chunks = undefined;
    this.#queuedBytes = 0;
    this.#sink.destroy();
    this.sinkClosed();
  }

  /** Called by the sink when the transport can take more bytes (see `SinkEvents`). */
  sinkDrained(): void {
    this.#waitingDrain = false;
    if (this.#queuedBytes > 0) this.flush();
    if (!this.#waitingDrain) this.#wakeWriters();
  }

  /** Called by the sink when the connection has ended (see `SinkEvents`). */
  sinkClosed(): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    this.#chunks = undefined;
    this.#queuedBytes = 0;
    this.#abort?.abort();
    this.#wakeWriters();
    this.#resolveDone?.();
    if (this.#done === undefined) this.#done = Promise.resolve();
    this.listener?.streamClosed(this);
  }

  #wakeWriters(): void {
    const waiters = this.#writableWaiters;
    if (waiters === undefined) return;
    this.#writableWaiters = undefined;
    for (const wake of waiters) wake();
  }

  #takeQueued(): Uint8Array {
    const chunks = this.#chunks as Uint8Array[];
    const chunk = chunks.length === 1 ? (chunks[0] as Uint8Array) : joinChunks(chunks, this.#queuedBytes, flushRound);
    chunks.length = 0;
    this.#queuedBytes = 0;
    return chunk;
  }

  /** Applies the overflow policy. Returns whether `incoming` bytes may now be queued. */
  #makeRoom(incoming: number): boolean {
    if (!this.#dropOldest || incoming > this.#maxQueueBytes) {
      if (!this.#dropOldest) {
        this.listener?.streamOverflowed(this, 0, true);
        this.destroy();
        return false;
      }
      this.listener?.streamOverflowed(this, 1, false);
      return false;
    }
    const chunks = this.#chunks as Uint8Array[];
    let dropped = 0;
    while (this.#queuedBytes + incoming > this.#maxQueueBytes && chunks.length > 0) {
      this.#queuedBytes -= (chunks.shift() as Uint8Array).byteLength;
      dropped++;
    }
    this.listener?.streamOverflowed(this, dropped, false);
    return true;
  }

  #assertOpen(): void {
    if (this.#state !== State.Open) throw new StreamClosedError();
  }
}
