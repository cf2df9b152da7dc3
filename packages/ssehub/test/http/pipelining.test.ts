/**
 * An event stream occupies its HTTP/1.x connection for good: nothing sent after a stream
 * request on the same connection may run, and no stream may stay registered once its socket is
 * gone. Tried the way an attacker would, with raw sockets, on every path a stream request can
 * take: `hub.handler()` on node:http, and `createSseServer` with the requests it hands over.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/index.js';
import { hubOf, RawSocket, Scope, sleep, sseServer, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

/** What the application's own routes ran. */
interface AppRoutes {
  readonly ran: string[];
  readonly listener: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

/** An application with a publish route, a health route and a slow route, beside the hub's stream. */
function appRoutes(hub: Hub, streamPath = '/events'): AppRoutes {
  const ran: string[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === streamPath && req.method === 'GET') {
      hub.handler()(req, res);
      return;
    }
    ran.push(`${req.method} ${path}`);
    if (path === '/slow') {
      setTimeout(() => res.end('slow'), 2000).unref();
      return;
    }
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': '2' }).end('ok'));
  };
  return { ran, listener };
}

/** `hub.handler()` inside a plain node:http server, as an application mounts it. */
async function plainServer(hub: Hub): Promise<{ port: number; ran: string[] }> {
  const { ran, listener } = appRoutes(hub);
  const server = http.createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  scope.defer(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, ran };
}

const PUBLISH = 'POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';

describe('streams never outlive their socket', () => {
  it('250 stream requests pipelined on one HTTP/1.0 keep-alive connection register at most one stream, gone with the socket', async () => {
    const hub = hubOf(scope);
    const { port } = await plainServer(hub);
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.write('GET /events?user=u HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'.repeat(250));
    await waitFor(() => hub.counters.connections >= 1, 'the first stream');
    await sleep(100);
    expect(hub.counters.connections).toBe(1);
    expect(hub.clients.size).toBeLessThanOrEqual(1);
    raw.socket.destroy();
    await waitFor(() => hub.clients.size === 0, 'every stream to be unregistered', 2000);
    expect(hub.connectionCount('u')).toBe(0);
  });

  it('a stream request queued behind a slow answer is unregistered when the connection dies before its turn', async () => {
    const hub = hubOf(scope);
    const { port, ran } = await plainServer(hub);
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    // The stream's response waits behind /slow's; it is registered meanwhile.
    raw.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /events?user=q HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => hub.clients.size === 1, 'the queued stream to register');
    expect(ran).toEqual(['GET /slow']);
    raw.socket.destroy();
    await waitFor(() => hub.clients.size === 0, 'the queued stream to be unregistered', 1000);
    expect(hub.connectionCount('q')).toBe(0);
  });

  it('a full hub is not filled by streams without sockets', async () => {
    const hub = hubOf(scope, { maxClients: 5 });
    const { port } = await plainServer(hub);
    for (let i = 0; i < 5; i++) {
      const raw = RawSocket.open(scope, port);
      await raw.connected;
      raw.write('GET /events HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'.repeat(50));
      await sleep(20);
      raw.socket.destroy();
    }
    await waitFor(() => hub.clients.size === 0, 'every stream to be unregistered', 2000);
    // There is room again for a real client.
    const fresh = RawSocket.open(scope, port);
    fresh.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await fresh.head()).status).toBe(200);
  });
});

/** Request heads that make `createSseServer` hand a stream request to node:http. */
const HANDED_OVER_STREAM_REQUESTS: Array<[string, string]> = [
  ['Transfer-Encoding: chunked', 'GET /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['a duplicate Host', 'GET /events HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'],
  ['an absolute-form target', 'GET http://x/events HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['Expect: 100-continue', 'GET /events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n'],
  ['a leading CRLF', '\r\nGET /events HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['HTTP/1.0 keep-alive', 'GET /events HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'],
  ['a kept-alive /healthz first', 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /events HTTP/1.1\r\nHost: x\r\n\r\n'],
];

describe('nothing after a stream request runs on its connection', () => {
  it.each([
    ['in the same packet', false],
    ['in a later packet', true],
  ])('node:http: a POST pipelined behind GET /events %s never reaches the application', async (_when, later) => {
    const hub = hubOf(scope);
    const { port, ran } = await plainServer(hub);
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    const stream = 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n';
    if (later) {
      raw.write(stream);
      await waitFor(() => hub.clients.size === 1, 'the stream');
      raw.write(PUBLISH);
    } else raw.write(stream + PUBLISH);
    await raw.closedPromise();
    await sleep(50);
    expect(ran).toEqual([]);
    await waitFor(() => hub.clients.size === 0, 'the stream to end with its connection');
  });

  it('node:http: a POST pipelined while an asynchronous authenticate runs never reaches the application', async () => {
    const hub = hubOf(scope, {
      authenticate: async () => {
        await sleep(100);
        return { userId: 'slow' };
      },
    });
    const { port, ran } = await plainServer(hub);
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.write(`GET /events HTTP/1.1\r\nHost: x\r\n\r\n${PUBLISH}`);
    await raw.closedPromise();
    await sleep(200);
    expect(ran).toEqual([]);
    expect(hub.clients.size).toBe(0);
  });

  it('node:http: after a refused stream request the connection serves the next request', async () => {
    const hub = hubOf(scope, { authenticate: () => ({ refuse: 401, reason: 'no' }) });
    const { port, ran } = await plainServer(hub);
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.includes('"message":"no"'), 'the 401');
    raw.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.endsWith('ok'), 'the second answer');
    expect(raw.text).toMatch(/^HTTP\/1\.1 401 /);
    expect(ran).toEqual(['GET /healthz']);
  });

  it.each(HANDED_OVER_STREAM_REQUESTS)(
    'createSseServer: a POST behind a stream request with %s never reaches the fallback',
    async (_what, streamRequest) => {
      const hub = hubOf(scope);
      const routes = appRoutes(hub);
      const { port } = await sseServer(scope, hub, { fallback: routes.listener });
      const raw = RawSocket.open(scope, port);
      await raw.connected;
      raw.write(streamRequest + PUBLISH);
      await sleep(150);
      raw.write(PUBLISH);
      await sleep(150);
      expect(routes.ran.filter((route) => route.startsWith('POST'))).toEqual([]);
      raw.socket.destroy();
      await waitFor(() => hub.clients.size === 0, 'no stream left');
    },
  );

  it('createSseServer: a POST pipelined behind a stream it reads itself is dropped', async () => {
    const hub = hubOf(scope);
    const routes = appRoutes(hub);
    const { port } = await sseServer(scope, hub, { fallback: routes.listener });
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.write(`GET /events HTTP/1.1\r\nHost: x\r\n\r\n${PUBLISH}`);
    await waitFor(() => hub.clients.size === 1, 'the stream');
    raw.write(PUBLISH);
    await sleep(150);
    expect(routes.ran).toEqual([]);
    expect(hub.clients.size).toBe(1);
  });
});
