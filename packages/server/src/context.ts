/**
 * What every route of a server shares, and the shape of a route.
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Hub } from 'ssehub';
import type { Presence, RedisBackend } from 'ssehub/redis';
import type { Authenticator } from './auth.js';
import type { Config } from './config.js';
import type { Cors } from './cors.js';
import type { ServerMetrics } from './metrics.js';
import type { RateLimiter } from './rateLimit.js';

/** The parts of one server, built by `createServer`. */
export interface ServerContext {
  readonly config: Config;
  readonly hub: Hub;
  /** The Redis backend, when the hub shares its events through Redis. */
  readonly redis: RedisBackend | undefined;
  /** Cluster presence, with Redis. */
  readonly presence: Presence | undefined;
  readonly logger: Logger;
  readonly auth: Authenticator;
  readonly cors: Cors;
  readonly rateLimiter: RateLimiter;
  readonly metrics: ServerMetrics;
  /** Random per process: tells nodes apart in status pages and logs. */
  readonly nodeId: string;
  /** When the server was created (ms since the epoch). */
  readonly startedAt: number;
  readonly version: string;
  /** Set once shutdown begins: `/readyz` answers 503 and new streams and publishes are refused. */
  readonly state: { draining: boolean };
}

/** Handles one request; a thrown `HttpError` is answered with its status and code. */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** The handlers of one path, by method. */
export type Route = Readonly<Partial<Record<string, Handler>>>;
