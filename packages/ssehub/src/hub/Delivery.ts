import type { Backend, BackendMessage, LogPosition, LogRead } from '../backends/Backend.js';
import { encodeEventText } from '../protocol/encodeEvent.js';
import { formatEventId } from '../protocol/eventId.js';
import type { ResetReason } from './builtinEvents.js';
import type { Member } from './Member.js';
import type { Registry } from './Registry.js';
import { TargetMatcher } from './TargetMatcher.js';
import type { PublishInfo } from './types.js';

/** Running totals delivery keeps (part of the hub's counters). */
export interface DeliveryCounters {
  published: number;
  delivered: number;
  deliveredBytes: number;
  gaps: number;
}

/** What delivery needs of its hub. */
export interface DeliveryHost {
  readonly registry: Registry;
  readonly backend: Backend;
  readonly counters: DeliveryCounters;
  readonly gapTimeoutMs: number;
  readonly pageSize: number;
  /** Tells every member it missed events that cannot be replayed. */
  resetAll(reason: Extract<ResetReason, 'gap' | 'restarted'>): void;
  /** Told of every delivered event; absent when nobody listens (no info is built then). */
  readonly published: ((info: PublishInfo) => void) | undefined;
  error(error: unknown): void;
}

// Out-of-order messages held while a hole is waited for or filled; past this, the hole is
// given up on at once rather than holding more.
const MAX_HELD = 10_000;
// Reads of the log that find the hole still unfilled (a log behind its own deliveries) before
// the hole is given up on.
const MAX_REPAIRS = 10;

/**
 * Turns what the backend delivers into what each connection receives: in seq order, each event
 * once, with no silent gap. The order is put back when messages arrive late; repeats are
 * dropped; a seq that never arrives is read from the log after `gapTimeoutMs`, and if the log
 * no longer has it, every connection is told with the reset event. Each event is encoded once,
 * and the encoding is kept with the message for replays for as long as the log keeps it.
 */
export class Delivery {
  readonly #host: DeliveryHost;
  #epoch = '';
  #delivered = 0;
  #started = false;
  #stamp = 0;
  #headId: string | undefined;
  // Messages that arrived before their turn, by seq.
  readonly #held = new Map<number, BackendMessage>();
  // Messages that arrived before the subscription said where the sequence stood.
  #early: BackendMessage[] | undefined = [];
  // The newest seq known to exist (this hub appended it): a hole at the tail, which no later
  // message would reveal, is found from it.
  #expected = 0;
  #repairTimer: NodeJS.Timeout | undefined;
  #repairing = false;
  #repairs = 0;
  readonly #bytes = new WeakMap<BackendMessage, Uint8Array>();
  readonly #matchers = new WeakMap<BackendMessage, TargetMatcher>();

  constructor(host: DeliveryHost) {
    this.#host = host;
  }

  /** The backend's listener. */
  readonly receive = (message: BackendMessage): void => {
    if (!this.#started) {
      this.#early?.push(message);
      return;
    }
    try {
      this.#receive(message);
    } catch (error) {
      this.#host.error(error);
    }
  };

  /** Where the sequence stood when the subscription began. */
  start(head: LogPosition): void {
    this.#epoch = head.epoch;
    this.#delivered = head.seq;
    this.#headId = undefined;
    this.#started = true;
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const message of early) this.receive(message);
  }

  /** The backend's sequence restarted (its data was lost): everyone may have missed events. */
  readonly restarted = (head: LogPosition): void => {
    if (!this.#started || head.epoch === this.#epoch) return;
    this.stop();
    this.#repairs = 0;
    this.#expected = 0;
    this.#epoch = head.epoch;
    this.#delivered = head.seq;
    this.#headId = undefined;
    this.#host.counters.gaps++;
    this.#host.resetAll('restarted');
  };

  /** This hub appended `seq`: it must arrive, or be read from the log. */
  appended(epoch: string, seq: number): void {
    if (!this.#started || epoch !== this.#epoch || seq <= this.#delivered) return;
    if (seq > this.#expected) this.#expected = seq;
    this.#scheduleRepair();
  }

  /** Stops waiting for holes. */
  stop(): void {
    clearTimeout(this.#repairTimer);
    this.#repairTimer = undefined;
    this.#held.clear();
  }

  get epoch(): string {
    return this.#epoch;
  }

  /** The seq of the last event delivered to this hub's connections. */
  get delivered(): number {
    return this.#delivered;
  }

  /** The id of the last event delivered: where a client that has seen everything stands. */
  get headId(): string {
    // Every new connection reads it: formatted once per event, not once per connection.
    this.#headId ??= formatEventId(this.#epoch, this.#delivered);
    return this.#headId;
  }

  /** The encoded event (kept with the message while the log keeps the message). */
  bytesOf(message: BackendMessage): Uint8Array {
    let bytes = this.#bytes.get(message);
    if (bytes === undefined) {
      bytes = encode(message);
      if (message.history) this.#bytes.set(message, bytes);
    }
    return bytes;
  }

  /** Who `message` is for, in a form that answers for one member cheaply. */
  matcherOf(message: BackendMessage): TargetMatcher {
    let matcher = this.#matchers.get(message);
    if (matcher === undefined) {
      matcher = new TargetMatcher(message.target);
      this.#matchers.set(message, matcher);
    }
    return matcher;
  }

  #receive(message: BackendMessage): void {
    if (message.epoch !== this.#epoch) this.#restart(message);
    const next = this.#delivered + 1;
    if (message.seq < next) return;
    if (message.seq > next) {
      this.#hold(message);
      return;
    }
    this.#deliver(message);
    this.#deliverHeld();
  }

  /** The backend's sequence restarted: everyone may have missed events; start from here. */
  #restart(message: BackendMessage): void {
    this.stop();
    this.#repairs = 0;
    this.#expected = 0;
    this.#epoch = message.epoch;
    this.#delivered = message.seq - 1;
    this.#headId = undefined;
    this.#host.counters.gaps++;
    this.#host.resetAll('restarted');
  }

  #hold(message: BackendMessage): void {
    this.#held.set(message.seq, message);
    if (this.#held.size > MAX_HELD) {
      this.#giveUpHole();
      return;
    }
    this.#scheduleRepair();
  }

  #scheduleRepair(): void {
    if (this.#repairTimer === undefined && !this.#repairing) {
      this.#repairTimer = setTimeout(() => this.#repair(), this.#host.gapTimeoutMs);
      this.#repairTimer.unref();
    }
  }

  /** Whether something is missing: later messages are held, or an appended one has not come. */
  get #missing(): boolean {
    return this.#held.size > 0 || this.#expected > this.#delivered;
  }

  #deliverHeld(): void {
    const held = this.#held;
    if (held.size === 0) return;
    for (let next = this.#delivered + 1; held.has(next); next++) {
      const message = held.get(next) as BackendMessage;
      held.delete(next);
      this.#deliver(message);
    }
    if (!this.#missing) {
      clearTimeout(this.#repairTimer);
      this.#repairTimer = undefined;
      this.#repairs = 0;
    }
  }

  /** A hole has lasted: read it from the log. */
  #repair(): void {
    this.#repairTimer = undefined;
    if (!this.#missing) return;
    const after = { epoch: this.#epoch, seq: this.#delivered };
    let read: LogRead | Promise<LogRead>;
    try {
      read = this.#host.backend.read(after, this.#host.pageSize);
    } catch (error) {
      this.#host.error(error);
      this.#retryRepair();
      return;
    }
    if (!(read instanceof Promise)) {
      this.#filled(after, read);
      return;
    }
    this.#repairing = true;
    read.then(
      (answer) => {
        this.#repairing = false;
        this.#filled(after, answer);
      },
      (error: unknown) => {
        this.#repairing = false;
        this.#host.error(error);
        this.#retryRepair();
      },
    );
  }

  #filled(after: LogPosition, read: LogRead): void {
    // The sequence moved on meanwhile (a restart, or the hole filled itself).
    if (after.epoch !== this.#epoch || !this.#missing) return;
    if (!read.ok) {
      this.#giveUpHole();
      return;
    }
    const fromLog = new Map<number, BackendMessage>();
    for (const message of read.messages) fromLog.set(message.seq, message);
    for (let seq = this.#delivered + 1; seq <= read.through; seq++) {
      const message = this.#held.get(seq) ?? fromLog.get(seq);
      this.#held.delete(seq);
      // Neither received nor kept: an event published without history, lost on the way. It was
      // never resumable, so skipping it is what a resume would have done too.
      if (message === undefined) this.#delivered = seq;
      else this.#deliver(message);
    }
    this.#deliverHeld();
    if (this.#missing) this.#retryRepair();
  }

  #retryRepair(): void {
    if (++this.#repairs > MAX_REPAIRS) {
      this.#giveUpHole();
      return;
    }
    if (this.#repairTimer === undefined) {
      this.#repairTimer = setTimeout(() => this.#repair(), this.#host.gapTimeoutMs);
      this.#repairTimer.unref();
    }
  }

  /** The hole cannot be filled: everyone is told, and delivery goes on after it. */
  #giveUpHole(): void {
    clearTimeout(this.#repairTimer);
    this.#repairTimer = undefined;
    this.#repairs = 0;
    let first = this.#expected + 1;
    for (const seq of this.#held.keys()) if (seq < first) first = seq;
    this.#delivered = first - 1;
    this.#headId = undefined;
    this.#host.counters.gaps++;
    this.#host.resetAll('gap');
    this.#deliverHeld();
  }

  // The hot path: encode once, then queue the same bytes for every recipient exactly once.
  #deliver(message: BackendMessage): void {
    this.#delivered = message.seq;
    this.#headId = undefined;
    const bytes = this.bytesOf(message);
    const registry = this.#host.registry;
    const stamp = ++this.#stamp;
    const target = message.target;
    let recipients = 0;
    if (target.all === true) {
      for (const member of registry.members()) if (offer(member, message, bytes)) recipients++;
    } else {
      if (target.clients !== undefined) {
        for (const id of target.clients) {
          const member = registry.byId(id);
          if (member !== undefined && member.stamp !== stamp) {
            member.stamp = stamp;
            if (offer(member, message, bytes)) recipients++;
          }
        }
      }
      if (target.users !== undefined) {
        for (const user of target.users) recipients += offerAll(registry.userMembers(user), message, bytes, stamp);
      }
      if (target.rooms !== undefined) {
        for (const room of target.rooms) recipients += offerAll(registry.roomMembers(room), message, bytes, stamp);
      }
    }
    const counters = this.#host.counters;
    counters.published++;
    counters.delivered += recipients;
    counters.deliveredBytes += recipients * bytes.byteLength;
    this.#host.published?.({
      id: this.headId,
      event: message.event,
      target,
      recipients,
      history: message.history && this.#host.backend.keepsHistory,
    });
  }
}

/** Queues `bytes` for `member`, or hands them to its catch-up. */
function offer(member: Member, message: BackendMessage, bytes: Uint8Array): boolean {
  const cursor = member.cursor;
  return cursor === undefined ? member.stream.enqueue(bytes) : cursor.offer(message, bytes);
}

function offerAll(members: ReadonlySet<Member> | undefined, message: BackendMessage, bytes: Uint8Array, stamp: number): number {
  if (members === undefined) return 0;
  let recipients = 0;
  for (const member of members) {
    if (member.stamp === stamp) continue;
    member.stamp = stamp;
    if (offer(member, message, bytes)) recipients++;
  }
  return recipients;
}

function encode(message: BackendMessage): Uint8Array {
  // Node's Buffer: pooled, and cheaper than TextEncoder for the short texts of most events.
  return Buffer.from(encodeEventText({ id: formatEventId(message.epoch, message.seq), event: message.event, data: message.data }));
}
