import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { openConnections, type RedisConnections, type RedisInput } from './connections.js';
import { RedisBackend, redisKeys } from './RedisBackend.js';

/** Options of {@link createPresence}. */
export interface PresenceOptions {
  /** The Redis: a URL, an ioredis client, or the hub's `RedisBackend` (its connection is shared). */
  redis: RedisInput | RedisBackend;
  /** The hubs' key prefix. @defaultValue the backend's, or 'ssehub' */
  prefix?: string;
  /** This process's name among the nodes. @defaultValue random, like `n-3f9a1c0b` */
  nodeId?: string;
  /** How often this node writes its counts, in ms. @defaultValue 1000 */
  intervalMs?: number;
  /**
   * How long a node's counts live without being refreshed, in ms: a node that dies (SIGKILL)
   * leaves the counts within this time. @defaultValue 5000
   */
  ttlMs?: number;
}

/** What presence reads of a hub (any `Hub` has it). */
export interface PresenceSource {
  connectionCount(userId?: string): number;
  roomSize(room: string): number;
  readonly users: ReadonlyMap<string, unknown>;
  readonly rooms: ReadonlyMap<string, unknown>;
}

/** What one node holds. */
export interface NodePresence {
  readonly nodeId: string;
  readonly clients: number;
  readonly users: number;
  readonly rooms: number;
  /** When it last wrote its counts (ms since the epoch). */
  readonly seenAt: number;
}

/** The cluster's counts: every live node's, and their sum. */
export interface ClusterPresence {
  readonly clients: number;
  readonly nodes: readonly NodePresence[];
}

const CLIENTS = 'c';
const USERS = 'nu';
const ROOMS = 'nr';

/**
 * Cluster presence: how many connections every process holds, in all, per user and per room.
 * Each node writes its counts to Redis every `intervalMs` (only what changed), in a hash that
 * expires after `ttlMs` unless refreshed, so that a node that dies drops out by itself.
 * Counts are as fresh as the interval.
 */
export class Presence {
  readonly nodeId: string;
  readonly #hub: PresenceSource;
  readonly #redis: Redis;
  readonly #connections: RedisConnections | undefined;
  readonly #keys: { nodes: string; node: (nodeId: string) => string };
  readonly #intervalMs: number;
  readonly #ttlMs: number;
  #written = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;

  constructor(hub: PresenceSource, options: PresenceOptions) {
    this.#hub = hub;
    this.nodeId = options.nodeId ?? `n-${randomBytes(4).toString('hex')}`;
    if (options.redis instanceof RedisBackend) {
      this.#redis = options.redis.redis;
      this.#connections = undefined;
    } else {
      this.#connections = openConnections(options.redis, false);
      this.#redis = this.#connections.commands;
    }
    const prefix = options.prefix ?? (options.redis instanceof RedisBackend ? options.redis.prefix : 'ssehub');
    const base = redisKeys(prefix).presence;
    this.#keys = { nodes: `${base}:nodes`, node: (nodeId) => `${base}:${nodeId}` };
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#ttlMs = options.ttlMs ?? 5000;
    if (this.#ttlMs <= this.#intervalMs) throw new RangeError('ttlMs must be longer than intervalMs');
  }

  /** Starts writing this node's counts. */
  start(): this {
    if (this.#timer !== undefined) return this;
    this.#timer = setInterval(() => void this.flush(), this.#intervalMs);
    this.#timer.unref();
    void this.flush();
    return this;
  }

  /** Writes this node's counts now (what changed since the last write). */
  flush(): Promise<void> {
    this.#writing ??= this.#write().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  /** Stops, and takes this node out of the counts. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    try {
      await this.#redis.multi().del(this.#keys.node(this.nodeId)).zrem(this.#keys.nodes, this.nodeId).exec();
    } catch {
      // Unreachable: the counts expire by themselves.
    }
    await this.#connections?.close();
  }

  /** Connections of the whole cluster, node by node. */
  async cluster(): Promise<ClusterPresence> {
    const nodes = await this.#liveNodes();
    const pipeline = this.#redis.pipeline();
    for (const [nodeId] of nodes) pipeline.hmget(this.#keys.node(nodeId), CLIENTS, USERS, ROOMS);
    const replies = (await pipeline.exec()) ?? [];
    const list: NodePresence[] = [];
    nodes.forEach(([nodeId, seenAt], index) => {
      const values = (replies[index]?.[1] ?? []) as Array<string | null>;
      if (values[0] === null || values[0] === undefined) return;
      list.push({ nodeId, clients: Number(values[0]), users: Number(values[1] ?? 0), rooms: Number(values[2] ?? 0), seenAt });
    });
    return { clients: list.reduce((sum, node) => sum + node.clients, 0), nodes: list };
  }

  /** Connections of `userId` across the cluster (this node's counted live). */
  user(userId: string): Promise<number> {
    return this.#sum(`u:${userId}`, this.#hub.connectionCount(userId));
  }

  /** Members of `room` across the cluster (this node's counted live). */
  room(room: string): Promise<number> {
    return this.#sum(`r:${room}`, this.#hub.roomSize(room));
  }

  /** Connections across the cluster (this node's counted live). */
  async total(): Promise<number> {
    return this.#sum(CLIENTS, this.#hub.connectionCount());
  }

  async #sum(field: string, local: number): Promise<number> {
    const nodes = await this.#liveNodes();
    const others = nodes.filter(([nodeId]) => nodeId !== this.nodeId);
    if (others.length === 0) return local;
    const pipeline = this.#redis.pipeline();
    for (const [nodeId] of others) pipeline.hget(this.#keys.node(nodeId), field);
    const replies = (await pipeline.exec()) ?? [];
    let sum = local;
    for (const reply of replies) sum += Number(reply?.[1] ?? 0);
    return sum;
  }

  async #liveNodes(): Promise<Array<[string, number]>> {
    const since = Date.now() - this.#ttlMs;
    const flat = await this.#redis.zrangebyscore(this.#keys.nodes, since, '+inf', 'WITHSCORES');
    const nodes: Array<[string, number]> = [];
    for (let i = 0; i < flat.length; i += 2) nodes.push([flat[i] as string, Number(flat[i + 1])]);
    return nodes;
  }

  /** The counts now, as hash fields. */
  #counts(): Map<string, number> {
    const hub = this.#hub;
    const counts = new Map<string, number>();
    counts.set(CLIENTS, hub.connectionCount());
    counts.set(USERS, hub.users.size);
    counts.set(ROOMS, hub.rooms.size);
    for (const user of hub.users.keys()) counts.set(`u:${user}`, hub.connectionCount(user));
    for (const room of hub.rooms.keys()) counts.set(`r:${room}`, hub.roomSize(room));
    return counts;
  }

  async #write(): Promise<void> {
    if (this.#redis.status !== 'ready') {
      // Redis is away: the hash may have expired meanwhile, so everything is written again.
      this.#written = new Map();
      return;
    }
    const key = this.#keys.node(this.nodeId);
    try {
      // The hash expired (a long pause, or a Redis that lost its data): write it all again.
      if ((await this.#redis.exists(key)) === 0) this.#written = new Map();
    } catch {
      return;
    }
    const counts = this.#counts();
    const changed: Record<string, number> = {};
    let anyChanged = false;
    for (const [field, value] of counts) {
      if (this.#written.get(field) !== value) {
        changed[field] = value;
        anyChanged = true;
      }
    }
    const removed = [...this.#written.keys()].filter((field) => !counts.has(field));
    const now = Date.now();
    const transaction = this.#redis.multi();
    if (anyChanged) transaction.hset(key, changed);
    if (removed.length > 0) transaction.hdel(key, ...removed);
    transaction
      .pexpire(key, this.#ttlMs)
      .zadd(this.#keys.nodes, now, this.nodeId)
      .zremrangebyscore(this.#keys.nodes, '-inf', now - this.#ttlMs);
    try {
      const results = await transaction.exec();
      this.#written = results === null || results.some(([error]) => error !== null) ? new Map() : counts;
    } catch {
      this.#written = new Map();
    }
  }
}

/**
 * Starts cluster presence for `hub`: its counts go to Redis, and every node's can be read.
 *
 * @example
 * const presence = createPresence(hub, { redis: backend });
 * await presence.user('ada');   // connections of ada on every process
 */
export function createPresence(hub: PresenceSource, options: PresenceOptions): Presence {
  return new Presence(hub, options).start();
}
