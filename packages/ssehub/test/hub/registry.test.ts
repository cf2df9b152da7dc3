import { afterEach, describe, expect, it } from 'vitest';
import { type Client, ClientNotFoundError, type DisconnectReason, SseHubError } from '../../src/index.js';
import { connectedOf, Scope, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

/** Ids of a map's clients, sorted. */
const idsOf = (clients: Iterable<Client> | undefined): string[] => [...(clients ?? [])].map((client) => client.id).sort();

describe('Hub registry', () => {
  it('maps clients by id, users to their connections and rooms to their members', async () => {
    const { hub, url } = await scope.serve();
    const a1 = await connectedOf(scope.client(`${url}/?id=a1&user=alice&room=lobby&room=dev`));
    const a2 = await connectedOf(scope.client(`${url}/?id=a2&user=alice&room=lobby`));
    const b = await connectedOf(scope.client(`${url}/?id=b&user=bob&room=dev`));
    const anon = await connectedOf(scope.client(`${url}/?id=anon`));
    expect([a1.clientId, a2.clientId, b.clientId, anon.clientId]).toEqual(['a1', 'a2', 'b', 'anon']);

    expect([...hub.clients.keys()].sort()).toEqual(['a1', 'a2', 'anon', 'b']);
    expect(hub.clients.get('a1')).toBe(hub.getClient('a1'));
    expect([...hub.users.keys()].sort()).toEqual(['alice', 'bob']);
    expect(idsOf(hub.users.get('alice'))).toEqual(['a1', 'a2']);
    expect(idsOf(hub.users.get('bob'))).toEqual(['b']);
    expect([...hub.rooms.keys()].sort()).toEqual(['dev', 'lobby']);
    expect(idsOf(hub.rooms.get('lobby'))).toEqual(['a1', 'a2']);
    expect(idsOf(hub.rooms.get('dev'))).toEqual(['a1', 'b']);

    expect(hub.getClient('nobody')).toBeUndefined();
    expect(hub.connectionCount()).toBe(4);
    expect(hub.connectionCount('alice')).toBe(2);
    expect(hub.connectionCount('bob')).toBe(1);
    expect(hub.connectionCount('carol')).toBe(0);
    expect(hub.roomSize('lobby')).toBe(2);
    expect(hub.roomSize('dev')).toBe(2);
    expect(hub.roomSize('nowhere')).toBe(0);

    const client = hub.getClient('a1') as Client;
    expect(client.userId).toBe('alice');
    expect([...client.rooms].sort()).toEqual(['dev', 'lobby']);
    expect(client.isIn('dev')).toBe(true);
    expect(client.isIn('nowhere')).toBe(false);
    expect(client.closed).toBe(false);
    expect(client.lastEventId).toBeUndefined();
    expect(client.connectedAt).toBeLessThanOrEqual(Date.now());
  });

  it('keeps membership exact for a client in many rooms, joined and left at any size', async () => {
    const { hub, url } = await scope.serve();
    await connectedOf(scope.client(`${url}/?id=m&room=r0&room=r1`));
    const client = hub.getClient('m') as Client;
    const names = Array.from({ length: 20 }, (_, i) => `r${i}`);
    for (const name of names) client.join(name);
    client.join('r3');
    expect([...client.rooms].sort()).toEqual([...names].sort());
    for (const name of names) expect(hub.roomSize(name)).toBe(1);
    for (let i = 0; i < 20; i += 2) client.leave(`r${i}`);
    client.leave('never-joined');
    const odd = names.filter((_, i) => i % 2 === 1);
    expect([...client.rooms].sort()).toEqual([...odd].sort());
    expect(names.map((name) => client.isIn(name))).toEqual(names.map((_, i) => i % 2 === 1));
    expect([...hub.rooms.keys()].sort()).toEqual([...odd].sort());
    // A snapshot: changing it changes nothing.
    (client.rooms as Set<string>).add('forged');
    expect(client.isIn('forged')).toBe(false);
    client.close();
    await waitFor(() => hub.rooms.size === 0, 'the rooms to empty');
  });

  it('counts drop and rooms empty when clients leave', async () => {
    const { hub, url } = await scope.serve();
    const a1 = scope.client(`${url}/?id=a1&user=alice&room=lobby&room=solo`);
    const a2 = scope.client(`${url}/?id=a2&user=alice&room=lobby`);
    const b = scope.client(`${url}/?id=b&user=bob&room=lobby`);
    for (const client of [a1, a2, b]) await connectedOf(client);
    expect(hub.stats()).toMatchObject({ clients: 3, users: 2, rooms: 2 });

    a1.close();
    await waitFor(() => hub.connectionCount() === 2, 'a1 to leave');
    expect(hub.getClient('a1')).toBeUndefined();
    expect(hub.connectionCount('alice')).toBe(1);
    expect(hub.roomSize('lobby')).toBe(2);
    expect(hub.rooms.has('solo')).toBe(false);
    expect(hub.roomSize('solo')).toBe(0);

    a2.close();
    await waitFor(() => hub.connectionCount() === 1, 'a2 to leave');
    expect(hub.users.has('alice')).toBe(false);
    expect(hub.connectionCount('alice')).toBe(0);
    expect(idsOf(hub.rooms.get('lobby'))).toEqual(['b']);

    b.close();
    await waitFor(() => hub.connectionCount() === 0, 'b to leave');
    expect(hub.stats()).toMatchObject({ clients: 0, users: 0, rooms: 0 });
    expect(hub.rooms.size).toBe(0);
    expect(hub.users.size).toBe(0);
  });

  it('joins and leaves rooms through the client and through the hub', async () => {
    const { hub, url } = await scope.serve();
    await connectedOf(scope.client(`${url}/?id=a`));
    await connectedOf(scope.client(`${url}/?id=b`));
    const a = hub.getClient('a') as Client;

    expect(a.join('x')).toBe(a);
    a.join('x');
    hub.join('b', 'x');
    hub.join('b', 'y');
    expect(hub.roomSize('x')).toBe(2);
    expect(idsOf(hub.rooms.get('x'))).toEqual(['a', 'b']);
    expect(hub.getClient('b')?.isIn('y')).toBe(true);

    expect(a.leave('x')).toBe(a);
    a.leave('x');
    a.leave('never-joined');
    expect(idsOf(hub.rooms.get('x'))).toEqual(['b']);
    hub.leave('b', 'y');
    expect(hub.rooms.has('y')).toBe(false);
    expect(hub.getClient('b')?.isIn('y')).toBe(false);
    expect(() => a.join(7 as unknown as string)).toThrow(TypeError);
  });

  it('join, leave and disconnect throw ClientNotFoundError for an unknown id', async () => {
    const { hub } = await scope.serve();
    for (const call of [() => hub.join('ghost', 'r'), () => hub.leave('ghost', 'r'), () => hub.disconnect('ghost')]) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ClientNotFoundError);
      expect(caught).toBeInstanceOf(SseHubError);
      expect(caught).toMatchObject({ code: 'ERR_SSEHUB_CLIENT_NOT_FOUND', clientId: 'ghost', name: 'ClientNotFoundError' });
    }
    expect(hub.rooms.size).toBe(0);
  });

  it('deleteRoom empties a room and returns how many left it', async () => {
    const { hub, url } = await scope.serve();
    await connectedOf(scope.client(`${url}/?id=a&room=r&room=keep`));
    await connectedOf(scope.client(`${url}/?id=b&room=r`));
    expect(hub.deleteRoom('r')).toBe(2);
    expect(hub.rooms.has('r')).toBe(false);
    expect(hub.getClient('a')?.isIn('r')).toBe(false);
    expect(hub.getClient('b')?.isIn('r')).toBe(false);
    expect(hub.getClient('a')?.isIn('keep')).toBe(true);
    expect(hub.roomSize('keep')).toBe(1);
    expect(hub.deleteRoom('r')).toBe(0);
    expect(hub.deleteRoom('never')).toBe(0);
  });

  it('hub.disconnect(id) ends that stream and unregisters the client', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const { hub, url } = await scope.serve({ onDisconnect: (client, reason) => reasons.push([client.id, reason]) });
    const headId = hub.stats().history.headId;
    const stream = scope.raw(`${url}/?id=gone&user=u&room=r`);
    await stream.connected();
    const stays = await connectedOf(scope.client(`${url}/?id=stays&user=u`));
    hub.disconnect('gone');
    await stream.until(() => stream.ended, 'the end of the stream');
    await waitFor(() => reasons.length === 1, 'onDisconnect');
    expect(reasons).toEqual([['gone', 'closed']]);
    expect(stream.text).toBe(`retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"gone","userId":"u"}\n\n`);
    expect([...hub.clients.keys()]).toEqual([stays.clientId]);
    expect(hub.connectionCount('u')).toBe(1);
    expect(hub.rooms.has('r')).toBe(false);
    expect(() => hub.disconnect('gone')).toThrow(ClientNotFoundError);
  });

  it('a second connection with the same stable client id replaces the first', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const { hub, url } = await scope.serve({ onDisconnect: (client, reason) => reasons.push([client.id, reason]) });
    const first = scope.raw(`${url}/?id=tab&user=u&room=r`);
    await first.connected();
    const firstClient = hub.getClient('tab');
    const second = scope.raw(`${url}/?id=tab&user=u&room=r`);
    await second.connected();
    await first.until(() => first.ended, 'the end of the first stream');
    expect(reasons).toEqual([['tab', 'evicted']]);
    expect(hub.getClient('tab')).not.toBe(firstClient);
    expect(hub.connectionCount()).toBe(1);
    expect(hub.connectionCount('u')).toBe(1);
    expect(hub.roomSize('r')).toBe(1);
    expect(second.ended).toBe(false);
  });
});

describe('Hub#stats and counters', () => {
  it('count connections, refusals, publishes and delivered copies', async () => {
    const { hub, url } = await scope.serve<{ tick: string }>({ maxClients: 3 });
    const initial = hub.stats();
    expect(initial.counters).toEqual({
      connections: 0,
      refused: 0,
      published: 0,
      delivered: 0,
      deliveredBytes: 0,
      dropped: 0,
      slowDisconnects: 0,
      replays: 0,
      replayedEvents: 0,
      resets: 0,
      gaps: 0,
    });
    expect(initial).toMatchObject({ clients: 0, users: 0, rooms: 0 });
    expect(initial.history).toMatchObject({ size: 0, bytes: 0 });

    const clients = [
      scope.client(`${url}/?id=a&user=u1&room=r`, ['tick']),
      scope.client(`${url}/?id=b&user=u1`, ['tick']),
      scope.client(`${url}/?id=c&user=u2&room=r`, ['tick']),
    ];
    for (const client of clients) await connectedOf(client);
    const refused = scope.client(`${url}/?id=d`);
    await refused.until((client) => client.errors > 0, 5000, 'the refusal');

    const id1 = await hub.toAll().send('tick', '1'); // 3 recipients
    await hub.toRoom('r').toUser('u1').send('tick', '2'); // a, b, c
    await hub.toUser('u1').send('tick', '3'); // a, b
    await hub.toRoom('nowhere').send('tick', '4'); // nobody
    await hub.toClient('c').send('tick', '5'); // c
    for (const client of clients) await client.waitFor('tick', 3);

    const bytesOf = (data: string, id: string): number => Buffer.byteLength(`id: ${id}\nevent: tick\ndata: ${data}\n\n`);
    const stats = hub.stats();
    expect(stats.counters).toMatchObject({ connections: 3, refused: 1, published: 5, delivered: 9, dropped: 0, slowDisconnects: 0 });
    // Every event here encodes to the same length (same epoch, one-digit seqs and data).
    expect(stats.counters.deliveredBytes).toBe(9 * bytesOf('1', id1));
    expect(stats).toMatchObject({ clients: 3, users: 2, rooms: 1 });
    expect(stats.history.size).toBe(5);
    // A snapshot, not a live view.
    await hub.toAll().send('tick', '6');
    expect(stats.counters.published).toBe(5);
    expect(hub.stats().counters.published).toBe(6);
    expect(hub.counters.published).toBe(6);
  });
});
