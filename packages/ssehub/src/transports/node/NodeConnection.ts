import type { IncomingMessage, ServerResponse } from 'node:http';
import { type NodeRequest, type NodeResponse, openNodeSink } from '../../stream/NodeSink.js';
import type { Sink, SinkEvents } from '../../stream/Sink.js';
import type { Answer, Connection, ConnectRequest } from '../Connection.js';
import { RequestTarget } from '../RequestTarget.js';
import { sealConnection, unsealConnection } from './sealConnection.js';

/**
 * A `node:http` or `node:http2` (compatibility API) request and its response, as a
 * {@link Connection}. It is its own request view: one small object per connection.
 *
 * An HTTP/1.x stream request seals its connection as soon as it arrives (see
 * `sealConnection`): one pipelined behind another stream's is gone at once.
 */
export class NodeConnection extends RequestTarget implements Connection, ConnectRequest {
  // A refusal after the stream has opened would write an answer into the stream.
  #opened = false;
  readonly raw: NodeRequest;
  readonly #res: NodeResponse;
  readonly #http1: boolean;

  constructor(req: NodeRequest, res: NodeResponse) {
    super();
    this.raw = req;
    this.#res = res;
    this.#http1 = req.httpVersionMajor === 1;
    if (this.#http1 && (req.method === 'GET' || req.method === undefined)) sealConnection(req as IncomingMessage);
  }

  get request(): ConnectRequest {
    return this;
  }

  protected get target(): string {
    return this.raw.url ?? '/';
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

  refuse(answer: Answer): void {
    if (this.#opened) return;
    const res = this.#res as ServerResponse;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    // The answer ends: the connection may serve other requests again.
    if (this.#http1) unsealConnection(this.raw as IncomingMessage);
  }

  open(headers: Readonly<Record<string, string>> | undefined, events: SinkEvents): Sink {
    const sink = openNodeSink(this.raw, this.#res, events, headers);
    this.#opened = true;
    return sink;
  }
}
