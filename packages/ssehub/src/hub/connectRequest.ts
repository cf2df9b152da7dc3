import type { SocketRequest } from '../http/requestHead.js';
import type { NodeRequest } from '../stream/NodeSink.js';
import type { ConnectRequest } from './types.js';

// Read from the request target itself: a whole URL parse costs several times more.
function queryOf(target: string): URLSearchParams {
  const mark = target.indexOf('?');
  return new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1));
}

/** A Node request as a {@link ConnectRequest}: a class, so a connection costs one small object. */
export class NodeConnectRequest implements ConnectRequest {
  readonly raw: NodeRequest;
  #url: URL | undefined;
  #query: URLSearchParams | undefined;

  constructor(req: NodeRequest) {
    this.raw = req;
  }

  get method(): string {
    return this.raw.method ?? 'GET';
  }

  // Parsed on first use: an `authenticate` reading only a header never pays for it.
  get url(): URL {
    this.#url ??= new URL(this.raw.url ?? '/', 'http://localhost');
    return this.#url;
  }

  get query(): URLSearchParams {
    this.#query ??= this.#url?.searchParams ?? queryOf(this.raw.url ?? '');
    return this.#query;
  }

  header(name: string): string | undefined {
    const value = this.raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }
}

/** A request the SSE server read itself, as a {@link ConnectRequest}. */
export class SocketConnectRequest implements ConnectRequest {
  readonly raw: SocketRequest;
  #url: URL | undefined;
  #query: URLSearchParams | undefined;

  constructor(request: SocketRequest) {
    this.raw = request;
  }

  get method(): string {
    return this.raw.method;
  }

  get url(): URL {
    this.#url ??= new URL(this.raw.url, 'http://localhost');
    return this.#url;
  }

  get query(): URLSearchParams {
    this.#query ??= this.#url?.searchParams ?? queryOf(this.raw.url);
    return this.#query;
  }

  header(name: string): string | undefined {
    return this.raw.headers[name.toLowerCase()];
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
