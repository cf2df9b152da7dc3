import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Connection } from '../Connection.js';
import { NodeConnection } from '../node/NodeConnection.js';
import { finishResponse } from './finishResponse.js';
import { HandedOverConnections } from './HandedOverConnections.js';
import { HeadReader, parseRequestHead, type RequestHead } from './requestHead.js';
import { errorBody, errorResponse, JSON_TYPE } from './responseHead.js';
import { SocketConnection } from './SocketConnection.js';

/** What the server needs of a hub (a `Hub` has it). */
export interface ConnectionAcceptor {
  /** Answers one event-stream request (see `Connection`). */
  accept(connection: Connection): unknown;
}

/** Options of {@link createSseServer}. */
export interface SseServerOptions {
  /** The path of the event stream (the query string is free). @defaultValue '/events' */
  path?: string;
  /**
   * Serves every other request: a `node:http` request listener (an Express app, Koa's
   * `app.callback()`, …) or an `http.Server`. Without one, other paths answer 404.
   *
   * A `GET <path>` can reach node:http too: over HTTP/1.0, with an unusual head, or on a
   * connection kept alive after another request (browsers reuse them). With a listener (or
   * none) it is served by the hub through node:http (`hub.connect`); an `http.Server` must
   * route it itself, with `hub.handler()`.
   */
  fallback?: ((req: IncomingMessage, res: ServerResponse) => void) | HttpServer;
  /**
   * How long a client may take to send a request head before a 408: from the connection for the
   * first request, from the end of the previous answer for the next ones (node:http's
   * `headersTimeout`). @defaultValue 30000
   */
  headersTimeoutMs?: number;
  /**
   * How long a request handed to the fallback may take to arrive whole, body included, from the
   * start of its head (node:http's `requestTimeout`). @defaultValue 300000
   */
  requestTimeoutMs?: number;
}

/** Whether this is the plain request the server answers itself; anything else goes to node:http. */
function isStreamRequest(head: RequestHead, path: string): boolean {
  if (head.method !== 'GET' || pathnameOf(head.url) !== path) return false;
  const headers = head.headers;
  const host = headers.host;
  if (host === undefined || host.includes(',')) return false;
  if (headers['content-length'] !== undefined && headers['content-length'] !== '0') return false;
  return headers['transfer-encoding'] === undefined && headers.upgrade === undefined && headers.expect === undefined;
}

/**
 * A server for a hub that answers event-stream requests itself and hands every other request
 * to `node:http`. An event stream needs one thing of HTTP: read one `GET`, answer with a head
 * and a body that never ends. Done without node:http's request and response objects, a
 * connection costs about half the CPU, and each flush is one write of one buffer.
 *
 * Only a strictly well-formed HTTP/1.1 `GET <path>` without a body is answered here; anything
 * else (other paths and methods, malformed or oversized heads, upgrades, HTTP/1.0) goes to the
 * `fallback` with its bytes untouched, so node:http answers it with its own rules and limits.
 * Plain TCP only: terminate TLS in front, or use `hub.handler()` with `https`/`http2`.
 *
 * @example
 * const hub = createHub();
 * createSseServer(hub, { fallback: app }).listen(8080);   // app: an Express app, for instance
 */
export function createSseServer(hub: ConnectionAcceptor, options: SseServerOptions = {}): SseServer {
  return new SseServer(hub, options);
}

/**
 * The `net.Server` {@link createSseServer} returns. `close()` stops accepting, as for any server,
 * and, like node:http's, also closes the connections that are idle: those that have not sent a
 * request head yet, and kept-alive connections of the fallback between two requests (the
 * others close once their answer is out). Event streams end with `hub.close()`.
 */
export class SseServer extends NetServer {
  readonly #hub: ConnectionAcceptor;
  readonly #path: string;
  readonly #headersTimeoutMs: number;
  readonly #fallback: HttpServer;
  // Connections still sending their request head.
  readonly #reading = new Set<Socket>();
  // Connections handed to the fallback, with the time limits node:http would have set.
  readonly #handedOver: HandedOverConnections;

  constructor(hub: ConnectionAcceptor, options: SseServerOptions = {}) {
    super({ noDelay: true });
    this.#hub = hub;
    this.#path = options.path ?? '/events';
    this.#headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
    this.#handedOver = new HandedOverConnections({
      headersTimeoutMs: this.#headersTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? 300_000,
    });
    const path = this.#path;
    if (options.fallback === undefined || typeof options.fallback === 'function') {
      const others = options.fallback ?? ((req: IncomingMessage, res: ServerResponse) => defaultAnswer(req, res, path));
      this.#fallback = createHttpServer((req, res) => {
        if (req.method === 'GET' && pathnameOf(req.url) === path) {
          acceptSafely(hub, new NodeConnection(req, res), () => res.destroy());
          return;
        }
        others(req, res);
      });
    } else this.#fallback = options.fallback;
    // (Not 'checkContinue': listening to it would take over node:http's automatic `100 Continue`.)
    this.#fallback.on('request', (req: IncomingMessage, res: ServerResponse) => this.#handedOver.requestArrived(req.socket, req, res));
    // No longer HTTP/1 on these: an upgraded connection (a WebSocket) or a tunnel has no head to wait for.
    this.#fallback.on('upgrade', (req: IncomingMessage) => this.#handedOver.release(req.socket));
    this.#fallback.on('connect', (req: IncomingMessage) => this.#handedOver.release(req.socket));
    this.on('connection', (socket: Socket) => this.#readHead(socket));
  }

  override close(callback?: (error?: Error) => void): this {
    super.close(callback);
    for (const socket of this.#reading) socket.destroy();
    this.#handedOver.closeIdle();
    return this;
  }

  /** Cuts every connection this server holds but the event streams (end those with `hub.close()`). */
  closeAllConnections(): void {
    for (const socket of this.#reading) socket.destroy();
    this.#handedOver.closeAll();
  }

  #readHead(socket: Socket): void {
    const path = this.#path;
    const reader = new HeadReader();
    const connectedAt = Date.now();
    this.#reading.add(socket);
    const timer = setTimeout(() => {
      stop();
      finishResponse(socket, errorResponse(408, 'request_timeout', 'the request head took too long'));
    }, this.#headersTimeoutMs);

    const stop = (): void => {
      clearTimeout(timer);
      this.#reading.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('close', stop);
    };

    const handOver = (): void => {
      stop();
      // node:http brings its own error listener; the other paths keep this one to the end, so
      // that a client resetting while authenticate is pending cannot crash the process.
      socket.removeListener('error', onError);
      this.#handedOver.add(socket, connectedAt);
      socket.pause();
      const received = reader.received;
      if (received.byteLength > 0) socket.unshift(received);
      this.#fallback.emit('connection', socket);
      socket.resume();
    };

    const onError = (): void => {
      stop();
      socket.destroy();
    };

    const onData = (chunk: Buffer): void => {
      const scan = reader.feed(chunk);
      // A bare LF (or CR) never makes a strict head: node:http answers it now, not a 408 later.
      if (scan.state === 'partial') return;
      const head = scan.state === 'complete' ? parseRequestHead(scan.head.toString('latin1')) : undefined;
      if (head === undefined || !isStreamRequest(head, path)) {
        handOver();
        return;
      }
      // Bytes after the head (a pipelined request) are dropped: the stream never ends to answer them.
      stop();
      acceptSafely(this.#hub, new SocketConnection({ method: head.method, url: head.url, headers: head.headers, socket }), () =>
        socket.destroy(),
      );
    };

    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', stop);
  }
}

/**
 * The path of a request target: of its origin form (`/events?x`), or of its absolute form
 * (`http://host/events?x`), which a server must accept too (RFC 9112 §3.2.2).
 */
function pathnameOf(url: string | undefined): string {
  let target = url ?? '/';
  if (target.charCodeAt(0) !== 47 /* / */) {
    const authority = target.indexOf('://');
    const path = authority === -1 ? -1 : target.indexOf('/', authority + 3);
    target = path === -1 ? '/' : target.slice(path);
  }
  const mark = target.indexOf('?');
  return mark === -1 ? target : target.slice(0, mark);
}

/** Without a fallback: the stream path takes only GET (served above), and nothing else is here. */
/** Hands a connection to the hub; one it could not answer is closed, never left hanging. */
function acceptSafely(hub: ConnectionAcceptor, connection: Connection, close: () => void): void {
  try {
    const accepted = hub.accept(connection);
    if (accepted instanceof Promise) accepted.catch(close);
  } catch {
    close();
  }
}

function defaultAnswer(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (pathnameOf(req.url) === path) {
    res.writeHead(405, { ...JSON_TYPE, allow: 'GET' }).end(errorBody('method_not_allowed', 'use GET to open an event stream'));
  } else {
    res.writeHead(404, JSON_TYPE).end(errorBody('not_found', 'not found'));
  }
}
