/**
 * Builds a complete ssehub server from a {@link Config}: the hub, the HTTP routes, metrics,
 * the dashboard feed and graceful shutdown. The CLI runs one; tests run them in-process on
 * port 0.
 * @module
 */

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Logger, pino } from 'pino';
import { createHub, createSseServer, type Hub, type SseServer } from 'ssehub';
import { createPresence, createRedisBackend } from 'ssehub/redis';
import { Authenticator } from './auth.js';
import type { Config } from './config.js';
import type { ServerContext } from './context.js';
import { Cors } from './cors.js';
import { HttpError, sendError } from './errors.js';
import { createMetrics } from './metrics.js';
import { PUBLIC_DIR, VERSION } from './packageInfo.js';
import { RateLimiter } from './rateLimit.js';
import { clientErrorAnswer, headRefusal } from './requestHead.js';
import { clientGone, Router, requestUrl } from './router.js';
import { DashboardFeed } from './routes/dashboard.js';
import { authenticateSubscriber, eventsRoute, RETRY_AFTER_SECONDS } from './routes/events.js';
import { metricsRoute } from './routes/metrics.js';
import { pageRoutes } from './routes/pages.js';
import { publishRoute } from './routes/publish.js';
import { healthRoute, readyRoute, statusRoute } from './routes/status.js';

/** Options of {@link createServer} beyond the configuration. */
export interface ServerOptions {
  /** Where logs go. @defaultValue a pino logger on stdout at `config.logLevel` */
  logger?: Logger;
  /** The static pages. @defaultValue the package's public/ folder */
  publicDir?: string;
  /** Time a request head may take, from its first byte, in ms (408 after). @defaultValue {@link HEADERS_TIMEOUT_MS} */
  headersTimeoutMs?: number;
  /** Time a whole request, body included, may take, in ms (408 after). @defaultValue {@link REQUEST_TIMEOUT_MS} */
  requestTimeoutMs?: number;
}

/** Where a server listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, ready to print or to connect to. */
  readonly url: string;
}

/** A running (or ready to run) ssehub server. */
export interface SsehubServer {
  /** The hub of `/events` and `/publish`. */
  readonly hub: Hub;
  /** The `/dashboard/stream` feed and its own hub. */
  readonly dashboard: DashboardFeed;
  /** What listens: answers `GET /events` itself and hands every other request to `httpServer`. */
  readonly server: SseServer;
  /** The node:http server of every other route. */
  readonly httpServer: http.Server;
  readonly context: ServerContext;
  /** Listens on `config.port` and `config.host` (or the given ones). */
  listen(port?: number, host?: string): Promise<ListenAddress>;
  /**
   * Shuts down gracefully: `/readyz` turns 503, new streams and publishes are refused, every
   * client gets a `retry:` hint and the end of its stream, then the server closes. Streams
   * still open after `timeoutMs` are cut. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Time a request head may take, from its first byte, in ms (408 after). */
export const HEADERS_TIMEOUT_MS = 20_000;
/** Time a whole request, body included, may take, in ms (408 after). */
export const REQUEST_TIMEOUT_MS = 30_000;

/** How long in-flight requests get to finish once the streams have ended, in ms. */
const REQUEST_GRACE_MS = 1000;

/** A random id for this process, like `n-3f9a1c0b`. */
function newNodeId(): string {
  return `n-${randomBytes(4).toString('hex')}`;
}

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Builds a server from a validated configuration. Nothing listens until `listen()`. */
export function createServer(config: Config, options: ServerOptions = {}): SsehubServer {
  const nodeId = newNodeId();
  const logger = (options.logger ?? pino({ level: config.logLevel })).child({ nodeId });
  // Streams are decided with the server's context, which needs the hub: bound just below.
  let authenticate: ReturnType<typeof authenticateSubscriber> | undefined;
  const history = config.historySize === 0 ? false : { maxEvents: config.historySize };
  // With Redis, every process on the same prefix shares one sequence and one history.
  const redisConfig = config.redis;
  const redis =
    redisConfig === undefined
      ? undefined
      : createRedisBackend({ redis: redisConfig.url, prefix: redisConfig.prefix, mode: redisConfig.mode, history });
  const hub = createHub({
    authenticate: (request) => (authenticate as ReturnType<typeof authenticateSubscriber>)(request),
    heartbeatMs: config.heartbeatMs,
    deadPeerTimeoutMs: config.deadPeerTimeoutMs,
    ...(redis === undefined ? { history } : { backend: redis }),
    ...(config.maxClients > 0 ? { maxClients: config.maxClients } : {}),
    ...(config.maxClientsPerUser > 0 ? { maxClientsPerUser: config.maxClientsPerUser } : {}),
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    logger: logger.child({ component: 'hub' }),
  });
  const presence =
    redis === undefined || redisConfig === undefined
      ? undefined
      : createPresence(hub, {
          redis,
          nodeId,
          ttlMs: redisConfig.presenceTtlMs,
          intervalMs: Math.min(1000, Math.floor(redisConfig.presenceTtlMs / 3)),
        });
  const context: ServerContext = {
    config,
    hub,
    redis,
    presence,
    logger,
    auth: new Authenticator(config),
    cors: new Cors(config.corsOrigins),
    rateLimiter: new RateLimiter({ ratePerSecond: config.rateLimit, burst: config.rateLimitBurst }),
    metrics: createMetrics(hub, redis),
    nodeId,
    startedAt: Date.now(),
    version: VERSION,
    state: { draining: false },
  };
  authenticate = authenticateSubscriber(context);
  const dashboard = new DashboardFeed(context);
  const pages = pageRoutes(options.publicDir ?? PUBLIC_DIR);
  const router = new Router()
    .on('/events', eventsRoute(context))
    .on('/publish', publishRoute(context))
    .on('/status', statusRoute(context))
    .on('/healthz', healthRoute())
    .on('/readyz', readyRoute(context))
    .on('/metrics', metricsRoute(context))
    .on('/dashboard/stream', dashboard.route())
    .on('/', pages.index)
    .on('/dashboard', pages.dashboard)
    .under('/assets/', pages.assets);

  // Requests being answered; shutdown waits for them (briefly) once the streams have ended.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  // The response being written on each connection, for the parse errors that come after it.
  const responding = new WeakMap<Duplex, http.ServerResponse>();
  // Connections answered with `Connection: close` (a refused head, a body left unread). node:http
  // still parses and emits the requests pipelined behind such an answer; none may run (RFC 9112
  // §9.6): a refused head's framing cannot be trusted, so what follows it is not a request.
  const closingAfterAnswer = new WeakSet<Duplex>();
  const answerError = (req: http.IncomingMessage, res: http.ServerResponse, error: HttpError): void => {
    if (error.headers.connection === 'close') closingAfterAnswer.add(req.socket);
    sendError(res, error);
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    // Left unanswered: the connection closes once the answer before it is out.
    if (closingAfterAnswer.has(req.socket)) return;
    const started = performance.now();
    inFlight++;
    responding.set(req.socket, res);
    res.once('close', () => {
      if (responding.get(req.socket) === res) responding.delete(req.socket);
      if (--inFlight === 0) onIdle?.();
    });
    if (logger.isLevelEnabled('debug')) {
      res.once('close', () => {
        // The path only: a query may carry a token.
        const path = (req.url ?? '/').split('?')[0];
        logger.debug({ method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request');
      });
    }
    // Before routing: what node:http let through leniently is refused the same way everywhere.
    const refusal = headRefusal(req);
    if (refusal !== undefined) {
      answerError(req, res, refusal);
      return;
    }
    try {
      const url = requestUrl(req);
      await router.resolve(req.method ?? 'GET', url.pathname)(req, res, url);
    } catch (error) {
      if (error instanceof HttpError) {
        answerError(req, res, error);
        return;
      }
      if (clientGone(req, res)) return;
      logger.error({ err: error, method: req.method, path: (req.url ?? '/').split('?')[0] }, 'request failed');
      sendError(res, new HttpError(500, 'internal_error', 'internal error'));
    }
  };

  const httpServer = http.createServer((req, res) => {
    void handle(req, res);
  });
  // node:http keeps only the first 2,000 headers by default (maxHeadersCount) and drops the rest
  // unseen, so a second Host or Authorization, or a Transfer-Encoding, hidden behind them would pass
  // the head refusals. Every header is kept: the 16 KiB head limit bounds how many there are.
  httpServer.maxHeadersCount = 0;
  // Requests llhttp refuses. Answered (as node:http's default does) only when no response of
  // the connection has begun; either way the connection closes once what is written is out.
  const closingAfterParseError = new WeakSet<Duplex>();
  httpServer.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    if (socket.destroyed || closingAfterParseError.has(socket)) return;
    closingAfterParseError.add(socket);
    const res = responding.get(socket);
    if (socket.writable && (res === undefined || !res.headersSent)) socket.end(clientErrorAnswer(error));
    else socket.end();
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  });
  // What listens: ssehub's own server answers `GET /events` itself (about half node:http's
  // cost per connection) and hands every other request to the router above. Slow-loris
  // bounds, on every connection whichever path it takes: each head within 20 s of its first
  // byte, a whole request (a publish body) within 30 s. An event stream's request is complete
  // once its head is in, so streams are not cut.
  const server = createSseServer(hub, {
    path: '/events',
    fallback: httpServer,
    headersTimeoutMs: options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
    requestTimeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
  });

  let closing: Promise<void> | undefined;
  // Order matters: refuse first (readiness fails, new streams and publishes get 503), end the
  // streams, and only then stop listening, so that nothing is cut that could have finished.
  const shutdown = async (timeoutMs: number): Promise<void> => {
    context.state.draining = true;
    await Promise.all([hub.close({ timeoutMs }), dashboard.close(timeoutMs)]);
    // The hub did not create the Redis backend: it is closed here, after the hub.
    await presence?.stop();
    await redis?.close();
    if (!server.listening) return;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        onIdle = resolve;
        timer = setTimeout(resolve, REQUEST_GRACE_MS);
      });
      clearTimeout(timer);
    }
    // What is left is idle: kept-alive sockets and sockets that never sent a request.
    server.closeAllConnections();
    await serverClosed;
  };

  dashboard.start();
  return {
    hub,
    dashboard,
    server,
    httpServer,
    context,
    listen(port = config.port, host = config.host) {
      return new Promise<ListenAddress>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const address = server.address() as AddressInfo;
          resolve({ host, port: address.port, url: formatUrl(host, address.port) });
        });
      });
    },
    close(closeOptions = {}) {
      closing ??= shutdown(closeOptions.timeoutMs ?? 5000);
      return closing;
    },
  };
}
