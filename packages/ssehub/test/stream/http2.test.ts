import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamClosedError } from '../../src/errors.js';
import { createNodeStream } from '../../src/stream/createStream.js';
import type { SseStream } from '../../src/stream/SseStream.js';
import { sleep } from '../support/clients.js';
import { Inbox, parseEvents, until } from './helpers.js';

interface H2Server {
  url: string;
  streams: Inbox<SseStream>;
  close(): Promise<void>;
}

let server: H2Server | undefined;
const sessions: http2.ClientHttp2Session[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  await server?.close();
  server = undefined;
});

/** An h2c (cleartext HTTP/2) server on loopback whose every request opens a stream. */
async function listenH2(): Promise<H2Server> {
  const streams = new Inbox<SseStream>();
  const serverSessions = new Set<http2.ServerHttp2Session>();
  const h2 = http2.createServer((req, res) => {
    streams.push(createNodeStream(req, res));
  });
  h2.on('session', (session) => {
    serverSessions.add(session);
    session.on('close', () => serverSessions.delete(session));
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  const { port } = h2.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    streams,
    async close() {
      for (const session of serverSessions) session.destroy();
      await new Promise<void>((resolve) => h2.close(() => resolve()));
    },
  };
}

/** An HTTP/2 client request that records response headers and body bytes. */
async function request(
  url: string,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{
  session: http2.ClientHttp2Session;
  req: http2.ClientHttp2Stream;
  headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;
  text: () => string;
  state: { ended: boolean; closed: boolean };
}> {
  const session = http2.connect(url);
  sessions.push(session);
  session.on('error', () => {});
  const req = session.request({ ':path': '/events', ...headers });
  req.on('error', () => {});
  const chunks: Buffer[] = [];
  const state = { ended: false, closed: false };
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    state.ended = true;
  });
  req.on('close', () => {
    state.closed = true;
  });
  const [responseHeaders] = (await once(req, 'response')) as [http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader];
  return { session, req, headers: responseHeaders, text: () => Buffer.concat(chunks).toString('utf8'), state };
}

describe('createNodeStream (HTTP/2, h2c)', () => {
  it('answers 200 with the SSE headers and no connection header, before any event is sent', async () => {
    server = await listenH2();
    const client = await request(server.url);
    const stream = await server.streams.next();
    expect(client.headers[':status']).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.headers.connection).toBeUndefined();
    expect(client.headers['transfer-encoding']).toBeUndefined();
    expect(client.headers['content-length']).toBeUndefined();
    await sleep(20);
    expect(client.text()).toBe('');
    expect(stream.queuedBytes).toBe(0);
  });

  it('delivers events with exact bytes, in order', async () => {
    server = await listenH2();
    const client = await request(server.url);
    const stream = await server.streams.next();
    stream.send({ id: '1', event: 'chat', data: 'a\r\nb' }).sendComment().sendJSON(undefined, { n: 1 });
    for (let i = 0; i < 500; i++) stream.sendData(`#${i}`);
    const expected = `id: 1\nevent: chat\ndata: a\ndata: b\n\n:\n\ndata: {"n":1}\n\n${Array.from({ length: 500 }, (_, i) => `data: #${i}\n\n`).join('')}`;
    await until(
      () => client.text() === expected,
      5000,
      () => `h2 body, got ${client.text().length} chars`,
    );
    expect(parseEvents(client.text())).toHaveLength(502);
  });

  it('reads the Last-Event-ID header over HTTP/2', async () => {
    server = await listenH2();
    await request(server.url, { 'last-event-id': 'h2-9' });
    const stream = await server.streams.next();
    expect(stream.lastEventId).toBe('h2-9');
    expect(stream.lastEventIdPresent).toBe(true);
  });

  it('closes the stream, resolves done and aborts signal when the client cancels the request', async () => {
    server = await listenH2();
    const client = await request(server.url);
    const stream = await server.streams.next();
    const signal = stream.signal;
    stream.sendData('hello');
    await until(() => client.text() === 'data: hello\n\n');
    client.req.close(http2.constants.NGHTTP2_CANCEL);
    await stream.done;
    expect(stream.closed).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(() => stream.sendData('late')).toThrow(StreamClosedError);
  });

  it('closes the stream when the client session goes away', async () => {
    server = await listenH2();
    const client = await request(server.url);
    const stream = await server.streams.next();
    client.session.destroy();
    await stream.done;
    expect(stream.closed).toBe(true);
    expect(stream.signal.aborted).toBe(true);
  });

  it('close() ends the HTTP/2 stream after the queued events', async () => {
    server = await listenH2();
    const client = await request(server.url);
    const stream = await server.streams.next();
    stream.sendData('last').close();
    await until(() => client.state.ended, 5000, 'the end of the h2 stream');
    expect(client.text()).toBe('data: last\n\n');
    await stream.done;
    expect(stream.closed).toBe(true);
  });
});
