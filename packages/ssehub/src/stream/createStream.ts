import { DEFAULT_MAX_LAST_EVENT_ID_LENGTH, readLastEventId } from '../protocol/lastEventId.js';
import { type NodeRequest, type NodeResponse, openNodeSink } from './NodeSink.js';
import { SseStream, type StreamQueueOptions } from './SseStream.js';
import { openWebSink } from './WebSink.js';

/** Options of a single stream. */
export interface StreamOptions extends StreamQueueOptions {
  /**
   * Longest Last-Event-ID accepted from a client; longer ones are ignored.
   * @defaultValue 256
   */
  maxLastEventIdLength?: number;
  /** Extra response headers (CORS, for example). */
  headers?: Record<string, string>;
}

function header(req: NodeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** @internal The `lastEventId` query parameter of a request target, without a full URL parse. */
export function queryLastEventId(target: string | undefined): string | null {
  if (target === undefined || !target.includes('lastEventId=')) return null;
  return new URL(target, 'http://localhost').searchParams.get('lastEventId');
}

/**
 * Starts a Server-Sent Events stream on a Node `http` or `http2` (compatibility API) response.
 *
 * @example
 * http.createServer((req, res) => {
 *   const stream = createNodeStream(req, res);
 *   const timer = setInterval(() => stream.sendData(new Date().toISOString()), 1000);
 *   stream.signal.addEventListener('abort', () => clearInterval(timer));
 * });
 */
export function createNodeStream(req: NodeRequest, res: NodeResponse, options: StreamOptions = {}): SseStream {
  const claim = readLastEventId(
    header(req, 'last-event-id'),
    queryLastEventId(req.url),
    options.maxLastEventIdLength ?? DEFAULT_MAX_LAST_EVENT_ID_LENGTH,
  );
  return new SseStream((events) => openNodeSink(req, res, events, options.headers), claim, options);
}

/**
 * Starts a Server-Sent Events stream as a Web `Response`, for fetch-style handlers
 * (Hono, Bun, Deno, service workers). Return `response` from the handler.
 *
 * @example
 * app.get('/clock', (c) => {
 *   const { stream, response } = createWebStream(c.req.raw);
 *   stream.sendData('hello');
 *   return response;
 * });
 */
export function createWebStream(request?: Request, options: StreamOptions = {}): { stream: SseStream; response: Response } {
  const claim = readLastEventId(
    request?.headers.get('last-event-id') ?? undefined,
    request === undefined ? null : queryLastEventId(request.url),
    options.maxLastEventIdLength ?? DEFAULT_MAX_LAST_EVENT_ID_LENGTH,
  );
  let response!: Response;
  const stream = new SseStream(
    (events) => {
      const opened = openWebSink(events, request?.signal, options.headers);
      response = opened.response;
      return opened.sink;
    },
    claim,
    options,
  );
  return { stream, response };
}
