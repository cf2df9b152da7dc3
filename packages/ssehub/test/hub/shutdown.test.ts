import { afterEach, describe, expect, it } from 'vitest';
import { type DisconnectReason, HubClosedError, SseHubError } from '../../src/index.js';
import { connectedOf, request, Scope, waitFor } from './helpers.js';

type Events = { chat: string };

const scope = new Scope();
afterEach(() => scope.dispose());

describe('Hub#close', () => {
  it('sends `retry:` then ends every stream, and resolves', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const { hub, url } = await scope.serve<Events>({ onDisconnect: (client, reason) => reasons.push([client.id, reason]) });
    const headId = hub.stats().history.headId;
    const a = scope.raw(`${url}/?id=a&user=u`);
    const b = scope.raw(`${url}/?id=b&room=r`);
    await a.connected();
    await b.connected();
    const id = await hub.toAll().send('chat', 'last words');
    expect(hub.closed).toBe(false);

    await hub.close();
    expect(hub.closed).toBe(true);
    // Resolved once the server has finished every response; the bytes may still be in flight.
    await a.until(() => a.ended, 'the end of a');
    await b.until(() => b.ended, 'the end of b');
    expect(a.text).toBe(
      `retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"a","userId":"u"}\n\nid: ${id}\nevent: chat\ndata: last words\n\nretry: 2000\n\n`,
    );
    expect(b.text).toBe(
      `retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"b","userId":null}\n\nid: ${id}\nevent: chat\ndata: last words\n\nretry: 2000\n\n`,
    );
    expect(reasons.sort()).toEqual([
      ['a', 'hub-closed'],
      ['b', 'hub-closed'],
    ]);
    expect(hub.stats()).toMatchObject({ clients: 0, users: 0, rooms: 0 });
  });

  it('sends the configured retry hint, or none with retryMs false', async () => {
    const { hub, url } = await scope.serve<Events>({ retryMs: 7000 });
    const headId = hub.stats().history.headId;
    const stream = scope.raw(`${url}/?id=a`);
    await stream.connected();
    await hub.close();
    await stream.until(() => stream.ended, 'the end of the stream');
    expect(stream.text).toBe(`retry: 7000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"a","userId":null}\n\nretry: 7000\n\n`);

    const quiet = await scope.serve<Events>({ retryMs: false });
    const quietHeadId = quiet.hub.stats().history.headId;
    const silent = scope.raw(`${quiet.url}/?id=q`);
    await silent.connected();
    await quiet.hub.close();
    await silent.until(() => silent.ended, 'the end of the stream');
    expect(silent.text).toBe(`id: ${quietHeadId}\nevent: connected\ndata: {"clientId":"q","userId":null}\n\n`);
  });

  it('ends eventsource clients too; they cannot reconnect while the hub is closed', async () => {
    const { hub, url } = await scope.serve<Events>({ retryMs: 50 });
    const client = scope.client(`${url}/?id=a`);
    await connectedOf(client);
    await hub.close();
    // The client retries after 50 ms and is refused: eventsource gives up on a non-200.
    await client.until(() => client.source.readyState === client.source.CLOSED, 5000, 'the client to give up');
    expect(client.of('connected')).toHaveLength(1);
    expect(hub.connectionCount()).toBe(0);
    expect(hub.counters.refused).toBeGreaterThanOrEqual(1);
  });

  it('rejects publishing afterwards with HubClosedError', async () => {
    const { hub } = await scope.serve<Events>();
    await hub.close();
    for (const attempt of [
      () => hub.toAll().send('chat', 'x'),
      () => hub.publish({ target: { all: true }, data: 'x' }),
      () => hub.broadcast('chat', 'x'),
      () => hub.toUser('u').notify({ title: 'x' }),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HubClosedError);
      expect(error).toBeInstanceOf(SseHubError);
      expect(error).toMatchObject({ code: 'ERR_SSEHUB_HUB_CLOSED', name: 'HubClosedError' });
    }
    expect(hub.counters.published).toBe(0);
  });

  it('answers connections afterwards with 503 and Retry-After', async () => {
    const { hub, url } = await scope.serve<Events>({ retryAfterSeconds: 3 });
    await hub.close();
    const response = await request(`${url}/?id=late`);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('3');
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 503, message: 'the hub is shutting down' } });
    const web = await hub.fetch(new Request('http://x/events'));
    expect(web.status).toBe(503);
    expect(web.headers.get('retry-after')).toBe('3');
    expect(await web.json()).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 503, message: 'the hub is shutting down' } });
  });

  it('refuses a connection still authenticating when close begins', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = false;
    const { hub, url } = await scope.serve<Events>({
      authenticate: async () => {
        entered = true;
        await gate;
        return {};
      },
    });
    const pending = request(`${url}/?id=slow`);
    await waitFor(() => entered, 'authenticate to start');
    const closed = hub.close();
    release();
    const response = await pending;
    await closed;
    expect(response.status).toBe(503);
    expect(hub.connectionCount()).toBe(0);
  });

  it('is idempotent: every call returns the same promise', async () => {
    const { hub } = await scope.serve<Events>();
    const first = hub.close();
    expect(hub.close()).toBe(first);
    await first;
  });
});
