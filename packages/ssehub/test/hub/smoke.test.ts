import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../src/index.js';
import { RecordingClient } from '../support/clients.js';
import { listen, type TestServer } from '../support/servers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
});

describe('Hub smoke', () => {
  it('delivers a broadcast and a room event', async () => {
    const hub = createHub<{ chat: { text: string } }>({
      authenticate: (req) => ({ userId: req.url.searchParams.get('user') ?? undefined, rooms: req.url.searchParams.getAll('room') }),
    });
    server = await listen(hub.handler());
    const a = new RecordingClient(`${server.url}/?user=a&room=lobby`, ['connected', 'chat']);
    const b = new RecordingClient(`${server.url}/?user=b`, ['connected', 'chat']);
    await a.waitFor('connected');
    await b.waitFor('connected');
    await hub.toRoom('lobby').send('chat', { text: 'room' });
    await hub.toAll().send('chat', { text: 'all' });
    await a.waitFor('chat', 2);
    await b.waitFor('chat', 1);
    expect(a.of('chat').map((e) => JSON.parse(e.data).text)).toEqual(['room', 'all']);
    expect(b.of('chat').map((e) => JSON.parse(e.data).text)).toEqual(['all']);
    a.close();
    b.close();
    await hub.close();
  });
});
