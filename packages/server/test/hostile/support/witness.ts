/**
 * A legitimate subscriber connected through an attack, and the ledger of the events that were
 * legitimately published meanwhile: afterwards it must have seen exactly those, each once, with
 * the ids their publishers were answered, in order. A forged event, a lost one or one delivered
 * twice shows up as a difference.
 */
import { expect } from 'vitest';
import { type Parsed, WireSubscriber } from '../../support/hostile.js';
import { publish } from '../../support/http.js';
import { sign } from '../../support/jwt.js';
import type { HostileTarget } from './target.js';

/** The sequence number of an id like `3f9a…-42`. */
const seqOf = (id: string | undefined): number => Number(id?.split('-').pop());

export class Witness {
  readonly #target: HostileTarget;
  readonly #subscriber: WireSubscriber;
  readonly #accepted: Parsed[] = [];
  #markers = 0;

  private constructor(target: HostileTarget, subscriber: WireSubscriber) {
    this.#target = target;
    this.#subscriber = subscriber;
  }

  /** Connects a subscriber (a JWT in production) and waits for its `connected` event. */
  static async open(target: HostileTarget): Promise<Witness> {
    const query = target.mode === 'production' ? `token=${await sign({ sub: 'witness', rooms: ['*'] })}` : 'user=witness';
    const subscriber = new WireSubscriber(`${target.url}/events?${query}`);
    await subscriber.until((event) => event.event === 'connected', 'the witness to connect');
    return new Witness(target, subscriber);
  }

  /** Every event received but `connected`, in arrival order. */
  get received(): Parsed[] {
    return this.#subscriber.events.filter((event) => event.event !== 'connected');
  }

  /** The received events whose data holds `tag`. */
  tagged(tag: string): Parsed[] {
    return this.received.filter((event) => event.data.includes(tag));
  }

  /** How many events were legitimately published so far. */
  get acceptedCount(): number {
    return this.#accepted.length;
  }

  /** Publishes one event as a legitimate publisher does; resolves with its id. */
  async publish(data: string, event = 'legit'): Promise<string> {
    const answer = await publish(this.#target.url, { event, data }, { ...this.#target.publishHeaders });
    expect(answer.status, answer.text).toBe(202);
    const id = answer.json.id as string;
    this.accept({ id, event, data });
    return id;
  }

  /** Records an event the server was right to publish (a well-formed request it answered 202). */
  accept(event: Parsed): void {
    this.#accepted.push(event);
  }

  /**
   * Publishes a marker and waits for it: events are delivered in order, so whatever was
   * published before it has arrived by then.
   */
  async barrier(timeoutMs = 5000): Promise<void> {
    const data = `marker-${++this.#markers}`;
    const id = await this.publish(data, 'marker');
    await this.#subscriber.until((event) => event.id === id, `the marker ${data}`, timeoutMs);
  }

  /** Asserts the subscriber saw exactly the legitimate events, each once, with their ids, in order. */
  async expectExactlyLegit(): Promise<void> {
    await this.barrier();
    const expected = [...this.#accepted].sort((a, b) => seqOf(a.id) - seqOf(b.id));
    expect(this.received).toEqual(expected);
    expect(this.#subscriber.errors).toEqual([]);
    // Nothing else was published either, to anyone.
    expect(this.#target.server.hub.counters.published).toBe(this.#accepted.length);
  }

  close(): void {
    this.#subscriber.close();
  }
}
