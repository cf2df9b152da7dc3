/**
 * `GET /status` (a JSON snapshot of the hub, behind the publishing credential once publishers
 * are authenticated), `GET /healthz` (the process answers) and `GET /readyz` (it accepts new
 * streams: 503 once shutdown has begun). Health and readiness stay open: they name nothing.
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route, ServerContext } from '../context.js';
import { sendJson } from '../errors.js';
import { largestRooms } from '../largestRooms.js';

/** Most rooms listed by `/status`; `roomsTruncated` tells when there are more. */
export const STATUS_ROOM_LIMIT = 1000;

/** The body of `GET /status`: this process, and with Redis the cluster beside it. */
export async function statusBody(ctx: ServerContext): Promise<Record<string, unknown>> {
  const stats = ctx.hub.stats();
  const redis = ctx.redis;
  let cluster: Record<string, unknown> | undefined;
  if (ctx.presence !== undefined) {
    try {
      cluster = { ...(await ctx.presence.cluster()) };
    } catch {
      cluster = { unavailable: true };
    }
  }
  return {
    nodeId: ctx.nodeId,
    version: ctx.version,
    uptime: Math.round((Date.now() - ctx.startedAt) / 10) / 100,
    ready: !ctx.state.draining,
    clients: stats.clients,
    users: stats.users,
    roomCount: stats.rooms,
    rooms: largestRooms(ctx.hub, STATUS_ROOM_LIMIT),
    roomsTruncated: stats.rooms > STATUS_ROOM_LIMIT,
    history: {
      size: stats.history.size,
      maxEvents: ctx.config.historySize,
      bytes: stats.history.bytes,
      oldestId: stats.history.oldestId ?? null,
      newestId: stats.history.newestId ?? null,
      headId: stats.history.headId,
    },
    counters: stats.counters,
    backend:
      redis === undefined
        ? { kind: 'memory' }
        : { kind: 'redis', mode: redis.mode, prefix: redis.prefix, state: redis.state, lag: redis.lag },
    ...(cluster === undefined ? {} : { cluster }),
  };
}

/**
 * The `/status` route. It names rooms and counts users: once publishers are authenticated, it
 * takes their credential (see `Authenticator.viewer`).
 */
export function statusRoute(ctx: ServerContext): Route {
  const get = async (req: IncomingMessage, res: ServerResponse) => {
    await ctx.auth.viewer(req);
    sendJson(res, 200, await statusBody(ctx));
  };
  return { GET: get, HEAD: get };
}

/** The `/healthz` route: 200 while the process serves HTTP at all. */
export function healthRoute(): Route {
  const get = (_req: unknown, res: Parameters<typeof sendJson>[0]) => sendJson(res, 200, { status: 'ok' });
  return { GET: get, HEAD: get };
}

/** The `/readyz` route: 200 while accepting new streams, 503 once shutting down or while Redis is unreachable. */
export function readyRoute(ctx: ServerContext): Route {
  const get = (_req: unknown, res: Parameters<typeof sendJson>[0]) => {
    if (ctx.state.draining || ctx.hub.closed) sendJson(res, 503, { status: 'shutting_down' });
    else if (ctx.redis !== undefined && !ctx.redis.available) sendJson(res, 503, { status: 'backend_unavailable' });
    else sendJson(res, 200, { status: 'ready' });
  };
  return { GET: get, HEAD: get };
}
