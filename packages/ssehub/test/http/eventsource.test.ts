import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientInit, ConnectRequest, DisconnectReason, SocketRequest } from '../../src/index.js';
import { connectedOf } from '../hub/helpers.js';
import { hubOf, Scope, sseServer, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

/** Who a connection is, from `request.query`: `user`, `id`, `room` (repeatable). */
function fromQuery(request: ConnectRequest): ClientInit<Record<string, unknown>> {
  const query = request.query;
  const user = query.get('user');
  const id = query.get('id');
  return { ...(user === null ? {} : { userId: user }), ...(id === null ? {} : { clientId: id }), rooms: query.getAll('room') };
}

describe('createSseServer with a real eventsource client', () => {
  it('serves the connected event with the clientId and userId authenticate read from request.query', async () => {
    const seen: ConnectRequest[] = [];
    const hub = hubOf(scope, {
      authenticate: (request) => {
        seen.push(request);
        return fromQuery(request);
      },
    });
    const { url, port } = await sseServer(scope, hub);
    const headId = hub.stats().history.headId;
    const client = scope.client(`${url}/events?user=ada&id=tab-1&room=lobby`);
    expect(await connectedOf(client)).toEqual({ clientId: 'tab-1', userId: 'ada' });
    expect(client.events).toEqual([{ type: 'connected', data: '{"clientId":"tab-1","userId":"ada"}', lastEventId: headId }]);
    expect(hub.getClient('tab-1')?.userId).toBe('ada');
    expect(hub.roomSize('lobby')).toBe(1);

    expect(seen).toHaveLength(1);
    const request = seen[0] as ConnectRequest;
    expect(request.method).toBe('GET');
    expect(request.query).toBeInstanceOf(URLSearchParams);
    expect(request.url.pathname).toBe('/events');
    expect(request.header('Accept')).toBe('text/event-stream');
    const raw = request.raw as SocketRequest;
    expect(Object.keys(raw).sort()).toEqual(['headers', 'method', 'socket', 'url']);
    expect(raw.method).toBe('GET');
    expect(raw.url).toBe('/events?user=ada&id=tab-1&room=lobby');
    expect(raw.headers.host).toBe(`127.0.0.1:${port}`);
    expect(raw.headers.accept).toBe('text/event-stream');
    expect(Object.keys(raw.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(raw.socket).toBeInstanceOf(net.Socket);
    expect(raw.socket.remotePort).toBeGreaterThan(0);
  });

  it('delivers broadcast, toRoom and toUser events to exactly their audience, with their ids, in order', async () => {
    const hub = hubOf(scope, { authenticate: fromQuery });
    const { url } = await sseServer(scope, hub);
    const a = scope.client(`${url}/events?id=a&user=u1&room=r1`, ['chat']);
    const b = scope.client(`${url}/events?id=b&user=u2&room=r1`, ['chat']);
    const c = scope.client(`${url}/events?id=c&user=u1`, ['chat']);
    const d = scope.client(`${url}/events?id=d`, ['chat']);
    await Promise.all([a, b, c, d].map((client) => connectedOf(client)));

    const ids = {
      all1: await hub.broadcast('chat', { n: 'all-1' }),
      room: await hub.toRoom('r1').send('chat', { n: 'room-r1' }),
      user1: await hub.toUser('u1').send('chat', { n: 'user-u1' }),
      user2: await hub.toUser('u2').send('chat', 'user-u2 as text'),
      nobody: await hub.toRoom('empty').send('chat', { n: 'nobody' }),
      mixed: await hub.toRoom('r1').toUser('u1').send('chat', { n: 'r1-or-u1' }),
      all2: await hub.broadcast('chat', { n: 'all-2' }),
    };
    const event = (id: string, data: string) => ({ type: 'chat', data, lastEventId: id });
    const all1 = event(ids.all1, '{"n":"all-1"}');
    const room = event(ids.room, '{"n":"room-r1"}');
    const user1 = event(ids.user1, '{"n":"user-u1"}');
    const user2 = event(ids.user2, 'user-u2 as text');
    const mixed = event(ids.mixed, '{"n":"r1-or-u1"}');
    const all2 = event(ids.all2, '{"n":"all-2"}');
    const expected = new Map([
      [a, [all1, room, user1, mixed, all2]],
      [b, [all1, room, user2, mixed, all2]],
      [c, [all1, user1, mixed, all2]],
      [d, [all1, all2]],
    ]);
    for (const [client, events] of expected) await client.waitFor('chat', events.length);
    // A little longer: nothing more may arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const [client, events] of expected) expect(client.of('chat')).toEqual(events);
    expect(hub.counters.published).toBe(7);
    expect(hub.counters.delivered).toBe(5 + 5 + 4 + 2);
  });

  it('delivers many events in one burst to several clients, each once and in order', async () => {
    const hub = hubOf(scope);
    const { url } = await sseServer(scope, hub);
    const clients = [1, 2, 3].map((n) => scope.client(`${url}/events?id=c${n}`, ['tick']));
    await Promise.all(clients.map((client) => connectedOf(client)));
    const sends: Promise<string>[] = [];
    for (let i = 0; i < 300; i++) sends.push(hub.broadcast('tick', `${i}:${'é'.repeat(i % 50)}`));
    const ids = await Promise.all(sends);
    for (const client of clients) {
      await client.waitFor('tick', 300);
      expect(client.of('tick')).toEqual(ids.map((id, i) => ({ type: 'tick', data: `${i}:${'é'.repeat(i % 50)}`, lastEventId: id })));
    }
  });

  it('resumes after the server drops the client: the client reconnects with Last-Event-ID and gets exactly what it missed', async () => {
    const lastEventIds: Array<string | undefined> = [];
    const reasons: DisconnectReason[] = [];
    const hub = hubOf(scope, {
      retryMs: 50,
      authenticate: (request) => {
        lastEventIds.push((request.raw as SocketRequest).headers['last-event-id']);
        return fromQuery(request);
      },
      onDisconnect: (_client, reason) => reasons.push(reason),
    });
    const { url } = await sseServer(scope, hub);
    const headId = hub.stats().history.headId;
    const client = scope.client(`${url}/events?id=tab&user=u1&room=r1`, ['chat']);
    await connectedOf(client);
    const sent: Array<[string, string]> = [];
    for (const n of [1, 2]) sent.push([await hub.broadcast('chat', `live-${n}`), `live-${n}`]);
    await client.waitFor('chat', 2);

    hub.disconnect('tab');
    // Published while the client is away: only what is addressed to it must come back.
    sent.push([await hub.toRoom('r1').send('chat', 'missed-room'), 'missed-room']);
    await hub.toRoom('r2').send('chat', 'not-for-me-room');
    sent.push([await hub.toUser('u1').send('chat', 'missed-user'), 'missed-user']);
    await hub.toUser('u2').send('chat', 'not-for-me-user');
    await hub.toClient('other').send('chat', 'not-for-me-client');
    sent.push([await hub.toClient('tab').send('chat', 'missed-client'), 'missed-client']);
    sent.push([await hub.broadcast('chat', 'missed-all'), 'missed-all']);

    await client.waitFor('connected', 2);
    await waitFor(() => hub.getClient('tab') !== undefined, 'the client to be back');
    sent.push([await hub.broadcast('chat', 'after'), 'after']);
    await client.waitFor('chat', sent.length);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(client.of('chat')).toEqual(sent.map(([id, data]) => ({ type: 'chat', data, lastEventId: id })));
    expect(reasons).toEqual(['closed']);
    expect(client.errors).toBe(1);
    // The first connection sent no Last-Event-ID; the reconnect sent the last id it had seen.
    expect(lastEventIds).toEqual([undefined, sent[1]?.[0]]);
    // A resumed connection's connected event carries no id (the replay moves it on); the
    // eventsource package then reports '' rather than the carried-over id.
    expect(client.of('connected').map((event) => event.lastEventId)).toEqual([headId, '']);
    expect(hub.counters.replays).toBe(1);
    expect(hub.counters.replayedEvents).toBe(4);
    expect(hub.connectionCount()).toBe(1);
  });

  it('resumes after several drops in a row without loss or duplicates', async () => {
    const hub = hubOf(scope, { retryMs: 20, authenticate: fromQuery });
    const { url } = await sseServer(scope, hub);
    const client = scope.client(`${url}/events?id=tab`, ['chat']);
    await connectedOf(client);
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      await waitFor(() => hub.getClient('tab') !== undefined, 'the client to be connected');
      ids.push(await hub.broadcast('chat', `${round}-a`));
      hub.disconnect('tab');
      ids.push(await hub.broadcast('chat', `${round}-b`));
      ids.push(await hub.broadcast('chat', `${round}-c`));
      await client.waitFor('connected', round + 2);
    }
    await client.waitFor('chat', ids.length);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const data = ['0-a', '0-b', '0-c', '1-a', '1-b', '1-c', '2-a', '2-b', '2-c'];
    expect(client.of('chat')).toEqual(data.map((value, i) => ({ type: 'chat', data: value, lastEventId: ids[i] })));
  });
});
