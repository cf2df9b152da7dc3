import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { DrainAwaitingSink } from './DrainAwaitingSink.js';
import { SSE_HEADERS, SSE_HEADERS_HTTP1 } from './headers.js';
import type { Sink, SinkEvents } from './Sink.js';

/** A Node request: `node:http` or the `node:http2` compatibility API. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A Node response: `node:http` or the `node:http2` compatibility API. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

// The two response classes share the members used here; one structural view avoids casts.
interface NodeResponseLike {
  readonly socket?: { cork(): void; uncork(): void; end(): void } | null;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly headersSent: boolean;
  writeHead(status: number, headers: Readonly<Record<string, string>>): unknown;
  flushHeaders?(): void;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain' | 'finish', listener: () => void): unknown;
}

/** Turns off Nagle's algorithm so small events leave at once instead of waiting to coalesce. */
function setNoDelay(req: NodeRequest): void {
  try {
    if (req.httpVersionMajor === 2) (req as Http2ServerRequest).stream.session?.socket.setNoDelay(true);
    else (req as IncomingMessage).socket.setNoDelay(true);
  } catch {
    // A proxied or already-closed socket: latency is the only loss.
  }
}

// A hub passes the same frozen extra headers to every stream: merged once, not per connection
// (Node only reads the object it is given). An object that is not frozen may change, so it is
// merged every time.
const merged = new WeakMap<Readonly<Record<string, string>>, { http1: Record<string, string>; http2: Record<string, string> }>();

function withExtraHeaders(extra: Readonly<Record<string, string>>, http2: boolean): Record<string, string> {
  if (!Object.isFrozen(extra)) return { ...(http2 ? SSE_HEADERS : SSE_HEADERS_HTTP1), ...extra };
  let both = merged.get(extra);
  if (both === undefined) {
    both = { http1: { ...SSE_HEADERS_HTTP1, ...extra }, http2: { ...SSE_HEADERS, ...extra } };
    merged.set(extra, both);
  }
  return http2 ? both.http2 : both.http1;
}

/** The sink of one Node response: a class, so a connection holds one small object. */
class NodeSink extends DrainAwaitingSink implements Sink {
  readonly #res: NodeResponseLike;
  readonly #http1: boolean;
  readonly socket: Socket | undefined;
  #headSent = false;

  constructor(res: NodeResponseLike, http1: boolean, events: SinkEvents, socket: Socket | undefined) {
    super(events);
    this.socket = socket;
    this.#res = res;
    this.#http1 = http1;
  }

  write(chunk: Uint8Array): boolean {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return true;
    const socket = this.#http1 ? res.socket : undefined;
    if (socket == null) {
      this.#headSent = true;
      return res.write(chunk) || this.refused(res);
    }
    // Corked around the write, Node writes at the uncork, now, instead of scheduling an
    // uncork for the next tick for every response; and a first write carries the head in the
    // same system call. The head is flushed on its own rather than prepended to the chunk:
    // Node then writes its header string itself, which flattens it, instead of keeping the
    // ~700-byte rope it was built as for the life of the connection.
    socket.cork();
    if (!this.#headSent) {
      this.#headSent = true;
      res.flushHeaders?.();
    }
    const ok = res.write(chunk);
    socket.uncork();
    return ok || this.refused(res);
  }

  flushHead(): void {
    if (this.#headSent) return;
    this.#headSent = true;
    if (!this.#res.destroyed && !this.#res.writableEnded) this.#res.flushHeaders?.();
  }

  end(): void {
    this.#headSent = true;
    if (this.#res.writableEnded) return;
    this.#res.end();
    // On HTTP/1.x the connection was the stream's alone (see sealConnection): it ends with it.
    const socket = this.#http1 ? this.#res.socket : undefined;
    if (socket != null) this.#res.once('finish', () => socket.end());
  }

  destroy(): void {
    this.#res.destroy();
  }
}

/**
 * Starts an event stream on a Node response: writes the SSE headers, then forwards `'drain'`
 * (while a write waits for it) and `'close'` to the stream. The head is sent with the stream's first flush, at the end of
 * this loop turn, together with whatever was queued by then (one write instead of two).
 */
export function openNodeSink(
  req: NodeRequest,
  response: NodeResponse,
  events: SinkEvents,
  extraHeaders?: Readonly<Record<string, string>>,
): Sink {
  const res = response as unknown as NodeResponseLike;
  const http2 = req.httpVersionMajor === 2;
  res.writeHead(200, extraHeaders === undefined ? (http2 ? SSE_HEADERS : SSE_HEADERS_HTTP1) : withExtraHeaders(extraHeaders, http2));
  setNoDelay(req);
  const closed = (): void => events.sinkClosed();
  res.on('close', closed);
  // A response queued behind another on its connection never hears 'close' if the connection
  // dies first: the stream would stay registered without a socket. The socket itself tells.
  if (!http2) (req as IncomingMessage).socket.once('close', closed);
  if (res.destroyed) queueMicrotask(closed);
  const socket = http2 ? (req as Http2ServerRequest).stream.session?.socket : (req as IncomingMessage).socket;
  return new NodeSink(res, !http2, events, socket as Socket | undefined);
}
