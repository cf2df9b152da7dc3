import type { SseEvent } from '../protocol/SseEvent.js';
import type { SseStream } from './SseStream.js';

/** Options of {@link serve} and {@link serveFunction}. */
export interface ServeOptions {
  /**
   * Milliseconds of silence after which a keep-alive comment is sent; 0 turns it off.
   * @defaultValue 15000
   */
  keepAliveMs?: number;
  /** Stops serving when aborted, in addition to the client disconnecting. */
  signal?: AbortSignal;
  /** Closes the stream when the source is exhausted. @defaultValue true */
  closeOnEnd?: boolean;
}

/** What a producer function receives: a way to send, and the signal that stops it. */
export type Producer = (send: (event: SseEvent) => void, signal: AbortSignal) => Promise<void> | void;

function combinedSignal(stream: SseStream, extra: AbortSignal | undefined): AbortSignal {
  return extra === undefined ? stream.signal : AbortSignal.any([stream.signal, extra]);
}

function startKeepAlive(stream: SseStream, keepAliveMs: number): () => void {
  if (keepAliveMs <= 0) return () => {};
  const timer = setInterval(() => {
    if (!stream.closed && Date.now() - stream.lastWriteAt >= keepAliveMs) stream.sendComment();
  }, keepAliveMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Pumps an async iterable of events into a stream, with keep-alive comments, until the source
 * ends, the client disconnects or `options.signal` aborts. The iterator is `return`ed on
 * disconnect so generators run their `finally` blocks.
 *
 * @example
 * async function* ticks() { for (let i = 0; ; i++) { await sleep(1000); yield { data: `tick ${i}` }; } }
 * await serve(createNodeStream(req, res), ticks());
 */
export async function serve(
  stream: SseStream,
  source: AsyncIterable<SseEvent> | Iterable<SseEvent>,
  options: ServeOptions = {},
): Promise<void> {
  const signal = combinedSignal(stream, options.signal);
  const stopKeepAlive = startKeepAlive(stream, options.keepAliveMs ?? 15_000);
  const iterator =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<SseEvent>)[Symbol.asyncIterator]()
      : (source as Iterable<SseEvent>)[Symbol.iterator]();
  // Racing each `next()` against the abort lets a disconnect stop a source that is waiting.
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    while (!signal.aborted) {
      const step = await Promise.race([iterator.next(), aborted]);
      if (step === 'aborted' || step.done) break;
      stream.send(step.value);
    }
  } finally {
    stopKeepAlive();
    if (signal.aborted) void Promise.resolve(iterator.return?.()).catch(() => {});
    if (options.closeOnEnd !== false) stream.close();
  }
}

/**
 * Runs a producer that sends events by calling `send`, with keep-alive comments, until it
 * returns or the client disconnects (its `signal` aborts).
 *
 * @example
 * await serveFunction(stream, async (send, signal) => {
 *   for (let i = 0; !signal.aborted; i++) { send({ data: `tick ${i}` }); await sleep(1000, undefined, { signal }); }
 * });
 */
export async function serveFunction(stream: SseStream, producer: Producer, options: ServeOptions = {}): Promise<void> {
  const signal = combinedSignal(stream, options.signal);
  const stopKeepAlive = startKeepAlive(stream, options.keepAliveMs ?? 15_000);
  try {
    await producer((event) => {
      if (!signal.aborted) stream.send(event);
    }, signal);
  } catch (error) {
    // An abort at disconnect is the normal way for a producer to stop.
    if (!signal.aborted) throw error;
  } finally {
    stopKeepAlive();
    if (options.closeOnEnd !== false) stream.close();
  }
}
