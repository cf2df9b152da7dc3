/**
 * `GET /events`: the event stream. Identity and rooms are decided here (JWT or development
 * `?user=`), then the stream is handed to the hub, whose `authenticate` hook only reads back
 * what this route decided ({@link admittedInit}).
 * @module
 */

import type { IncomingMessage } from 'node:http';
import { type ClientInit, type ConnectRequest, refuse } from 'ssehub';
import { MAX_NAME_LENGTH } from '../auth.js';
import type { Route, ServerContext } from '../context.js';
import { HttpError } from '../errors.js';

/** Most rooms one connection may join with `?room=`. */
export const MAX_ROOMS_PER_CONNECTION = 100;
/** Seconds a refused client is told to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** Request headers a browser may send cross-origin to `/events`. */
export const EVENTS_CORS = { methods: ['GET'], headers: ['Authorization', 'Last-Event-ID', 'Cache-Control'] } as const;

// Requests this route has admitted, with who they are; read once by the hub's authenticate.
const admitted = new WeakMap<object, ClientInit<Record<string, unknown>>>();

/** The hub's `authenticate` hook: what {@link eventsRoute} decided for this request. */
export function admittedInit(request: ConnectRequest): ClientInit<Record<string, unknown>> | ReturnType<typeof refuse> {
  // Only this route calls hub.connect, so a miss is a bug, never a way in.
  return admitted.get(request.raw as object) ?? refuse(500, 'connection was not admitted');
}

/** Validates the `room` query parameters (repeatable); duplicates count once. */
export function requestedRooms(url: URL): string[] {
  const rooms = [...new Set(url.searchParams.getAll('room'))];
  if (rooms.length > MAX_ROOMS_PER_CONNECTION) {
    throw new HttpError(400, 'invalid_query', `at most ${MAX_ROOMS_PER_CONNECTION} rooms per connection, got ${rooms.length}`);
  }
  for (const room of rooms) {
    if (room === '' || room.length > MAX_NAME_LENGTH) {
      throw new HttpError(400, 'invalid_query', `room names must be 1 to ${MAX_NAME_LENGTH} characters`);
    }
  }
  return rooms;
}

/** The `/events` route. */
export function eventsRoute(ctx: ServerContext): Route {
  const { hub, config, auth, cors } = ctx;
  return {
    GET: async (req: IncomingMessage, res, url) => {
      cors.apply(req, res);
      if (ctx.state.draining || hub.closed) {
        throw new HttpError(503, 'shutting_down', 'the hub is shutting down', { 'retry-after': String(RETRY_AFTER_SECONDS) });
      }
      const rooms = requestedRooms(url);
      const subscriber = await auth.subscriber(req, url);
      for (const room of rooms) {
        if (!subscriber.mayJoin(room)) throw new HttpError(403, 'forbidden_room', `the token does not allow joining room "${room}"`);
      }
      // Checked here for clean error codes; the hub applies the same limits again, race-free.
      if (config.maxClients > 0 && hub.clients.size >= config.maxClients) {
        throw new HttpError(503, 'hub_full', `the hub is full (${config.maxClients} connections)`, {
          'retry-after': String(RETRY_AFTER_SECONDS),
        });
      }
      const userId = subscriber.userId;
      if (userId !== undefined && config.maxClientsPerUser > 0 && hub.connectionCount(userId) >= config.maxClientsPerUser) {
        throw new HttpError(429, 'too_many_connections', `user "${userId}" already has ${config.maxClientsPerUser} connections`);
      }
      admitted.set(req, userId === undefined ? { rooms } : { userId, rooms });
      try {
        await hub.connect(req, res);
      } finally {
        admitted.delete(req);
      }
    },
    OPTIONS: (req, res) => cors.preflight(req, res, EVENTS_CORS),
  };
}
