import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from '../hub/helpers.js';
import { hubOf, RawSocket, Scope, type SseTestServer, sleep, sseServer } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

/** A request as the fallback saw it. */
interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  remotePort: number | undefined;
}

/** A fallback request listener that records every request and echoes it as JSON. */
function recordingFallback() {
  const seen: Seen[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        httpVersion: req.httpVersion,
        headers: req.headers,
        body,
        remotePort: req.socket.remotePort,
      });
      const answer = JSON.stringify({ method: req.method, url: req.url, bytes: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  };
  return { seen, listener };
}

async function withFallback(): Promise<{ server: SseTestServer; seen: Seen[] }> {
  const hub = hubOf(scope);
  const { seen, listener } = recordingFallback();
  const server = await sseServer(scope, hub, { fallback: listener });
  return { server, seen };
}

/** Sends a raw request and reads node:http's whole answer (the server closes after it). */
async function rawExchange(port: number, text: string | Buffer): Promise<RawSocket> {
  const raw = RawSocket.open(scope, port);
  raw.write(text);
  await raw.closedPromise();
  return raw;
}

/** Posts `body` over a fresh connection with http.request. */
function post(url: string, body: Buffer | string, path = '/events'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('requests handed to a fallback request listener', () => {
  it('serves GET on another path', async () => {
    const { server, seen } = await withFallback();
    const response = await request(`${server.url}/other?x=1`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ method: 'GET', url: '/other?x=1', bytes: 0 });
    expect(seen.map((s) => [s.method, s.url, s.httpVersion])).toEqual([['GET', '/other?x=1', '1.1']]);
  });

  it('serves POST on the stream path with its body intact, small or large', async () => {
    const { server, seen } = await withFallback();
    const large = Buffer.alloc(256 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = (i * 31) % 256;
    expect(await post(server.url, 'a=1&b=2')).toEqual({ status: 200, body: '{"method":"POST","url":"/events","bytes":7}' });
    expect(await post(server.url, large)).toEqual({ status: 200, body: `{"method":"POST","url":"/events","bytes":${large.length}}` });
    expect(seen.map((s) => s.body.length)).toEqual([7, large.length]);
    expect(seen[0]?.body).toBe('a=1&b=2');
    expect(Buffer.from(seen[1]?.body ?? '', 'latin1').equals(large)).toBe(true);
  });

  it('passes the bytes of a body that arrived with the head, and the rest later', async () => {
    const { server, seen } = await withFallback();
    const raw = RawSocket.open(scope, server.port);
    raw.write('POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello');
    await sleep(30);
    raw.write(' world');
    await raw.closedPromise();
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(seen.map((s) => [s.method, s.body])).toEqual([['POST', 'hello world']]);
  });

  it('serves HEAD on the stream path (node:http sends no body)', async () => {
    const { server, seen } = await withFallback();
    const response = await request(`${server.url}/events`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    expect(seen.map((s) => [s.method, s.url])).toEqual([['HEAD', '/events']]);
  });

  it('serves an HTTP/1.0 GET on the stream path through node:http, not the fallback', async () => {
    const { server, seen } = await withFallback();
    const raw = RawSocket.open(scope, server.port);
    raw.write('GET /events HTTP/1.0\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.includes('event: connected'), 'the connected event');
    // node:http's own answer to HTTP/1.0: no chunked framing, the body ends with the connection.
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw.text.toLowerCase()).toContain('content-type: text/event-stream; charset=utf-8\r\n');
    expect(raw.text.toLowerCase()).not.toContain('transfer-encoding');
    expect(seen).toEqual([]);
  });

  it.each([
    ['a GET with a body (content-length)', 'GET /events HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'],
    ['a GET with a chunked body', 'GET /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    ['a GET with expect', 'GET /events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n'],
    ['a GET with a repeated Host', 'GET /events HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'],
  ])('hands %s to node:http, where the hub serves the stream (not the fallback)', async (_what, text) => {
    const { server, seen } = await withFallback();
    const raw = RawSocket.open(scope, server.port);
    raw.write(text);
    await raw.until(() => raw.text.includes('event: connected'), 'the connected event');
    expect(raw.text).toMatch(/^HTTP\/1\.1 (100 Continue\r\n\r\nHTTP\/1\.1 )?200 OK\r\n/);
    // node:http's head (capitalised Date, keep-alive), not the fast path's (connection: close).
    expect(raw.text).toContain('connection: keep-alive\r\nDate: ');
    expect(seen).toEqual([]);
  });

  it('hands a GET on a sub-path to the fallback', async () => {
    const { server, seen } = await withFallback();
    const raw = await rawExchange(server.port, 'GET /events/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(seen.map((entry) => [entry.method, entry.url])).toEqual([['GET', '/events/x']]);
  });

  it('serves a GET for the stream on a connection kept alive after a fallback request', async () => {
    const { server, seen } = await withFallback();
    const raw = RawSocket.open(scope, server.port);
    raw.write('GET /page HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => seen.length === 1 && raw.text.includes('"url":"/page"'), 'the page');
    raw.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.includes('event: connected'), 'the connected event');
    expect(seen.map((entry) => entry.url)).toEqual(['/page']);
  });

  it('carries several requests on one kept-alive connection', async () => {
    const { server, seen } = await withFallback();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    scope.defer(() => agent.destroy());
    const get = (path: string, method = 'GET') =>
      new Promise<string>((resolve, reject) => {
        const req = http.request(`${server.url}${path}`, { agent, method }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(method === 'POST' ? 'xyz' : undefined);
      });
    expect(await get('/one')).toBe('{"method":"GET","url":"/one","bytes":0}');
    expect(await get('/events', 'POST')).toBe('{"method":"POST","url":"/events","bytes":3}');
    expect(await get('/three')).toBe('{"method":"GET","url":"/three","bytes":0}');
    expect(seen.map((s) => s.url)).toEqual(['/one', '/events', '/three']);
    expect(new Set(seen.map((s) => s.remotePort)).size).toBe(1);
    expect(server.sockets).toHaveLength(1);
  });

  it('reads a head split across several TCP writes with pauses', async () => {
    const { server, seen } = await withFallback();
    const raw = RawSocket.open(scope, server.port);
    await raw.connected;
    raw.socket.setNoDelay(true);
    for (const piece of [
      'PO',
      'ST /events HT',
      'TP/1.1\r\nHost: x\r\nContent-Le',
      'ngth: 4\r\nConnection: close\r',
      '\n\r\n',
      'bo',
      'dy',
    ]) {
      raw.write(piece);
      await sleep(15);
    }
    await raw.closedPromise();
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([['POST', '/events', 'body']]);
  });

  it('works with an http.Server as the fallback, for requests and upgrades', async () => {
    const hub = hubOf(scope);
    const { seen, listener } = recordingFallback();
    const fallback = http.createServer(listener);
    const upgrades: string[] = [];
    fallback.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
      upgrades.push(`${req.method} ${req.url} ${req.headers.upgrade} ${head.toString('latin1')}`);
      socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nswitched');
    });
    const server = await sseServer(scope, hub, { fallback });
    const response = await request(`${server.url}/api`);
    expect(response.status).toBe(200);
    expect(seen.map((s) => s.url)).toEqual(['/api']);

    const raw = await rawExchange(server.port, 'GET /events HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly');
    expect(raw.text).toBe('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nswitched');
    expect(upgrades).toEqual(['GET /events echo early']);
    expect(hub.counters.connections).toBe(0);
  });
});

describe('heads node:http refuses', () => {
  async function expect400(text: string | Buffer) {
    const { server, seen } = await withFallback();
    const raw = await rawExchange(server.port, text);
    expect(raw.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(raw.text).toMatch(/\r\nConnection: close\r\n/);
    expect(seen).toEqual([]);
  }

  it('answers a head with bare LF line endings with 400, at once', async () => {
    const started = Date.now();
    await expect400('GET /events HTTP/1.1\nHost: x\n\n');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('answers a head ending in CRLF LF with 400', () => expect400('GET /events HTTP/1.1\r\nHost: x\r\n\n'));

  it('answers a header holding a NUL with 400', () => expect400('GET /events HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n'));

  it('answers an obs-fold with 400', () => expect400('GET /events HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'));

  it('answers a GET without Host with 400', () => expect400('GET /events HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n'));

  it('answers a request line that is not HTTP with 400', () => expect400('HELLO\r\n\r\n'));

  it.each([
    ['in one write', 1],
    ['in pieces', 8],
  ])('answers a 20 KiB header with 431 (%s)', async (_what, pieces) => {
    const { server, seen } = await withFallback();
    const text = `GET /events HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n`;
    const raw = RawSocket.open(scope, server.port);
    const size = Math.ceil(text.length / pieces);
    for (let at = 0; at < text.length; at += size) {
      raw.write(text.slice(at, at + size));
      if (pieces > 1) await sleep(5);
    }
    await raw.closedPromise();
    expect(raw.text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(seen).toEqual([]);
  });
});

describe('without a fallback', () => {
  it('answers 404 with a JSON body on other paths', async () => {
    const { url } = await sseServer(scope, hubOf(scope));
    for (const path of ['/other', '/', '/events/x', '/eventsx?y']) {
      const response = await request(`${url}${path}`);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers.allow).toBeUndefined();
      expect(response.body).toBe('{"error":{"code":"not_found","message":"not found"}}');
    }
  });

  it('answers 405 with allow: GET and a JSON body to other methods on the stream path', async () => {
    const { url } = await sseServer(scope, hubOf(scope));
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await request(`${url}/events?x=1`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET');
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.body).toBe('{"error":{"code":"method_not_allowed","message":"use GET to open an event stream"}}');
    }
  });
});
