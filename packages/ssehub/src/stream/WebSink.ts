import { SSE_HEADERS } from './headers.js';
import type { Sink, SinkEvents } from './Sink.js';

/** Bytes a Web stream buffers before it reports backpressure (like Node's highWaterMark). */
const WEB_HIGH_WATER_MARK = 64 * 1024;

/**
 * Opens an event stream as a Web `Response` (fetch-style runtimes: Hono, Bun, Deno, workers).
 * The body's `pull` is the drain signal and `cancel` is the disconnect.
 */
export function openWebSink(
  events: SinkEvents,
  signal?: AbortSignal,
  extraHeaders?: Readonly<Record<string, string>>,
): { sink: Sink; response: Response } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    events.sinkClosed();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        events.sinkDrained();
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: WEB_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
  );
  signal?.addEventListener('abort', () => {
    if (!ended) controller.error(signal.reason);
    finish();
  });
  const sink: Sink = {
    write(chunk) {
      if (ended) return true;
      controller.enqueue(chunk);
      return (controller.desiredSize ?? 0) > 0;
    },
    end() {
      if (ended) return;
      controller.close();
      finish();
    },
    destroy() {
      if (ended) return;
      controller.error(new Error('SSE stream destroyed'));
      finish();
    },
  };
  const response = new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...extraHeaders } });
  return { sink, response };
}
