import type { Sink, SinkEvents } from '../../stream/Sink.js';
import type { Answer, Connection, ConnectRequest } from '../Connection.js';
import { RequestTarget } from '../RequestTarget.js';
import { finishResponse } from './finishResponse.js';
import type { SocketRequest } from './requestHead.js';
import { completeResponse } from './responseHead.js';
import { openSocketSink } from './SocketSink.js';

/**
 * A request the SSE server read itself, on its socket, as a {@link Connection}: its answer is
 * written straight to the socket, which closes after a refusal.
 */
export class SocketConnection extends RequestTarget implements Connection, ConnectRequest {
  /** What `authenticate` sees in `request.raw`: the `method`, `url`, `headers` and `socket`. */
  // A refusal after the stream has opened would write an answer into the stream.
  #opened = false;
  readonly raw: SocketRequest;

  constructor(request: SocketRequest) {
    super();
    this.raw = request;
  }

  get request(): ConnectRequest {
    return this;
  }

  protected get target(): string {
    return this.raw.url;
  }

  get method(): string {
    return this.raw.method;
  }

  header(name: string): string | undefined {
    return this.raw.headers[name.toLowerCase()];
  }

  get gone(): boolean {
    return this.raw.socket.destroyed;
  }

  refuse(answer: Answer): void {
    if (this.#opened) return;
    const socket = this.raw.socket;
    if (socket.destroyed || !socket.writable) return;
    finishResponse(socket, completeResponse(answer.status, answer.headers, answer.body));
  }

  open(headers: Readonly<Record<string, string>> | undefined, events: SinkEvents): Sink {
    const sink = openSocketSink(this.raw.socket, events, headers);
    this.#opened = true;
    return sink;
  }
}
