import type { Backend, BackendMessage, LogRead } from '../backends/Backend.js';
import type { ResetReason } from './builtinEvents.js';
import type { Delivery } from './Delivery.js';
import type { Member } from './Member.js';

/** What a catch-up needs of its hub. */
export interface CursorHost {
  readonly backend: Backend;
  readonly delivery: Delivery;
  readonly pageSize: number;
  readonly maxQueueBytes: number;
  /** Tells `member` its missed events cannot be replayed (the reset event). */
  reset(member: Member, reason: ResetReason): void;
  replayed(events: number): void;
  error(error: unknown): void;
}

/** A live event offered during a catch-up. */
interface Offered {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

/**
 * Where one resuming connection stands in the log, while it catches up. A connection is
 * admitted, then catches up (reads the log after its Last-Event-ID, in pages, possibly
 * asynchronously), then is live. Live events that reach it meanwhile are held and merged by
 * seq, so that it receives every event addressed to it exactly once, in order, whatever the
 * timing: an event read from the log is never sent again live, and an event delivered live
 * during the read is sent after the replay, not before.
 *
 * A connection may also be ahead of this hub (it saw events on another hub that this one has
 * not delivered yet): it waits, dropping what it has seen, until this hub passes it.
 */
export class Cursor {
  readonly #host: CursorHost;
  readonly #member: Member;
  readonly #epoch: string;
  // The last seq this connection has been given (or was at when it connected).
  #position: number;
  #reading = true;
  #held: Offered[] | undefined;
  #heldBytes = 0;
  #replayed = 0;
  #cancelled = false;

  constructor(host: CursorHost, member: Member, epoch: string, position: number) {
    this.#host = host;
    this.#member = member;
    this.#epoch = epoch;
    this.#position = position;
  }

  /**
   * Catches up: synchronously as far as the log answers synchronously and the connection takes
   * the bytes, asynchronously from the first read that is not (or the first full socket) on.
   */
  run(): void {
    this.#member.cursor = this;
    this.#step();
  }

  /** A live event for this connection: held during the read, dropped when already given. */
  offer(message: BackendMessage, bytes: Uint8Array): boolean {
    if (message.seq <= this.#position) return false;
    if (!this.#reading) {
      // This hub has just passed the connection: from here on it is live.
      this.#position = message.seq;
      this.#member.cursor = undefined;
      return this.#member.stream.enqueue(bytes);
    }
    this.#heldBytes += bytes.byteLength;
    if (this.#heldBytes > this.#host.maxQueueBytes) {
      // Too much arrived during a slow read: the client reconnects and resumes from what it got.
      this.#stop();
      this.#member.stream.close();
      return false;
    }
    (this.#held ??= []).push({ seq: message.seq, bytes });
    return true;
  }

  /** The hub reset the connection (a hole, a restart): what this cursor was doing is moot. */
  cancel(): void {
    this.#stop();
  }

  #step(): void {
    for (;;) {
      if (this.#cancelled) return;
      const stream = this.#member.stream;
      if (stream.closed) {
        this.#stop();
        return;
      }
      if (stream.backpressured) {
        stream.whenWritable().then(() => this.#step());
        return;
      }
      let read: LogRead | Promise<LogRead>;
      try {
        read = this.#host.backend.read({ epoch: this.#epoch, seq: this.#position }, this.#host.pageSize);
      } catch (error) {
        this.#failed(error);
        return;
      }
      if (read instanceof Promise) {
        read.then(
          (answer) => {
            if (!this.#cancelled && this.#page(answer)) this.#step();
          },
          (error: unknown) => this.#failed(error),
        );
        return;
      }
      if (!this.#page(read)) return;
    }
  }

  /** Replays one page. Returns whether there is more to read. */
  #page(read: LogRead): boolean {
    if (!read.ok) {
      this.#stop();
      this.#host.reset(this.#member, read.reason);
      return false;
    }
    const member = this.#member;
    const stream = member.stream;
    const delivery = this.#host.delivery;
    const maxQueueBytes = this.#host.maxQueueBytes;
    for (const message of read.messages) {
      if (message.seq <= this.#position) continue;
      if (delivery.matcherOf(message).matches(member)) {
        const bytes = delivery.bytesOf(message);
        // A replay bigger than the queue waits for the socket rather than tripping the overflow
        // policy (which would end the stream, or drop events): the rest of the page is read again.
        if (stream.backpressured && stream.queuedBytes + bytes.byteLength > maxQueueBytes) return true;
        if (stream.enqueue(bytes)) this.#replayed++;
      }
      this.#position = message.seq;
    }
    if (read.through > this.#position) this.#position = read.through;
    // A page cut short by the limit: more to read.
    if (read.through < read.head) return true;
    this.#finish();
    return false;
  }

  /** The log is read: the events held meanwhile follow, and the connection goes live. */
  #finish(): void {
    this.#reading = false;
    this.#host.replayed(this.#replayed);
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      for (const offered of held) {
        if (offered.seq <= this.#position) continue;
        this.#member.stream.enqueue(offered.bytes);
        this.#position = offered.seq;
      }
    }
    // Still ahead of this hub's deliveries: `offer` drops what was seen, then goes live.
    if (this.#position <= this.#host.delivery.delivered) this.#member.cursor = undefined;
  }

  #failed(error: unknown): void {
    this.#host.error(error);
    this.#stop();
    // Whether the events in between can be known is unknown: the client resumes again later.
    this.#member.stream.close();
  }

  #stop(): void {
    this.#cancelled = true;
    this.#reading = false;
    this.#held = undefined;
    if (this.#member.cursor === this) this.#member.cursor = undefined;
  }
}
