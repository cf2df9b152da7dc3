import type { NodeRequest } from '../stream/NodeSink.js';
import type { ConnectRequest } from './types.js';

/** Wraps a Node request as a {@link ConnectRequest}. */
export function nodeConnectRequest(req: NodeRequest): ConnectRequest {
  let url: URL | undefined;
  return {
    method: req.method ?? 'GET',
    get url() {
      url ??= new URL(req.url ?? '/', 'http://localhost');
      return url;
    },
    header(name) {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    raw: req,
  };
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
    header(name) {
      return request.headers.get(name) ?? undefined;
    },
    raw: request,
  };
}
