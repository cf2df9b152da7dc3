import type { Target } from '../backends/Backend.js';
import type { BadgeUpdate, NewItem, Notification } from './helperEvents.js';
import type { EventMap, EventName } from './types.js';

/** Per-publish options. */
export interface SendOptions {
  /**
   * Keep the event for resume. `false` for ephemeral events (typing, cursors).
   * @defaultValue true, unless the event or a target room is configured as ephemeral
   */
  history?: boolean;
}

/** @internal What an audience publishes through (the hub hands each audience its own, private one). */
export interface AudiencePublisher {
  publishTo(target: Target, event: string | undefined, data: unknown, options: SendOptions | undefined): Promise<string>;
}

function union(list: readonly string[] | undefined, more: readonly string[]): readonly string[] {
  for (const item of more) if (typeof item !== 'string') throw new TypeError('Target ids and room names must be strings');
  return list === undefined ? more : [...list, ...more];
}

/**
 * A set of recipients: connections, users, rooms or everyone, and unions of them. Built with
 * `hub.to…()`; each `to…` returns a new audience, so audiences can be kept and reused. A
 * connection that matches several parts still receives each event once.
 *
 * @example
 * await hub.toRoom('lobby').toUser('alice').send('chat', { from: 'bob', text: 'hi' });
 */
export class Audience<Events extends EventMap = Record<string, unknown>> {
  readonly target: Target;
  readonly #publisher: AudiencePublisher;

  /** @internal Audiences come from `hub.to…()` (the type is exported, the constructor is not part of the API). */
  constructor(publisher: AudiencePublisher, target: Target) {
    this.#publisher = publisher;
    this.target = target;
  }

  /** Adds every connection in these rooms. */
  toRoom(...rooms: string[]): Audience<Events> {
    return new Audience(this.#publisher, { ...this.target, rooms: union(this.target.rooms, rooms) });
  }

  /** Adds every connection of these users. */
  toUser(...userIds: string[]): Audience<Events> {
    return new Audience(this.#publisher, { ...this.target, users: union(this.target.users, userIds) });
  }

  /** Adds these connections. */
  toClient(...clientIds: string[]): Audience<Events> {
    return new Audience(this.#publisher, { ...this.target, clients: union(this.target.clients, clientIds) });
  }

  /** Adds every connection. */
  toAll(): Audience<Events> {
    return new Audience(this.#publisher, { ...this.target, all: true });
  }

  /**
   * Publishes `event` with `data` (strings as they are, anything else as JSON). Resolves with
   * the event id the recipients see; rejects with `HubClosedError`, `InvalidFieldError`,
   * `InvalidDataError` or `BackendError` (nothing was published then).
   */
  send<K extends EventName<Events>>(event: K, data: Events[K], options?: SendOptions): Promise<string> {
    return this.#publisher.publishTo(this.target, event, data, options);
  }

  /** Sends a `notification` event. */
  notify(notification: Notification, options?: SendOptions): Promise<string> {
    return this.#publisher.publishTo(this.target, 'notification', notification, options);
  }

  /** Sends a `badge-update` event. */
  updateBadge(update: BadgeUpdate, options?: SendOptions): Promise<string> {
    return this.#publisher.publishTo(this.target, 'badge-update', update, options);
  }

  /** Sends a `new-item` event. */
  newItem(item: NewItem, options?: SendOptions): Promise<string> {
    return this.#publisher.publishTo(this.target, 'new-item', item, options);
  }
}
