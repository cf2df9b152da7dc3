/**
 * `GET /events`: the event stream. Identity and rooms are decided by {@link admit} (JWT or
 * development `?user=`) in the hub's `authenticate` hook, for every stream: those ssehub's own
 * server reads (nearly all) and those node:http serves (HTTP/1.0, say), which reach the hub
 * as soon as they arrive, so that nothing pipelined behind them can run meanwhile.
 * @module
 */

import { type ClientInit, type ConnectRequest, type Refusal, refuse, type SocketRequest } from 'ssehub';
import { MAX_NAME_LENGTH, nameLength, type RequestHeaders, type Subscriber } from '../auth.js';
import type { Route, ServerContext } from '../context.js';
import { errorBody, HttpError, JSON_ANSWER_HEADERS } from '../errors.js';
import { authorizationRefusal } from '../requestHead.js';

/** Most rooms one connection may join with `?room=`. */
export const MAX_ROOMS_PER_CONNECTION = 100;
/** Seconds a refused client is told to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** Request headers a browser may send cross-origin to `/events`. */
export const EVENTS_CORS = { methods: ['GET'], headers: ['Authorization', 'Last-Event-ID', 'Cache-Control'] } as const;

type Admission = ClientInit<Record<string, unknown>>;

/**
 * Who a subscriber is and which rooms it joins, or the `HttpError` it is refused with. Shared
 * by both ways a stream arrives: synchronous unless a JWT must be verified.
 */
export function admit(ctx: ServerContext, req: RequestHeaders, url: URL): Admission | Promise<Admission> {
  const { hub, config, auth } = ctx;
  if (ctx.state.draining || hub.closed) {
    throw new HttpError(503, 'shutting_down', 'the hub is shutting down', { 'retry-after': String(RETRY_AFTER_SECONDS) });
  }
  const rooms = requestedRooms(url);
  const decide = (subscriber: Subscriber): Admission => {
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
    return userId === undefined ? { rooms } : { userId, rooms };
  };
  const subscriber = auth.subscriber(req, url);
  return subscriber instanceof Promise ? subscriber.then(decide) : decide(subscriber);
}

/**
 * The hub's `authenticate` hook: every stream is decided here, with the same rules and the same
 * answers (error codes, CORS headers) whichever way it arrived.
 */
export function authenticateSubscriber(
  ctx: ServerContext,
): (request: ConnectRequest) => Admission | Refusal | Promise<Admission | Refusal> {
  return (request) => {
    const raw = request.raw as Partial<SocketRequest> & { httpVersion?: string };
    // Only the route and the SSE server connect streams, so anything else is a bug, never a way in.
    if (raw.socket === undefined || raw.headers === undefined) return refuse(500, 'connection was not admitted');
    const cors = ctx.cors.headersFor(request.header('origin'));
    let status = 200;
    // node:http's requests are logged by the router; the ones ssehub's server read, here.
    if (raw.httpVersion === undefined && ctx.logger.isLevelEnabled('debug')) {
      // As the router logs its requests: the path only (a query may carry a token).
      const started = performance.now();
      raw.socket.once('close', () => {
        ctx.logger.debug({ method: request.method, path: '/events', status, ms: Math.round(performance.now() - started) }, 'request');
      });
    }
    // Without CORS headers the stream keeps the hub's shared, prebuilt head.
    const withCors =
      Object.keys(cors).length === 0 ? (init: Admission): Admission => init : (init: Admission): Admission => ({ ...init, headers: cors });
    const refused = (error: unknown): Refusal => {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      return refuse(error.status, error.message, {
        headers: { ...JSON_ANSWER_HEADERS, ...cors, ...error.headers },
        body: errorBody(error),
      });
    };
    try {
      // node:http's requests were checked before routing (see requestHead.ts); these were not.
      const credentials = authorizationRefusal(request.header('authorization'));
      if (credentials !== undefined) throw credentials;
      const admission = admit(ctx, raw as SocketRequest, request.url);
      return admission instanceof Promise ? admission.then(withCors, refused) : withCors(admission);
    } catch (error) {
      return refused(error);
    }
  };
}

/** Validates the `room` query parameters (repeatable); duplicates count once. */
export function requestedRooms(url: URL): string[] {
  const rooms = [...new Set(url.searchParams.getAll('room'))];
  if (rooms.length > MAX_ROOMS_PER_CONNECTION) {
    throw new HttpError(400, 'invalid_query', `at most ${MAX_ROOMS_PER_CONNECTION} rooms per connection, got ${rooms.length}`);
  }
  for (const room of rooms) {
    if (room === '' || nameLength(room) > MAX_NAME_LENGTH) {
      throw new HttpError(400, 'invalid_query', `room names must be 1 to ${MAX_NAME_LENGTH} characters`);
    }
  }
  return rooms;
}

/** The `/events` route. */
export function eventsRoute(ctx: ServerContext): Route {
  const { hub, cors } = ctx;
  return {
    GET: async (req, res) => {
      cors.apply(req, res);
      await hub.connect(req, res);
    },
    OPTIONS: (req, res) => cors.preflight(req, res, EVENTS_CORS),
  };
}
