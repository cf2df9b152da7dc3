import type { SinkEvents } from './Sink.js';

/** What emits `'drain'` when a refused write has gone out: a response or a socket. */
interface DrainEmitter {
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * The backpressure part every Node sink shares: `'drain'` is listened for only while a write
 * waits for it (most connections never need it), once, whatever the number of refused writes.
 */
export abstract class DrainAwaitingSink {
  protected readonly events: SinkEvents;
  #awaitingDrain = false;

  protected constructor(events: SinkEvents) {
    this.events = events;
  }

  /** Call when a write returned false: the stream hears `sinkDrained` when it may write again. */
  protected refused(emitter: DrainEmitter): false {
    if (!this.#awaitingDrain) {
      this.#awaitingDrain = true;
      emitter.once('drain', () => {
        this.#awaitingDrain = false;
        this.events.sinkDrained();
      });
    }
    return false;
  }
}
