/**
 * The contract between a hub and a transport: what one incoming event-stream request must
 * offer for the hub to answer it. node:http and node:http2 (`NodeConnection`), ssehub's own
 * socket server (`createSseServer`) and Web `Request`/`Response` (`WebConnection`) each
 * implement it in a few dozen lines; a framework adapter or a transport of your own does the
 * same and hands it to `hub.accept(connection)`.
 *
 * The hub decides (authenticate, limits) and then calls exactly one of `refuse` or `open`,
 * once. What it writes after `open` goes through the returned {@link Sink}, which reports
 * backpressure (`write` returning false, then `sinkDrained`) and the end of the connection
 * (`sinkClosed`).
 * @module
 */

import type { Sink, SinkEvents } from '../stream/Sink.js';

/** The request a connection arrives with, the same for every transport. */
export interface ConnectRequest {
  readonly method: string;
  /** The request URL (parsed on first use). */
  readonly url: URL;
  /** The query string: `request.query.get('user')`. Cheaper than `url.searchParams` on Node. */
  readonly query: URLSearchParams;
  /** A request header (lower- or mixed-case name); the first value if repeated. */
  header(name: string): string | undefined;
  /** The transport's own request object (`IncomingMessage`, `Http2ServerRequest`, `Request`, …). */
  readonly raw: unknown;
}

/** A complete answer that is not an event stream: a refusal, with a JSON body. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body, as text (JSON). */
  readonly body: string;
}

/** One incoming event-stream request, as a transport hands it to `hub.accept`. */
export interface Connection {
  /** What `authenticate` sees. */
  readonly request: ConnectRequest;
  /** True once the client has gone, answered or not (checked after an asynchronous step). */
  readonly gone: boolean;
  /** Answers with `answer` and ends the exchange. */
  refuse(answer: Answer): void;
  /**
   * Starts the event stream: the transport's own stream headers plus `headers` (which win on a
   * clash). Throws when the transport refuses a header; the hub then refuses with 500.
   * The head may wait for the first write, so that it leaves with the first events.
   */
  open(headers: Readonly<Record<string, string>> | undefined, events: SinkEvents): Sink;
}
