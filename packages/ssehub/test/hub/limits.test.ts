import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectReason } from '../../src/index.js';
import { connectedOf, request, Scope, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

describe('maxClients', () => {
  it('answers 503 with Retry-After and a JSON body once the hub is full', async () => {
    const { hub, url } = await scope.serve({ maxClients: 2 });
    await connectedOf(scope.client(`${url}/?user=a`));
    await connectedOf(scope.client(`${url}/?user=b`));
    const response = await request(`${url}/?user=c`);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 503, message: 'the hub is full' } });
    expect(hub.connectionCount()).toBe(2);
    expect(hub.counters).toMatchObject({ connections: 2, refused: 1 });
  });

  it('uses retryAfterSeconds and admits again once a place is free', async () => {
    const { hub, url } = await scope.serve({ maxClients: 1, retryAfterSeconds: 42 });
    const first = scope.client(`${url}/?id=first`);
    await connectedOf(first);
    const full = await request(`${url}/?id=second`);
    expect(full.status).toBe(503);
    expect(full.headers['retry-after']).toBe('42');
    first.close();
    await waitFor(() => hub.connectionCount() === 0, 'the first client to leave');
    expect(await connectedOf(scope.client(`${url}/?id=third`))).toEqual({ clientId: 'third', userId: null });
  });

  it('counts connections still in onConnect, so a burst cannot overshoot', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { hub, url } = await scope.serve({ maxClients: 2, onConnect: () => gate });
    const a = scope.raw(`${url}/?id=a`);
    const b = scope.raw(`${url}/?id=b`);
    await waitFor(() => a.status === 200 && b.status === 200, 'both streams to open');
    const refused = await request(`${url}/?id=c`);
    expect(refused.status).toBe(503);
    release();
    await a.connected();
    await b.connected();
    expect(hub.connectionCount()).toBe(2);
  });
});

describe('maxClientsPerUser', () => {
  it("answers 429 past the limit with perUserLimit 'refuse' (the default), other users unaffected", async () => {
    const { hub, url } = await scope.serve({ maxClientsPerUser: 2 });
    await connectedOf(scope.client(`${url}/?user=alice`));
    await connectedOf(scope.client(`${url}/?user=alice`));
    const response = await request(`${url}/?user=alice`);
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBeUndefined();
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'ERR_SSEHUB_REFUSED', status: 429, message: 'too many connections for this user' },
    });
    expect((await connectedOf(scope.client(`${url}/?user=bob`))).userId).toBe('bob');
    await connectedOf(scope.client(`${url}/`));
    await connectedOf(scope.client(`${url}/`));
    await connectedOf(scope.client(`${url}/`));
    expect(hub.connectionCount('alice')).toBe(2);
    expect(hub.connectionCount()).toBe(6);
    expect(hub.counters.refused).toBe(1);
  });

  it('counts connections of the user still in onConnect, so a burst cannot pass the limit', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { hub, url } = await scope.serve({ maxClientsPerUser: 1, onConnect: () => gate });
    const first = scope.raw(`${url}/?id=a&user=alice`);
    await waitFor(() => first.status === 200, 'the first stream to open');
    const second = scope.raw(`${url}/?id=b&user=alice`);
    await second.until(() => second.ended, 'the answer to the second');
    expect(second.status).toBe(429);
    const other = scope.raw(`${url}/?id=c&user=bob`);
    await waitFor(() => other.status === 200, 'another user to be admitted');
    release();
    await first.connected();
    await other.connected();
    expect(hub.connectionCount('alice')).toBe(1);
    // The place is given back once the setup is over: after the first leaves, alice fits again.
    hub.disconnect('a');
    await waitFor(() => hub.connectionCount('alice') === 0, 'the first to leave');
    const third = scope.raw(`${url}/?id=d&user=alice`);
    await third.connected();
    expect(hub.connectionCount('alice')).toBe(1);
  });

  it("with 'evict-oldest' connections set up concurrently still leave only the newest", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reasons: Array<[string, DisconnectReason]> = [];
    const { hub, url } = await scope.serve({
      maxClientsPerUser: 1,
      perUserLimit: 'evict-oldest',
      onConnect: () => gate,
      onDisconnect: (client, reason) => reasons.push([client.id, reason]),
    });
    const first = scope.raw(`${url}/?id=a&user=alice`);
    await waitFor(() => first.status === 200, 'the first stream to open');
    const second = scope.raw(`${url}/?id=b&user=alice`);
    await waitFor(() => second.status === 200, 'the second stream to open');
    release();
    await second.connected();
    await first.until(() => first.ended, 'the first stream to end');
    expect(first.dataOf('ssehub:evicted')).toEqual(['{"clientId":"a"}']);
    expect(reasons).toEqual([['a', 'evicted']]);
    expect([...(hub.users.get('alice') ?? [])].map((client) => client.id)).toEqual(['b']);
    expect(hub.connectionCount()).toBe(1);
  });

  it("with 'evict-oldest' the oldest connection gets ssehub:evicted and ends; the new one is admitted", async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const { hub, url } = await scope.serve<{ ping: string }>({
      maxClientsPerUser: 2,
      perUserLimit: 'evict-oldest',
      onDisconnect: (client, reason) => reasons.push([client.id, reason]),
    });
    const headId = hub.stats().history.headId;
    const oldest = scope.raw(`${url}/?id=old&user=alice&room=r`);
    await oldest.connected();
    const middle = scope.client(`${url}/?id=mid&user=alice`, ['ping', 'ssehub:evicted']);
    await connectedOf(middle);
    const newest = scope.client(`${url}/?id=new&user=alice`, ['ping', 'ssehub:evicted']);
    expect(await connectedOf(newest)).toEqual({ clientId: 'new', userId: 'alice' });

    await oldest.until(() => oldest.ended, 'the oldest stream to end');
    expect(oldest.text).toBe(
      `retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"old","userId":"alice"}\n\nevent: ssehub:evicted\ndata: {"clientId":"old"}\n\n`,
    );
    expect(reasons).toEqual([['old', 'evicted']]);
    expect(hub.connectionCount('alice')).toBe(2);
    expect([...(hub.users.get('alice') ?? [])].map((client) => client.id)).toEqual(['mid', 'new']);
    expect(hub.rooms.has('r')).toBe(false);
    expect(hub.counters).toMatchObject({ connections: 3, refused: 0 });

    await hub.toUser('alice').send('ping', 'both');
    await middle.waitFor('ping');
    await newest.waitFor('ping');
    expect(middle.of('ssehub:evicted')).toEqual([]);
    expect(newest.of('ssehub:evicted')).toEqual([]);
  });
});
