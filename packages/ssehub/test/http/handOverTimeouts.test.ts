/**
 * Connections `createSseServer` hands to node:http get the time limits node:http would have
 * set had it accepted them itself: a bounded time for every request head (the first and each
 * one after it on a kept-alive connection) and for every request body. Tried with raw sockets,
 * the way a slow-loris attacker holds sockets open.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { completeOf, hubOf, RawSocket, Scope, sleep, sseServer } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

const REQUEST_TIMEOUT_BODY = '{"error":{"code":"request_timeout","message":"the request body took too long"}}';
const HEAD_TIMEOUT_BODY = '{"error":{"code":"request_timeout","message":"the request head took too long"}}';

/** A fallback that answers GET /ok at once, reads POST bodies whole, and never answers /hang. */
function fallback(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/hang') return;
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = `got ${Buffer.concat(chunks).length}`;
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
}

async function server(limits: { headersTimeoutMs: number; requestTimeoutMs: number }) {
  const hub = hubOf(scope);
  return sseServer(scope, hub, { fallback, ...limits });
}

describe('connections handed to node:http', () => {
  it('answer 408 to a second head that trickles in after a kept-alive first request', async () => {
    const { port } = await server({ headersTimeoutMs: 300, requestTimeoutMs: 5000 });
    const raw = RawSocket.open(scope, port, { allowHalfOpen: true });
    await raw.connected;
    raw.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.endsWith('got 0'), 'the first answer');
    const answeredAt = Date.now();
    const head = 'GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    for (let at = 0; !raw.ended && at < 60; at++) {
      raw.write(head[at % head.length] as string);
      await sleep(20);
    }
    await raw.until(() => raw.ended, 'the server to end the connection', 2000);
    const elapsed = Date.now() - answeredAt;
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1200);
    const second = raw.received.subarray(raw.received.indexOf('got 0') + 5);
    const { head: answer, body } = completeOf(second);
    expect(answer.status).toBe(408);
    expect(body).toBe(HEAD_TIMEOUT_BODY);
  });

  it('answer 408 to a request body that trickles in past the request timeout', async () => {
    const { port } = await server({ headersTimeoutMs: 5000, requestTimeoutMs: 400 });
    const raw = RawSocket.open(scope, port, { allowHalfOpen: true });
    await raw.connected;
    const started = Date.now();
    raw.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    for (let sent = 0; !raw.ended && sent < 100; sent++) {
      raw.write('x');
      await sleep(20);
    }
    await raw.until(() => raw.ended, 'the server to end the connection', 2000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(1500);
    const { head, body } = completeOf(raw.received);
    expect(head.status).toBe(408);
    expect(head.headers.connection).toEqual(['close']);
    expect(body).toBe(REQUEST_TIMEOUT_BODY);
  });

  it('cut a connection whose body never ends after its answer was sent (a body node:http would drain forever)', async () => {
    const { port } = await server({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    const started = Date.now();
    // Chunked, never terminated: node:http reads it forever after the app has answered.
    raw.write('POST /hang HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n');
    const trickle = setInterval(() => raw.socket.writable && raw.write('1\r\nx\r\n'), 50);
    scope.defer(() => clearInterval(trickle));
    await raw.until(() => raw.closed, 'the connection to close', 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('leave an idle kept-alive connection to node:http (its keep-alive timeout), until a head begins', async () => {
    const { port } = await server({ headersTimeoutMs: 150, requestTimeoutMs: 5000 });
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.endsWith('got 0'), 'the first answer');
    await sleep(500);
    expect(raw.closed).toBe(false);
    raw.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.endsWith('got 0got 0') || raw.text.split('got 0').length === 3, 'the second answer');
  });

  it('leave alone a request whose answer takes longer than the head timeout', async () => {
    const hub = hubOf(scope);
    const slow = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
      setTimeout(() => res.writeHead(200, { 'content-length': '4' }).end('done'), 700);
    };
    const { port } = await sseServer(scope, hub, { fallback: slow, headersTimeoutMs: 200, requestTimeoutMs: 300 });
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(() => raw.text.endsWith('done'), 'the slow answer', 2000);
    expect(raw.text).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('leave alone an upgraded connection', async () => {
    const hub = hubOf(scope);
    const upgradeServer = http.createServer((_req, res) => res.end('plain'));
    upgradeServer.on('upgrade', (_req, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
    });
    const { port } = await sseServer(scope, hub, { fallback: upgradeServer, headersTimeoutMs: 150, requestTimeoutMs: 150 });
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    await raw.until(() => raw.text.includes('101 Switching'), 'the upgrade');
    await sleep(500);
    raw.write('still here');
    await raw.until(() => raw.text.endsWith('still here'), 'the echo');
    expect(raw.closed).toBe(false);
  });
});
