import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { SSE_HEADERS, SSE_HEADERS_HTTP1 } from './headers.js';
import type { Sink, SinkEvents } from './Sink.js';

/** A Node request: `node:http` or the `node:http2` compatibility API. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A Node response: `node:http` or the `node:http2` compatibility API. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

// The two response classes share the members used here; one structural view avoids casts.
interface NodeResponseLike {
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  flushHeaders?(): void;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
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

/**
 * Starts an event stream on a Node response: writes the SSE headers and sends them at once,
 * then forwards `'drain'` and `'close'` to the stream.
 */
export function openNodeSink(req: NodeRequest, response: NodeResponse, events: SinkEvents, extraHeaders?: Record<string, string>): Sink {
  const res = response as unknown as NodeResponseLike;
  const base = req.httpVersionMajor === 2 ? SSE_HEADERS : SSE_HEADERS_HTTP1;
  res.writeHead(200, extraHeaders === undefined ? { ...base } : { ...base, ...extraHeaders });
  res.flushHeaders?.();
  setNoDelay(req);
  res.on('drain', () => events.sinkDrained());
  res.on('close', () => events.sinkClosed());
  if (res.destroyed) queueMicrotask(() => events.sinkClosed());
  return {
    write: (chunk) => (res.destroyed || res.writableEnded ? true : res.write(chunk)),
    end: () => {
      if (!res.writableEnded) res.end();
    },
    destroy: () => {
      res.destroy();
    },
  };
}
