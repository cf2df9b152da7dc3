import type { NodeRequest } from '../stream/NodeSink.js';
import type { ConnectRequest } from './types.js';

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

  // Read from the request target itself: a whole URL parse costs several times more.
  get query(): URLSearchParams {
    if (this.#query === undefined) {
      if (this.#url !== undefined) this.#query = this.#url.searchParams;
      else {
        const target = this.raw.url ?? '';
        const mark = target.indexOf('?');
        this.#query = new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1));
      }
    }
    return this.#query;
  }

  header(name: string): string | undefined {
    const value = this.raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
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
