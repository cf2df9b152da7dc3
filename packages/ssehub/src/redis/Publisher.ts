import type { MessageDraft, Target } from '../backends/Backend.js';
import { BackendError } from '../errors.js';
import { Audience, type AudiencePublisher, type SendOptions } from '../hub/Audience.js';
import { assertTarget, makeDraft } from '../hub/draft.js';
import type { PublishMessage } from '../hub/Hub.js';
import type { EventMap, EventName } from '../hub/types.js';
import { formatEventId } from '../protocol/eventId.js';
import { firstConnection, openConnections, type RedisConnections, type RedisInput } from './connections.js';
import { appendArguments, defineScripts, redisKeys } from './RedisBackend.js';

/** Options of {@link createPublisher}. */
export interface PublisherOptions {
  /** The Redis the hubs use: a URL or an ioredis client (duplicated: it stays yours to close). */
  redis: RedisInput;
  /** The hubs' key prefix. @defaultValue 'ssehub' */
  prefix?: string;
  /** The hubs' mode. @defaultValue 'log' */
  mode?: 'log' | 'pubsub';
  /** The hubs' history bounds (the log is trimmed to them as events are appended). */
  history?: { maxEvents?: number; maxAgeMs?: number } | false;
  /** Events of these names are never kept for resume. */
  ephemeralEvents?: readonly string[];
  /** Events to these rooms are never kept for resume. */
  ephemeralRooms?: readonly string[];
}

/**
 * Publishes to the clients of every hub on a Redis, from a service that holds no connection
 * (a worker, a cron job, another API): the same typed audience API as a hub, the same ids.
 *
 * @example
 * const publisher = createPublisher<Events>({ redis: process.env.REDIS_URL });
 * const id = await publisher.toUser('ada').send('transaction', { id: 't1', status: 'settled' });
 */
export class Publisher<Events extends EventMap = Record<string, unknown>> {
  readonly #connections: RedisConnections;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #mode: 'log' | 'pubsub';
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #ephemeralEvents: ReadonlySet<string>;
  readonly #ephemeralRooms: ReadonlySet<string>;
  readonly #publisher: AudiencePublisher;
  readonly #commands: ReturnType<typeof defineScripts>;

  constructor(options: PublisherOptions) {
    this.#mode = options.mode ?? 'log';
    this.#keys = redisKeys(options.prefix ?? 'ssehub');
    const history = options.history === false ? { maxEvents: 0 } : (options.history ?? {});
    const maxEvents = history.maxEvents ?? 10_000;
    this.#maxEntries = maxEvents > 0 ? maxEvents : 1000;
    this.#maxAgeMs = history.maxAgeMs ?? 60 * 60 * 1000;
    this.#ephemeralEvents = new Set(options.ephemeralEvents);
    this.#ephemeralRooms = new Set(options.ephemeralRooms);
    this.#connections = openConnections(options.redis, false);
    this.#commands = defineScripts(this.#connections.commands);
    this.#publisher = {
      publishTo: (target, event, data, sendOptions) =>
        this.#append([this.#draft(target, event, data, sendOptions)]).then((ids) => ids[0] as string),
    };
  }

  /** An audience from a target object. */
  to(target: Target): Audience<Events> {
    assertTarget(target);
    return new Audience(this.#publisher, { ...target });
  }

  /** Every connection of every hub. */
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

  /** These connections (ids handed out by any hub). */
  toClient(...clientIds: string[]): Audience<Events> {
    return new Audience<Events>(this.#publisher, {}).toClient(...clientIds);
  }

  /** Sends `event` to every connection. */
  broadcast<K extends EventName<Events>>(event: K, data: Events[K], options?: SendOptions): Promise<string> {
    return this.#publisher.publishTo({ all: true }, event, data, options);
  }

  /** Publishes an event described as data; resolves with its id. */
  publish(message: PublishMessage<Events>): Promise<string> {
    return this.publishMany([message]).then((ids) => ids[0] as string);
  }

  /** Publishes several events as one unit (consecutive ids, all or none). */
  publishMany(messages: readonly PublishMessage<Events>[]): Promise<string[]> {
    let drafts: MessageDraft[];
    try {
      drafts = messages.map((message) =>
        this.#draft(message.target, message.event, message.data, message.history === undefined ? undefined : { history: message.history }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append(drafts);
  }

  /** Closes the publisher's connection. */
  close(): Promise<void> {
    return this.#connections.close();
  }

  #draft(target: Target, event: string | undefined, data: unknown, options: SendOptions | undefined): MessageDraft {
    let history = options?.history;
    if (history === undefined) {
      history =
        !(event !== undefined && this.#ephemeralEvents.has(event)) && !(target.rooms ?? []).some((room) => this.#ephemeralRooms.has(room));
    }
    return makeDraft(target, event, data, history);
  }

  async #append(drafts: readonly MessageDraft[]): Promise<string[]> {
    const keys = this.#keys;
    if (this.#commands.status !== 'ready') await firstConnection(this.#commands);
    let reply: [string, number];
    try {
      reply = await this.#commands.ssehubAppend(
        keys.epoch,
        keys.seq,
        keys.log,
        ...appendArguments(drafts, this.#mode, this.#maxEntries, this.#maxAgeMs),
      );
    } catch (error) {
      throw new BackendError(`Redis refused the publish: ${(error as Error).message}`, { cause: error });
    }
    const [epoch, first] = reply;
    return drafts.map((_, i) => formatEventId(epoch, Number(first) + i));
  }
}

/** A publisher for services that hold no connections. */
export function createPublisher<Events extends EventMap = Record<string, unknown>>(options: PublisherOptions): Publisher<Events> {
  return new Publisher<Events>(options);
}
