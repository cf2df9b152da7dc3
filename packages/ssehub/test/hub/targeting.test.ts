import { afterEach, describe, expect, it } from 'vitest';
import { HubClosedError, InvalidFieldError } from '../../src/index.js';
import type { RecordingClient } from '../support/clients.js';
import { connectedOf, dataOf, Scope } from './helpers.js';

type Events = {
  chat: { text: string };
  note: string;
  count: number;
  fence: string;
  any: unknown;
};

const TYPES = ['message', 'chat', 'note', 'count', 'fence', 'any', 'notification', 'badge-update', 'new-item'];

const scope = new Scope();
afterEach(() => scope.dispose());

/** Clients of one hub, named by their query string. */
async function setup(queries: Record<string, string>) {
  const { hub, url } = await scope.serve<Events>();
  const clients: Record<string, RecordingClient> = {};
  for (const [name, query] of Object.entries(queries)) clients[name] = scope.client(`${url}/events?${query}`, TYPES);
  const ids: Record<string, string> = {};
  for (const [name, client] of Object.entries(clients)) ids[name] = (await connectedOf(client)).clientId;
  /** Sends a fence to everyone and waits for it: every earlier event has arrived by then. */
  let fences = 0;
  const fence = async (): Promise<void> => {
    fences++;
    await hub.toAll().send('fence', `f${fences}`);
    for (const client of Object.values(clients)) await client.waitFor('fence', fences);
  };
  /** The chat texts each client received. */
  const chats = (): Record<string, string[]> =>
    Object.fromEntries(
      Object.entries(clients).map(([name, client]) => [
        name,
        dataOf(client, 'chat').map((data) => (JSON.parse(data) as { text: string }).text),
      ]),
    );
  return { hub, url, clients, ids, fence, chats };
}

describe('Hub#toClient', () => {
  it('delivers to the named connections only, once each', async () => {
    const { hub, ids, fence, chats } = await setup({ a: 'user=u1', b: 'user=u1', c: 'user=u2' });
    await hub.toClient(ids.a as string).send('chat', { text: 'one' });
    await hub.toClient(ids.b as string, ids.c as string, ids.b as string).send('chat', { text: 'two' });
    await fence();
    expect(chats()).toEqual({ a: ['one'], b: ['two'], c: ['two'] });
  });

  it('resolves with the id the client sees as lastEventId', async () => {
    const { hub, clients, ids, fence } = await setup({ a: '' });
    const id = await hub.toClient(ids.a as string).send('chat', { text: 'x' });
    await fence();
    expect(clients.a?.of('chat')).toEqual([{ type: 'chat', data: '{"text":"x"}', lastEventId: id }]);
  });

  it('reaches no one for an unknown id, and still resolves', async () => {
    const { hub, fence, chats } = await setup({ a: '' });
    await expect(hub.toClient('nobody').send('chat', { text: 'lost' })).resolves.toMatch(/^[A-Za-z0-9]+-\d+$/);
    await fence();
    expect(chats()).toEqual({ a: [] });
  });
});

describe('Hub#toUser', () => {
  it('delivers to every connection of the user exactly once', async () => {
    const { hub, fence, chats } = await setup({ a1: 'user=alice', a2: 'user=alice', a3: 'user=alice', b: 'user=bob', anon: '' });
    await hub.toUser('alice').send('chat', { text: 'for alice' });
    await hub.toUser('bob', 'alice', 'bob').send('chat', { text: 'for both' });
    await hub.toUser('carol').send('chat', { text: 'for nobody' });
    await fence();
    expect(chats()).toEqual({
      a1: ['for alice', 'for both'],
      a2: ['for alice', 'for both'],
      a3: ['for alice', 'for both'],
      b: ['for both'],
      anon: [],
    });
  });
});

describe('Hub#toRoom', () => {
  it('delivers to every member of the rooms once, even a member of several', async () => {
    const { hub, fence, chats } = await setup({ red: 'room=red', blue: 'room=blue', both: 'room=red&room=blue', none: '' });
    await hub.toRoom('red').send('chat', { text: 'red' });
    await hub.toRoom('red', 'blue').send('chat', { text: 'red+blue' });
    await hub.toRoom('green').send('chat', { text: 'green' });
    await fence();
    expect(chats()).toEqual({ red: ['red', 'red+blue'], blue: ['red+blue'], both: ['red', 'red+blue'], none: [] });
  });

  it('follows joins and leaves made after connecting', async () => {
    const { hub, ids, fence, chats } = await setup({ a: '', b: '' });
    hub.join(ids.a as string, 'late');
    hub.getClient(ids.b as string)?.join('late');
    await hub.toRoom('late').send('chat', { text: 'both' });
    hub.leave(ids.a as string, 'late');
    await hub.toRoom('late').send('chat', { text: 'b only' });
    await fence();
    expect(chats()).toEqual({ a: ['both'], b: ['both', 'b only'] });
  });
});

describe('Hub#toAll', () => {
  it('delivers to every connection once', async () => {
    const { hub, fence, chats } = await setup({ a: 'user=u1&room=r', b: 'user=u1', c: '' });
    await hub.toAll().send('chat', { text: 'all' });
    await hub.toAll().toRoom('r').toUser('u1').send('chat', { text: 'all+more' });
    await hub.broadcast('chat', { text: 'broadcast' });
    await fence();
    const expected = ['all', 'all+more', 'broadcast'];
    expect(chats()).toEqual({ a: expected, b: expected, c: expected });
  });
});

describe('Audience unions', () => {
  it('a connection matching several parts receives the event exactly once', async () => {
    const { hub, ids, fence, chats } = await setup({
      all3: 'user=u1&room=r',
      roomOnly: 'user=u2&room=r',
      userOnly: 'user=u1',
      clientOnly: 'user=u3',
      outsider: 'user=u4&room=other',
    });
    await hub
      .toRoom('r')
      .toUser('u1')
      .toClient(ids.all3 as string, ids.clientOnly as string)
      .send('chat', { text: 'union' });
    await hub.to({ rooms: ['r'], users: ['u1'], clients: [ids.all3 as string] }).send('chat', { text: 'to()' });
    await fence();
    expect(chats()).toEqual({
      all3: ['union', 'to()'],
      roomOnly: ['union', 'to()'],
      userOnly: ['union', 'to()'],
      clientOnly: ['union'],
      outsider: [],
    });
  });

  it('each to… returns a new audience and leaves the one it came from unchanged', async () => {
    const { hub } = await setup({});
    const room = hub.toRoom('r');
    const wider = room.toUser('u');
    expect(room.target).toEqual({ rooms: ['r'] });
    expect(wider.target).toEqual({ rooms: ['r'], users: ['u'] });
    expect(hub.toClient('c').toRoom('a').toRoom('b').target).toEqual({ clients: ['c'], rooms: ['a', 'b'] });
    expect(hub.toAll().target).toEqual({ all: true });
  });
});

describe('Hub#publish', () => {
  it('takes the target as data; an event without a name arrives as `message`', async () => {
    const { hub, clients, ids, fence } = await setup({ a: 'user=u1', b: 'user=u2&room=r', c: '' });
    const first = await hub.publish({ target: { users: ['u1'] }, data: { hello: 'u1' } });
    const second = await hub.publish({ event: 'chat', target: { rooms: ['r'], clients: [ids.a as string] }, data: { text: 'named' } });
    const third = await hub.publish({ target: { all: true }, data: 'raw text' });
    await fence();
    expect(clients.a?.of('message')).toEqual([
      { type: 'message', data: '{"hello":"u1"}', lastEventId: first },
      { type: 'message', data: 'raw text', lastEventId: third },
    ]);
    expect(clients.a?.of('chat')).toEqual([{ type: 'chat', data: '{"text":"named"}', lastEventId: second }]);
    expect(clients.b?.of('message')).toEqual([{ type: 'message', data: 'raw text', lastEventId: third }]);
    expect(clients.b?.of('chat')).toEqual([{ type: 'chat', data: '{"text":"named"}', lastEventId: second }]);
    expect(clients.c?.of('message')).toEqual([{ type: 'message', data: 'raw text', lastEventId: third }]);
    expect(clients.c?.of('chat')).toEqual([]);
  });

  it('gives events increasing ids in publish order', async () => {
    const { hub } = await setup({});
    const ids = [await hub.broadcast('note', 'a'), await hub.toRoom('x').send('note', 'b'), await hub.publish({ target: {}, data: 'c' })];
    const seqs = ids.map((id) => Number(id.split('-')[1]));
    expect(seqs).toEqual([seqs[0], (seqs[0] as number) + 1, (seqs[0] as number) + 2]);
    expect(new Set(ids.map((id) => id.split('-')[0])).size).toBe(1);
  });
});

describe('Event data', () => {
  it('sends strings raw and everything else as JSON, in order', async () => {
    const { hub, clients, fence } = await setup({ a: '' });
    await hub.toAll().send('note', 'plain "quoted" text');
    await hub.toAll().send('note', '{"already":"json"}');
    await hub.toAll().send('note', 'two\nlines');
    await hub.toAll().send('note', '');
    await hub.toAll().send('count', 42);
    await hub.toAll().send('chat', { text: 'ünïcødé ✓' });
    await hub.publish({ event: 'any', target: { all: true }, data: null });
    await hub.publish({ event: 'any', target: { all: true }, data: [1, 'two', { three: 3 }] });
    await fence();
    expect(dataOf(clients.a as RecordingClient, 'note')).toEqual(['plain "quoted" text', '{"already":"json"}', 'two\nlines', '']);
    expect(dataOf(clients.a as RecordingClient, 'any')).toEqual(['null', '[1,"two",{"three":3}]']);
    expect(dataOf(clients.a as RecordingClient, 'count')).toEqual(['42']);
    expect(dataOf(clients.a as RecordingClient, 'chat')).toEqual(['{"text":"ünïcødé ✓"}']);
  });

  it('sends the helper events notify, updateBadge and newItem with their names', async () => {
    const { hub, clients, fence } = await setup({ a: 'user=u' });
    const audience = hub.toUser('u');
    await audience.notify({ title: 'Hi', message: 'there', level: 'success' });
    await audience.updateBadge({ badge: 'inbox', count: 3 });
    await audience.newItem({ type: 'post', id: 'p1', item: { title: 'First' } });
    await fence();
    const a = clients.a as RecordingClient;
    expect(dataOf(a, 'notification').map((data) => JSON.parse(data))).toEqual([{ title: 'Hi', message: 'there', level: 'success' }]);
    expect(dataOf(a, 'badge-update').map((data) => JSON.parse(data))).toEqual([{ badge: 'inbox', count: 3 }]);
    expect(dataOf(a, 'new-item').map((data) => JSON.parse(data))).toEqual([{ type: 'post', id: 'p1', item: { title: 'First' } }]);
  });

  it('Client#send reaches that connection only', async () => {
    const { hub, ids, fence, chats } = await setup({ a: 'user=u', b: 'user=u' });
    const id = await hub.getClient(ids.b as string)?.send('chat', { text: 'just b' });
    expect(id).toMatch(/^[A-Za-z0-9]+-\d+$/);
    await fence();
    expect(chats()).toEqual({ a: [], b: ['just b'] });
  });

  it('rejects an event name that would break the stream with InvalidFieldError, sending nothing', async () => {
    const { hub, clients, fence } = await setup({ a: '' });
    const published = hub.counters.published;
    const error = await hub.publish({ event: 'bad\nname' as 'note', target: { all: true }, data: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFieldError);
    expect(error).toMatchObject({ code: 'ERR_SSEHUB_INVALID_FIELD', field: 'event' });
    expect(hub.counters.published).toBe(published);
    await fence();
    expect(clients.a?.events.map((event) => event.type)).toEqual(['connected', 'fence']);
  });

  it('rejects a non-string target member with a TypeError', async () => {
    const { hub } = await setup({});
    expect(() => hub.toRoom(42 as unknown as string)).toThrow(TypeError);
    expect(() => hub.toUser(undefined as unknown as string)).toThrow(TypeError);
  });

  it('rejects sends after close with HubClosedError', async () => {
    const { hub } = await setup({});
    await hub.close();
    await expect(hub.toAll().send('note', 'late')).rejects.toBeInstanceOf(HubClosedError);
  });
});
