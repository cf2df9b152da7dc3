import type { MessageDraft } from '../backends/Backend.js';
import { BackendError } from '../errors.js';
import { AudienceSource } from '../hub/AudienceSource.js';
import { draftsOf, makeDraft } from '../hub/draft.js';
import { HistoryPolicy } from '../hub/HistoryPolicy.js';
import type { PublishMessage } from '../hub/Hub.js';
import type { EventMap } from '../hub/types.js';
import { formatEventId } from '../protocol/eventId.js';
import { firstConnection, openConnections, type RedisConnections, type RedisInput } from './connections.js';
import { appendArguments, defineScripts, logBounds, redisKeys } from './RedisBackend.js';

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
export class Publisher<Events extends EventMap = Record<string, unknown>> extends AudienceSource<Events> {
  readonly #connections: RedisConnections;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #mode: 'log' | 'pubsub';
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #history: HistoryPolicy;
  readonly #commands: ReturnType<typeof defineScripts>;

  constructor(options: PublisherOptions) {
    super((target, event, data, sendOptions) =>
      this.#append([makeDraft(target, event, data, this.#history.keeps(event, target, sendOptions))]).then((ids) => ids[0] as string),
    );
    this.#mode = options.mode ?? 'log';
    this.#keys = redisKeys(options.prefix ?? 'ssehub');
    ({ maxEntries: this.#maxEntries, maxAgeMs: this.#maxAgeMs } = logBounds(this.#mode, options.history));
    this.#history = new HistoryPolicy(options.ephemeralEvents, options.ephemeralRooms);
    this.#connections = openConnections(options.redis, false);
    this.#commands = defineScripts(this.#connections.commands);
  }

  /** Publishes an event described as data; resolves with its id. */
  publish(message: PublishMessage<Events>): Promise<string> {
    return this.publishMany([message]).then((ids) => ids[0] as string);
  }

  /** Publishes several events as one unit (consecutive ids, all or none). */
  publishMany(messages: readonly PublishMessage<Events>[]): Promise<string[]> {
    let drafts: MessageDraft[];
    try {
      drafts = draftsOf(messages, this.#history);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append(drafts);
  }

  /** Closes the publisher's connection. */
  close(): Promise<void> {
    return this.#connections.close();
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
