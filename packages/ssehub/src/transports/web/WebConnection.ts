import type { Sink, SinkEvents } from '../../stream/Sink.js';
import { openWebSink } from '../../stream/WebSink.js';
import type { Answer, Connection, ConnectRequest } from '../Connection.js';

/**
 * A Web `Request` (Hono, Bun, Deno, fetch handlers) as a {@link Connection}: the hub's answer,
 * refusal or event stream, becomes the `Response` that {@link WebConnection.response} resolves
 * with. The client leaving is the request's `signal` aborting.
 */
export class WebConnection implements Connection, ConnectRequest {
  // A refusal after the stream has opened would write an answer into the stream.
  #opened = false;
  readonly raw: Request;
  /** Resolves with the answer, once the hub has decided. */
  readonly response: Promise<Response>;
  #answer!: (response: Response) => void;
  #url: URL | undefined;

  constructor(request: Request) {
    this.raw = request;
    this.response = new Promise((resolve) => {
      this.#answer = resolve;
    });
  }

  get request(): ConnectRequest {
    return this;
  }

  get method(): string {
    return this.raw.method;
  }

  get url(): URL {
    this.#url ??= new URL(this.raw.url);
    return this.#url;
  }

  get query(): URLSearchParams {
    return this.url.searchParams;
  }

  header(name: string): string | undefined {
    return this.raw.headers.get(name) ?? undefined;
  }

  get gone(): boolean {
    return this.raw.signal.aborted;
  }

  refuse(answer: Answer): void {
    if (this.#opened) return;
    this.#answer(new Response(answer.body, { status: answer.status, headers: answer.headers }));
  }

  open(headers: Readonly<Record<string, string>> | undefined, events: SinkEvents): Sink {
    const { sink, response } = openWebSink(events, this.raw.signal, headers);
    this.#opened = true;
    this.#answer(response);
    return sink;
  }
}
