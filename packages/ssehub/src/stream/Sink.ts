import type { Socket } from 'node:net';

/**
 * The transport under one SSE stream: a Node `http`/`http2` response or a Web
 * `ReadableStream`. The stream writes whole chunks; the sink reports backpressure through
 * the return value of `write` and calls the stream back on drain and close.
 */
export interface Sink {
  /** Writes one chunk. `false` means the transport is full: wait for the drain callback. */
  write(chunk: Uint8Array): boolean;
  /** Ends the response after everything written so far. */
  end(): void;
  /** Tears the connection down at once (a client that cannot keep up). */
  destroy(): void;
  /**
   * Sends the response head now if no write has carried it yet. The stream calls it at its
   * first flush when nothing is queued; otherwise the head leaves with the first bytes, in
   * one write (for transports whose head is already out, it is absent).
   */
  flushHead?(): void;
  /** The TCP socket under the stream, when the transport has one of its own (not a Web body). */
  readonly socket?: Socket | undefined;
}

/** Callbacks a sink uses to tell its stream about the transport. Set once per connection. */
export interface SinkEvents {
  sinkDrained(): void;
  sinkClosed(): void;
}
