import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionRefusedError, type ConnectRequest, refuse } from '../../src/index.js';
import { connectedOf, fromQuery, request, Scope } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const scope = new Scope();
afterEach(() => scope.dispose());

describe('the connected event', () => {
  it('is the first event, after a retry hint, and carries {clientId, userId}', async () => {
    const { hub, url } = await scope.serve();
    // A fresh connection (no Last-Event-ID) starts at the head: nothing published yet, seq 0.
    const headId = hub.stats().history.headId;
    expect(headId).toMatch(/^[A-Za-z0-9]{1,32}-0$/);
    const stream = scope.raw(`${url}/events?user=ada`);
    const { clientId } = await stream.connected();
    expect(clientId).toMatch(UUID);
    expect(stream.status).toBe(200);
    expect(stream.headers?.['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers?.['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers?.['x-accel-buffering']).toBe('no');
    expect(stream.headers?.connection).toBe('keep-alive');
    expect(stream.text).toBe(`retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"${clientId}","userId":"ada"}\n\n`);
    expect(hub.getClient(clientId)?.userId).toBe('ada');
  });

  it('has userId null for an anonymous connection and reaches an eventsource client', async () => {
    const { hub, url } = await scope.serve();
    const headId = hub.stats().history.headId;
    const client = scope.client(`${url}/events`);
    const connected = await connectedOf(client);
    expect(connected).toEqual({ clientId: expect.stringMatching(UUID), userId: null });
    expect(client.events).toHaveLength(1);
    // The connected event's id becomes the client's Last-Event-ID.
    expect(client.events[0]?.lastEventId).toBe(headId);
  });

  it('of a fresh connection carries the id of the newest event published before it', async () => {
    const { hub, url } = await scope.serve<{ tick: number }>();
    await hub.toAll().send('tick', 1);
    const newest = await hub.toAll().send('tick', 2, { history: false });
    expect(hub.stats().history.headId).toBe(newest);
    const stream = scope.raw(`${url}/?user=u`);
    const { clientId } = await stream.connected();
    expect(stream.text).toBe(`retry: 2000\n\nid: ${newest}\nevent: connected\ndata: {"clientId":"${clientId}","userId":"u"}\n\n`);
  });

  it('uses the client id from authenticate, or from generateClientId', async () => {
    let n = 0;
    const { url } = await scope.serve({ generateClientId: () => `gen-${++n}` });
    expect(await connectedOf(scope.client(`${url}/?id=tab-7`))).toEqual({ clientId: 'tab-7', userId: null });
    expect(await connectedOf(scope.client(`${url}/?user=u`))).toEqual({ clientId: 'gen-1', userId: 'u' });
  });

  it('can be renamed', async () => {
    const { hub, url } = await scope.serve({ connectedEvent: 'hello' });
    const headId = hub.stats().history.headId;
    const stream = scope.raw(`${url}/?user=u`);
    await stream.until(() => stream.dataOf('hello').length === 1, 'the hello event');
    const { clientId } = JSON.parse(stream.dataOf('hello')[0] as string) as { clientId: string };
    expect(stream.text).toBe(`retry: 2000\n\nid: ${headId}\nevent: hello\ndata: {"clientId":"${clientId}","userId":"u"}\n\n`);
  });

  it('can be turned off, as can the retry hint', async () => {
    const { hub, url } = await scope.serve<{ first: string }>({ connectedEvent: false, retryMs: false });
    const stream = scope.raw(`${url}/`);
    await stream.until(() => hub.connectionCount() === 1, 'the registration');
    const id = await hub.toAll().send('first', 'x');
    await stream.until(() => stream.text.includes('data: x'), 'the first event');
    expect(stream.text).toBe(`id: ${id}\nevent: first\ndata: x\n\n`);
  });

  it('sends the configured retry hint', async () => {
    const { hub, url } = await scope.serve({ retryMs: 12_345 });
    const headId = hub.stats().history.headId;
    const stream = scope.raw(`${url}/`);
    await stream.connected();
    expect(stream.text.startsWith(`retry: 12345\n\nid: ${headId}\nevent: connected\n`)).toBe(true);
  });

  it('adds the configured extra headers to the stream', async () => {
    const { url } = await scope.serve({ headers: { 'access-control-allow-origin': '*' } });
    const stream = scope.raw(`${url}/`);
    await stream.connected();
    expect(stream.headers?.['access-control-allow-origin']).toBe('*');
    expect(stream.headers?.['content-type']).toBe('text/event-stream; charset=utf-8');
  });

  it('rejects a connected event name that would break the stream', async () => {
    await expect(scope.serve({ connectedEvent: 'a\nb' })).rejects.toMatchObject({ code: 'ERR_SSEHUB_INVALID_FIELD' });
  });
});

describe('authenticate', () => {
  it('sees method, URL, headers and the raw request', async () => {
    const seen: Array<{ method: string; path: string; auth: string | undefined; custom: string | undefined; raw: boolean }> = [];
    const { url } = await scope.serve({
      authenticate: (req: ConnectRequest) => {
        seen.push({
          method: req.method,
          path: `${req.url.pathname}${req.url.search}`,
          auth: req.header('Authorization'),
          custom: req.header('x-custom'),
          raw: req.raw !== undefined,
        });
        return {};
      },
    });
    const stream = scope.raw(`${url}/events?token=t1`, { authorization: 'Bearer abc', 'x-custom': 'yes' });
    await stream.connected();
    expect(seen).toEqual([{ method: 'GET', path: '/events?token=t1', auth: 'Bearer abc', custom: 'yes', raw: true }]);
  });

  it('reads the query string without a URL parse, decoded as url.searchParams decodes it', async () => {
    const seen: Array<{ user: string | null; rooms: string[]; same: boolean }> = [];
    const { url } = await scope.serve({
      authenticate: (req: ConnectRequest) => {
        seen.push({
          user: req.query.get('user'),
          rooms: req.query.getAll('room'),
          same: req.query.toString() === req.url.searchParams.toString(),
        });
        return {};
      },
    });
    await scope.raw(`${url}/events?user=ada+lovelace&room=a%26b&room=%C3%A9t%C3%A9`).connected();
    await scope.raw(`${url}/events`).connected();
    expect(seen).toEqual([
      { user: 'ada lovelace', rooms: ['a&b', 'été'], same: true },
      { user: null, rooms: [], same: true },
    ]);
  });

  it('reads the query string of a Web request', async () => {
    let user: string | null = null;
    const { hub } = await scope.serve({
      authenticate: (req: ConnectRequest) => {
        user = req.query.get('user');
        return {};
      },
    });
    const response = await hub.fetch(new Request('http://x/events?user=w%20eb'));
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(user).toBe('w eb');
  });

  it('refuse(401, reason) answers 401 with the reason in a JSON body', async () => {
    const { hub, url } = await scope.serve({ authenticate: () => refuse(401, 'token expired') });
    const response = await request(`${url}/events`);
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['retry-after']).toBeUndefined();
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 401, message: 'token expired' } });
    expect(hub.counters.refused).toBe(1);
    expect(hub.counters.connections).toBe(0);
    expect(hub.connectionCount()).toBe(0);
  });

  it('refuse(403) answers 403 with the default reason', async () => {
    const { url } = await scope.serve({ authenticate: async () => refuse(403) });
    const response = await request(`${url}/events`);
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 403, message: 'forbidden' } });
  });

  it('refuse(401) without a reason says authentication required', async () => {
    const { url } = await scope.serve({ authenticate: () => refuse(401) });
    const response = await request(`${url}/`);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 401, message: 'authentication required' } });
  });

  it('throwing ConnectionRefusedError answers with its status, reason and Retry-After', async () => {
    const errors: unknown[] = [];
    const { hub, url } = await scope.serve({
      authenticate: async () => {
        throw new ConnectionRefusedError(418, 'no coffee here', 9);
      },
      onError: (error) => errors.push(error),
    });
    const response = await request(`${url}/`);
    expect(response.status).toBe(418);
    expect(response.headers['retry-after']).toBe('9');
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 418, message: 'no coffee here' } });
    expect(errors).toEqual([]);
    expect(hub.counters.refused).toBe(1);
  });

  it('throwing another error answers 500 and reports it to onError', async () => {
    const boom = new Error('database down');
    const errors: Array<[unknown, unknown]> = [];
    const { hub, url } = await scope.serve({
      authenticate: () => {
        throw boom;
      },
      onError: (error, client) => errors.push([error, client]),
    });
    const response = await request(`${url}/`);
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 500, message: 'authentication failed' } });
    expect(errors).toEqual([[boom, undefined]]);
    expect(hub.counters.refused).toBe(1);
    expect(hub.connectionCount()).toBe(0);
  });

  it('a rejected promise is handled like a thrown error', async () => {
    const errors: unknown[] = [];
    const { url } = await scope.serve({
      authenticate: () => Promise.reject(new Error('async failure')),
      onError: (error) => errors.push(error),
    });
    expect((await request(`${url}/`)).status).toBe(500);
    expect(errors).toEqual([new Error('async failure')]);
  });

  it('an async authenticate may admit with a user and rooms', async () => {
    const { hub, url } = await scope.serve({
      authenticate: async (req) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        return { userId: req.url.searchParams.get('user') ?? 'none', rooms: ['a', 'b'] };
      },
    });
    const { clientId } = await connectedOf(scope.client(`${url}/?user=zed`));
    expect([...(hub.getClient(clientId)?.rooms ?? [])]).toEqual(['a', 'b']);
    expect(hub.getClient(clientId)?.userId).toBe('zed');
  });
});

describe('request methods', () => {
  it.each(['POST', 'PUT', 'DELETE'])('%s answers 405 with Allow: GET', async (method) => {
    let authenticated = 0;
    const { hub, url } = await scope.serve({
      authenticate: () => {
        authenticated++;
        return {};
      },
    });
    const response = await request(`${url}/events`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET');
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'ERR_SSEHUB_REFUSED', status: 405, message: 'use GET to open an event stream' },
    });
    expect(authenticated).toBe(0);
    expect(hub.connectionCount()).toBe(0);
  });
});

describe('typed metadata', () => {
  type Meta = { role: 'admin' | 'member'; visits: number };

  it('comes from authenticate and is read and written with get/set', async () => {
    const seenInConnect: Array<Meta['role']> = [];
    const { hub, url } = await scope.serve<Record<string, unknown>, Meta>({
      authenticate: (req) => ({
        ...fromQuery<Meta>(req),
        metadata: { role: req.url.searchParams.get('role') === 'admin' ? 'admin' : 'member', visits: 1 },
      }),
      onConnect: (client) => {
        seenInConnect.push(client.get('role'));
      },
    });
    const admin = await connectedOf(scope.client(`${url}/?role=admin`));
    const member = await connectedOf(scope.client(`${url}/?role=x`));
    expect(seenInConnect).toEqual(['admin', 'member']);
    const client = hub.getClient(admin.clientId);
    expect(client?.metadata).toEqual({ role: 'admin', visits: 1 });
    expect(client?.set('visits', 2).set('role', 'member')).toBe(client);
    expect(client?.get('visits')).toBe(2);
    expect(hub.getClient(admin.clientId)?.metadata).toEqual({ role: 'member', visits: 2 });
    expect(hub.getClient(member.clientId)?.metadata).toEqual({ role: 'member', visits: 1 });
  });

  it('is an empty object when authenticate gives none', async () => {
    const { hub, url } = await scope.serve();
    const { clientId } = await connectedOf(scope.client(`${url}/`));
    expect(hub.getClient(clientId)?.metadata).toEqual({});
  });
});
