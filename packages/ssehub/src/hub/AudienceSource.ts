import type { Target } from '../backends/Backend.js';
import { Audience, type AudiencePublisher, type SendOptions } from './Audience.js';
import { assertTarget } from './draft.js';
import type { EventMap, EventName } from './types.js';

/**
 * Where audiences start: `to…()` and `broadcast()`, shared by everything that publishes (a hub,
 * a publisher for services), each with its own way to publish one event.
 */
export abstract class AudienceSource<Events extends EventMap> {
  readonly #publisher: AudiencePublisher;

  /** @internal `publishTo` publishes one event to `target` and resolves with its id. */
  constructor(publishTo: AudiencePublisher['publishTo']) {
    this.#publisher = { publishTo };
  }

  /** An audience from a target object: `to({ rooms: ['a'], users: ['u1'] })`. */
  to(target: Target): Audience<Events> {
    assertTarget(target);
    return new Audience(this.#publisher, { ...target });
  }

  /** Every connection. */
  toAll(): Audience<Events> {
    return new Audience(this.#publisher, { all: true });
  }

  /** Every connection in these rooms. */
  toRoom(...rooms: string[]): Audience<Events> {
    return new Audience<Events>(this.#publisher, {}).toRoom(...rooms);
  }

  /** Every connection of these users. */
  toUser(...userIds: string[]): Audience<Events> {
    return new Audience<Events>(this.#publisher, {}).toUser(...userIds);
  }

  /** These connections (with Redis, ids handed out by any hub). */
  toClient(...clientIds: string[]): Audience<Events> {
    return new Audience<Events>(this.#publisher, {}).toClient(...clientIds);
  }

  /** Sends `event` to every connection. Shorthand for `toAll().send(event, data)`. */
  broadcast<K extends EventName<Events>>(event: K, data: Events[K], options?: SendOptions): Promise<string> {
    return this.#publisher.publishTo({ all: true }, event, data, options);
  }
}
