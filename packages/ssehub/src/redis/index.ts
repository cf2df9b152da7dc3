/**
 * ssehub/redis: hubs in many processes act as one through Redis — one ordered sequence of ids,
 * a shared history to resume on any process, cluster presence, and a publisher for services
 * that hold no connections. Needs the `ioredis` package (an optional peer dependency).
 * @module
 */

export type { RedisInput } from './connections.js';
export {
  type ClusterPresence,
  createPresence,
  type NodePresence,
  Presence,
  type PresenceOptions,
  type PresenceSource,
} from './Presence.js';
export { createPublisher, Publisher, type PublisherOptions } from './Publisher.js';
export {
  createRedisBackend,
  RedisBackend,
  type RedisBackendOptions,
  type RedisBackendState,
} from './RedisBackend.js';
