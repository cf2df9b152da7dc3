import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectReason, PublishInfo } from '../../src/index.js';
import { sleep } from '../support/clients.js';
import { connectedOf, dataOf, Scope, waitFor } from './helpers.js';

type Events = { chat: string; fence: string };

const scope = new Scope();
afterEach(() => scope.dispose());

describe('onConnect', () => {
  it('may join rooms, synchronously or after awaiting, before the client is registered', async () => {
    const registeredDuringHook: boolean[] = [];
    const { hub, url } = await scope.serve<Events>({
      onConnect: async (client) => {
        registeredDuringHook.push(hub.getClient(client.id) !== undefined);
        client.join('sync-room');
        await sleep(20);
        client.join(`user:${client.userId}`);
      },
    });
    const client = scope.client(`${url}/?id=a&user=ada`, ['chat']);
    expect(await connectedOf(client)).toEqual({ clientId: 'a', userId: 'ada' });
    expect(registeredDuringHook).toEqual([false]);
    expect([...(hub.getClient('a')?.rooms ?? [])]).toEqual(['sync-room', 'user:ada']);
    expect(hub.roomSize('sync-room')).toBe(1);
    expect(hub.roomSize('user:ada')).toBe(1);
    await hub.toRoom('user:ada').send('chat', 'via async room');
    await hub.toRoom('sync-room').send('chat', 'via sync room');
    await client.waitFor('chat', 2);
    expect(dataOf(client, 'chat')).toEqual(['via async room', 'via sync room']);
    expect(client.events[0]?.type).toBe('connected');
  });

  it('an event published while onConnect runs does not reach the connecting client', async () => {
    let entered!: () => void;
    const inHook = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { hub, url } = await scope.serve<Events>({
      onConnect: () => {
        entered();
        return gate;
      },
    });
    const stream = scope.raw(`${url}/?id=a`);
    await inHook;
    const early = await hub.toAll().send('chat', 'too early');
    release();
    await stream.connected();
    const id = await hub.toAll().send('chat', 'in time');
    await stream.until(() => stream.dataOf('chat').length === 1, 'the chat event');
    // The connected event is sent after onConnect, so it carries the head id of then: the
    // event published during the hook, which this client has no business resuming into.
    expect(stream.text).toBe(
      `retry: 2000\n\nid: ${early}\nevent: connected\ndata: {"clientId":"a","userId":null}\n\nid: ${id}\nevent: chat\ndata: in time\n\n`,
    );
  });

  it('throwing reports the error to onError and drops the connection unregistered', async () => {
    const boom = new Error('onConnect failed');
    const errors: Array<[unknown, unknown]> = [];
    const disconnected: string[] = [];
    const { hub, url } = await scope.serve<Events>({
      onConnect: async () => {
        throw boom;
      },
      onError: (error, client) => errors.push([error, client]),
      onDisconnect: (client) => disconnected.push(client.id),
    });
    const stream = scope.raw(`${url}/?id=a`);
    await stream.until(() => stream.closed, 'the connection to drop');
    expect(stream.ended).toBe(false);
    expect(stream.dataOf('connected')).toEqual([]);
    expect(errors).toEqual([[boom, undefined]]);
    expect(disconnected).toEqual([]);
    expect(hub.connectionCount()).toBe(0);
    expect(hub.counters.connections).toBe(0);
  });
});

describe('onDisconnect', () => {
  it("reports 'client' when the browser closes, once, after the client is unregistered", async () => {
    const calls: Array<{ id: string; reason: DisconnectReason; stillRegistered: boolean; closed: boolean }> = [];
    const { hub, url } = await scope.serve<Events>({
      onDisconnect: (client, reason) =>
        calls.push({ id: client.id, reason, stillRegistered: hub.getClient(client.id) !== undefined, closed: client.closed }),
    });
    const client = scope.client(`${url}/?id=a&user=u&room=r`);
    await connectedOf(client);
    client.close();
    await waitFor(() => calls.length === 1, 'onDisconnect');
    expect(calls).toEqual([{ id: 'a', reason: 'client', stillRegistered: false, closed: true }]);
    expect(hub.connectionCount()).toBe(0);
    expect(hub.rooms.size).toBe(0);
    expect(hub.users.size).toBe(0);
  });

  it("reports 'closed' for hub.disconnect(id) and 'hub-closed' for every client on close", async () => {
    const calls: Array<[string, DisconnectReason]> = [];
    const { hub, url } = await scope.serve<Events>({ onDisconnect: (client, reason) => calls.push([client.id, reason]) });
    const streams = ['a', 'b', 'c'].map((id) => scope.raw(`${url}/?id=${id}`));
    for (const stream of streams) await stream.connected();
    hub.disconnect('b');
    await waitFor(() => calls.length === 1, 'the first disconnect');
    expect(calls).toEqual([['b', 'closed']]);
    await hub.close();
    expect(calls.slice(1).sort()).toEqual([
      ['a', 'hub-closed'],
      ['c', 'hub-closed'],
    ]);
  });

  it('an onDisconnect that throws is reported to onError with the client', async () => {
    const errors: Array<[unknown, string | undefined]> = [];
    const { hub, url } = await scope.serve<Events>({
      onDisconnect: () => {
        throw new Error('hook failed');
      },
      onError: (error, client) => errors.push([error, client?.id]),
    });
    const client = scope.client(`${url}/?id=a`);
    await connectedOf(client);
    client.close();
    await waitFor(() => errors.length === 1, 'onError');
    expect(errors).toEqual([[new Error('hook failed'), 'a']]);
    expect(hub.connectionCount()).toBe(0);
  });
});

describe('onError', () => {
  it('a throwing onError does not break the hub', async () => {
    const { url } = await scope.serve<Events>({
      authenticate: () => {
        throw new Error('auth');
      },
      onError: () => {
        throw new Error('handler');
      },
    });
    const stream = scope.raw(`${url}/`);
    await stream.until(() => stream.ended, 'the refusal');
    expect(stream.status).toBe(500);
  });
});

describe('onPublish', () => {
  it('reports id, event, target, recipients and history after local delivery', async () => {
    const infos: PublishInfo[] = [];
    const { hub, url } = await scope.serve<Events>({ onPublish: (info) => infos.push(info) });
    await connectedOf(scope.client(`${url}/?id=a&user=u&room=r`));
    await connectedOf(scope.client(`${url}/?id=b&user=u`));
    await connectedOf(scope.client(`${url}/?id=c&room=r`));

    const id1 = await hub.toRoom('r').toUser('u').toClient('a').send('chat', 'x');
    const id2 = await hub.publish({ target: { rooms: ['empty'] }, data: 'nobody', history: false });
    const id3 = await hub.toAll().send('chat', 'y');
    const id4 = await hub.toUser('u').send('chat', 'z', { history: false });
    expect(infos).toEqual([
      { id: id1, event: 'chat', target: { rooms: ['r'], users: ['u'], clients: ['a'] }, recipients: 3, history: true },
      { id: id2, event: undefined, target: { rooms: ['empty'] }, recipients: 0, history: false },
      { id: id3, event: 'chat', target: { all: true }, recipients: 3, history: true },
      { id: id4, event: 'chat', target: { users: ['u'] }, recipients: 2, history: false },
    ]);
  });

  it('reports history false for every event of a hub without history', async () => {
    const infos: PublishInfo[] = [];
    const { hub } = await scope.serve<Events>({ history: false, onPublish: (info) => infos.push(info) });
    await hub.toAll().send('chat', 'x', { history: true });
    expect(infos.map((info) => [info.recipients, info.history])).toEqual([[0, false]]);
  });
});
