import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { headEnd, MAX_HEAD_BYTES, parseRequestHead, type RequestHead, type SocketRequest } from './requestHead.js';
import { completeResponse } from './responseHead.js';

/** What the server needs of a hub (a `Hub` has it). */
export interface SocketHub {
  /** @internal */
  serveSocket(request: SocketRequest): void;
}

/** Options of {@link createSseServer}. */
export interface SseServerOptions {
  /** The path of the event stream (the query string is free). @defaultValue '/events' */
  path?: string;
  /**
   * Serves every other request: a `node:http` request listener (an Express app, Koa's
   * `app.callback()`, …) or an `http.Server`. Without one, other paths answer 404.
   */
  fallback?: ((req: IncomingMessage, res: ServerResponse) => void) | HttpServer;
  /** How long a client may take to send its request head before a 408. @defaultValue 30000 */
  headersTimeoutMs?: number;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

function errorBody(status: number, message: string): string {
  return JSON.stringify({ error: { status, message } });
}

/** Whether this is the plain request the server answers itself; anything else goes to node:http. */
function isStreamRequest(head: RequestHead, path: string): boolean {
  if (head.method !== 'GET') return false;
  const mark = head.url.indexOf('?');
  if ((mark === -1 ? head.url : head.url.slice(0, mark)) !== path) return false;
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
export function createSseServer(hub: SocketHub, options: SseServerOptions = {}): Server {
  const path = options.path ?? '/events';
  const headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
  const fallback: HttpServer =
    options.fallback === undefined
      ? createHttpServer((req, res) => defaultAnswer(req, res, path))
      : typeof options.fallback === 'function'
        ? createHttpServer(options.fallback)
        : options.fallback;

  return createNetServer({ noDelay: true }, (socket) => readHead(socket, hub, path, fallback, headersTimeoutMs));
}

function readHead(socket: Socket, hub: SocketHub, path: string, fallback: HttpServer, headersTimeoutMs: number): void {
  let received: Buffer | undefined;
  const timer = setTimeout(() => {
    stop();
    socket.end(completeResponse(408, JSON_TYPE, errorBody(408, 'the request head took too long')));
  }, headersTimeoutMs);

  function stop(): void {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
  }

  function handOver(): void {
    stop();
    socket.pause();
    if (received !== undefined) socket.unshift(received);
    fallback.emit('connection', socket);
    socket.resume();
  }

  function onError(): void {
    stop();
    socket.destroy();
  }

  function onData(chunk: Buffer): void {
    received = received === undefined ? chunk : Buffer.concat([received, chunk]);
    const end = headEnd(received);
    if (end === -1) {
      if (received.byteLength >= MAX_HEAD_BYTES) handOver();
      return;
    }
    const head = end <= MAX_HEAD_BYTES ? parseRequestHead(received.toString('latin1', 0, end - 4)) : undefined;
    if (head === undefined || !isStreamRequest(head, path)) {
      handOver();
      return;
    }
    // Bytes after the head (a pipelined request) are dropped: the stream never ends to answer them.
    stop();
    received = undefined;
    hub.serveSocket({ method: head.method, url: head.url, headers: head.headers, socket });
  }

  socket.on('data', onData);
  socket.on('error', onError);
}

/** Without a fallback: the stream path takes only GET, and nothing else is here. */
function defaultAnswer(req: IncomingMessage, res: ServerResponse, path: string): void {
  const pathname = (req.url ?? '/').split('?')[0];
  if (pathname === path) {
    res.writeHead(405, { ...JSON_TYPE, allow: 'GET' }).end(errorBody(405, 'use GET to open an event stream'));
  } else {
    res.writeHead(404, JSON_TYPE).end(errorBody(404, 'not found'));
  }
}
