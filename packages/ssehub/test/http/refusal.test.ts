import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectRequest, type HubOptions, refuse } from '../../src/index.js';
import { completeOf, expectRecentDate, fromQuery, getHead, hubOf, RawSocket, Scope, sleep, sseServer, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

/** The exact JSON body of a refusal. */
const refusalBody = (status: number, message: string): string =>
  `{"error":{"code":"ERR_SSEHUB_REFUSED","status":${status},"message":${JSON.stringify(message)}}}`;

/** Opens a connection that does not end its side by itself, and sends a stream request. */
function requestStream(port: number, target = '/events'): RawSocket {
  const raw = RawSocket.open(scope, port, { allowHalfOpen: true });
  raw.write(getHead(target));
  return raw;
}

/** Waits for the server to end the connection; returns the one complete response it sent. */
async function refusalOf(raw: RawSocket) {
  await raw.until(() => raw.ended, 'the server to end the connection');
  return completeOf(raw.received);
}

async function expectRefused(options: HubOptions, status: string, extra: string[], body: string, connectFirst: string[] = []) {
  const hub = hubOf(scope, options);
  const { port, sockets } = await sseServer(scope, hub);
  for (const target of connectFirst) {
    const first = RawSocket.open(scope, port);
    first.write(getHead(target));
    await first.untilBody((text) => text.includes('event: connected'), 'a first client');
  }
  const raw = requestStream(port, '/events?user=u1');
  const { head, body: received } = await refusalOf(raw);
  expect(head.lines).toEqual([
    status,
    'content-type: application/json; charset=utf-8',
    ...extra,
    expect.stringMatching(/^date: /),
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ]);
  expectRecentDate(head.headers.date?.[0]);
  expect(received).toBe(body);
  expect(hub.counters.refused).toBe(1);
  expect(hub.connectionCount()).toBe(connectFirst.length);
  return { hub, port, raw, sockets: sockets.slice(connectFirst.length) };
}

describe('refusals on the fast path', () => {
  it('answers refuse(401, reason) with an exact JSON response and closes the connection', async () => {
    const { hub, raw, sockets } = await expectRefused(
      { authenticate: () => refuse(401, 'x') },
      'HTTP/1.1 401 Unauthorized',
      [],
      refusalBody(401, 'x'),
    );
    expect(hub.counters.connections).toBe(0);
    // The server closes the connection on its own: this side has not ended (allowHalfOpen).
    await waitFor(() => sockets[0]?.destroyed === true, 'the server to close its socket');
    expect(raw.socket.writableEnded).toBe(false);
    await sleep(20);
    expect(raw.received.toString('latin1').split('HTTP/1.1 ').length).toBe(2);
  });

  it('answers maxClients with 503 and retry-after', async () => {
    await expectRefused({ maxClients: 1 }, 'HTTP/1.1 503 Service Unavailable', ['retry-after: 5'], refusalBody(503, 'the hub is full'), [
      '/events?id=first',
    ]);
  });

  it('uses retryAfterSeconds for the retry-after of a full hub', async () => {
    await expectRefused(
      { maxClients: 1, retryAfterSeconds: 17 },
      'HTTP/1.1 503 Service Unavailable',
      ['retry-after: 17'],
      refusalBody(503, 'the hub is full'),
      ['/events?id=first'],
    );
  });

  it('answers maxClientsPerUser with 429', async () => {
    await expectRefused(
      { maxClientsPerUser: 1 },
      'HTTP/1.1 429 Too Many Requests',
      [],
      refusalBody(429, 'too many connections for this user'),
      ['/events?user=u1', '/events?user=u2'],
    );
  });

  it('answers a connection to a closed hub with 503', async () => {
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub);
    await hub.close();
    const { head, body } = await refusalOf(requestStream(port));
    expect(head.lines[0]).toBe('HTTP/1.1 503 Service Unavailable');
    expect(head.headers['retry-after']).toEqual(['5']);
    expect(body).toBe(refusalBody(503, 'the hub is shutting down'));
  });

  it('waits for an async authenticate: a stream when it admits, a refusal when it refuses', async () => {
    const hub = hubOf(scope, {
      authenticate: async (request: ConnectRequest) => {
        await sleep(20);
        if (request.query.get('token') !== 'good') return refuse(403);
        return fromQuery<Record<string, unknown>>(request);
      },
    });
    const { port } = await sseServer(scope, hub);
    const admitted = RawSocket.open(scope, port);
    admitted.write(getHead('/events?token=good&id=ok&user=u'));
    const refused = requestStream(port, '/events?token=bad');
    await admitted.untilBody((text) => text.includes('data: {"clientId":"ok","userId":"u"}'), 'the admitted stream');
    expect((await admitted.head()).status).toBe(200);
    const { head, body } = await refusalOf(refused);
    expect(head.lines[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(body).toBe(refusalBody(403, 'forbidden'));
    expect(hub.connectionCount()).toBe(1);
    expect(hub.counters).toMatchObject({ connections: 1, refused: 1 });
  });

  it('answers 500 when authenticate throws, and reports the error to onError', async () => {
    const errors: unknown[] = [];
    const boom = new Error('database down');
    const { hub } = await expectRefused(
      {
        authenticate: () => {
          throw boom;
        },
        onError: (error) => errors.push(error),
      },
      'HTTP/1.1 500 Internal Server Error',
      [],
      refusalBody(500, 'authentication failed'),
    );
    expect(errors).toEqual([boom]);
    expect(hub.connectionCount()).toBe(0);
  });

  it('answers 500 when an async authenticate rejects', async () => {
    const errors: unknown[] = [];
    const boom = new Error('token service down');
    await expectRefused(
      { authenticate: () => Promise.reject(boom), onError: (error) => errors.push(error) },
      'HTTP/1.1 500 Internal Server Error',
      [],
      refusalBody(500, 'authentication failed'),
    );
    expect(errors).toEqual([boom]);
  });
});

describe('clients that reset their connection', () => {
  it('while an async authenticate is pending: the server survives and the place is given back', async () => {
    let release: (() => void) | undefined;
    const hub = hubOf(scope, {
      maxClients: 1,
      authenticate: async (request: ConnectRequest) => {
        if (request.query.get('wait') !== null) await new Promise<void>((resolve) => (release = resolve));
        return fromQuery<Record<string, unknown>>(request);
      },
    });
    const { port, sockets } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?wait=1&id=gone'));
    await waitFor(() => release !== undefined, 'authenticate to be called');
    raw.socket.resetAndDestroy();
    await waitFor(() => sockets[0]?.destroyed === true, 'the server to see the reset');
    release?.();
    await sleep(20);
    expect(hub.getClient('gone')).toBeUndefined();
    expect(hub.connectionCount()).toBe(0);
    // The place reserved for the gone client is free again.
    const next = RawSocket.open(scope, port);
    next.write(getHead('/events?id=next'));
    await next.untilBody((text) => text.includes('"clientId":"next"'), 'the next client');
  });
});

describe('answers that cannot be written', () => {
  it.each([
    ['sync', false],
    ['async', true],
  ])('a refusal with a header node:http would refuse (%s authenticate): onError, and 500 instead', async (_what, async) => {
    const errors: unknown[] = [];
    const answer = refuse(401, 'x', { headers: { 'bad name': 'v' } });
    const hub = hubOf(scope, {
      authenticate: (request) =>
        request.query.get('ok') !== null ? fromQuery<Record<string, unknown>>(request) : async ? Promise.resolve(answer) : answer,
      onError: (error) => errors.push(error),
    });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events'));
    await raw.closedPromise();
    const { head, body } = completeOf(raw.received);
    expect(head.lines[0]).toBe('HTTP/1.1 500 Internal Server Error');
    expect(JSON.parse(body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 500, message: 'the refusal could not be answered' } });
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_INVALID_HTTP_TOKEN' })]);
    const next = RawSocket.open(scope, port);
    next.write(getHead('/events?ok=1&id=next'));
    await next.untilBody((text) => text.includes('"clientId":"next"'), 'the next client');
  });
});
