import type { IncomingMessage } from 'node:http';
import type { ConnectionRefusedError } from '../errors.js';
import { createSocketStream } from '../http/createSocketStream.js';
import type { SocketRequest } from '../http/requestHead.js';
import { unsealConnection } from '../http/sealConnection.js';
import { createNodeStream, type StreamOptions } from '../stream/createStream.js';
import type { NodeRequest, NodeResponse } from '../stream/NodeSink.js';
import type { SseStream } from '../stream/SseStream.js';
import { answerNodeRefusal, answerSocketRefusal } from './refusal.js';
import type { ConnectRequest } from './types.js';

/**
 * A request the hub answers on its own transport: refused with a status, or given its event
 * stream. Also what `authenticate` sees of it (a {@link ConnectRequest}); one small object per
 * connection, its URL parsed only if asked for.
 */
export abstract class AnswerableRequest implements ConnectRequest {
  #url: URL | undefined;
  #query: URLSearchParams | undefined;

  abstract readonly raw: NodeRequest | SocketRequest;
  abstract get method(): string;
  abstract header(name: string): string | undefined;
  /** True when the client left before it could be answered. */
  abstract get gone(): boolean;
  /** Answers with the refusal's status, headers and body. */
  abstract refuse(error: ConnectionRefusedError, hubHeaders: Record<string, string> | undefined): void;
  /** Starts the event stream. Throws when the transport refuses a header. */
  abstract open(options: StreamOptions): SseStream;

  get url(): URL {
    this.#url ??= new URL(this.raw.url ?? '/', 'http://localhost');
    return this.#url;
  }

  // Read from the request target itself: a whole URL parse costs several times more.
  get query(): URLSearchParams {
    if (this.#query === undefined) {
      const target = this.raw.url ?? '';
      const mark = target.indexOf('?');
      this.#query = this.#url?.searchParams ?? new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1));
    }
    return this.#query;
  }
}

/** A `node:http`/`node:http2` request and its response. */
export class NodeConnectRequest extends AnswerableRequest {
  readonly raw: NodeRequest;
  readonly #res: NodeResponse;

  constructor(req: NodeRequest, res: NodeResponse) {
    super();
    this.raw = req;
    this.#res = res;
  }

  get method(): string {
    return this.raw.method ?? 'GET';
  }

  header(name: string): string | undefined {
    const value = this.raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  get gone(): boolean {
    return this.#res.destroyed;
  }

  refuse(error: ConnectionRefusedError, hubHeaders: Record<string, string> | undefined): void {
    answerNodeRefusal(this.#res, error, hubHeaders);
    // The answer ends: the connection may serve other requests again.
    if (this.raw.httpVersionMajor === 1) unsealConnection(this.raw as IncomingMessage);
  }

  open(options: StreamOptions): SseStream {
    return createNodeStream(this.raw, this.#res, options);
  }
}

/** A request the SSE server read itself, on its socket. */
export class SocketConnectRequest extends AnswerableRequest {
  readonly raw: SocketRequest;

  constructor(request: SocketRequest) {
    super();
    this.raw = request;
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

  refuse(error: ConnectionRefusedError, hubHeaders: Record<string, string> | undefined): void {
    answerSocketRefusal(this.raw, error, hubHeaders);
  }

  open(options: StreamOptions): SseStream {
    return createSocketStream(this.raw, options);
  }
}

/** Wraps a Web `Request` as a {@link ConnectRequest}. */
export function webConnectRequest(request: Request): ConnectRequest {
  let url: URL | undefined;
  return {
    method: request.method,
    get url() {
      url ??= new URL(request.url);
      return url;
    },
    get query() {
      return this.url.searchParams;
    },
    header(name) {
      return request.headers.get(name) ?? undefined;
    },
    raw: request,
  };
}
