import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectReason } from '../../src/index.js';
import { expectRecentDate, getHead, hubOf, RawSocket, Scope, sleep, sseServer, streamHeadLines, waitFor } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

const greeting = (headId: string, clientId: string, userId: string | null = null, retry = 'retry: 2000\n\n'): string =>
  `${retry}id: ${headId}\nevent: connected\ndata: ${JSON.stringify({ clientId, userId })}\n\n`;

describe('the event stream on the wire', () => {
  it('has an exact head, and a chunked body that de-chunks to exactly the events sent', async () => {
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub);
    const headId = hub.stats().history.headId;
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=c1&user=ada', { Accept: 'text/event-stream' }));
    const head = await raw.head();
    expect(head.lines).toEqual(streamHeadLines());
    expectRecentDate(head.headers.date?.[0]);
    expect(head.headers['content-length']).toBeUndefined();

    const hello = greeting(headId, 'c1', 'ada');
    await raw.untilBody((text) => text === hello, 'the greeting');
    // The retry hint and the connected event leave as one chunk.
    expect(raw.body.sizes).toEqual([Buffer.byteLength(hello)]);

    const id1 = await hub.broadcast('chat', 'hi');
    const id2 = await hub.toClient('c1').send('note', { text: 'héllo\nworld' });
    const id3 = await hub.toUser('ada').send('multi', 'line one\nline two');
    const expected =
      `${hello}id: ${id1}\nevent: chat\ndata: hi\n\n` +
      `id: ${id2}\nevent: note\ndata: {"text":"héllo\\nworld"}\n\n` +
      `id: ${id3}\nevent: multi\ndata: line one\ndata: line two\n\n`;
    await raw.untilBody((text) => text === expected, 'three events');
    const body = raw.body;
    expect(body.complete).toBe(false);
    expect(body.rest.byteLength).toBe(0);
    expect(body.sizes.reduce((sum, size) => sum + size, 0)).toBe(Buffer.byteLength(expected));
    // One response only: a single status line in everything received.
    expect(raw.text.split('HTTP/1.1 ').length).toBe(2);
  });

  it('ends the body with the last chunk on hub.close(), after a retry hint, and the server closes the socket', async () => {
    const reasons: DisconnectReason[] = [];
    const hub = hubOf(scope, { retryMs: 1500, onDisconnect: (_client, reason) => reasons.push(reason) });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port, { allowHalfOpen: true });
    raw.write(getHead('/events?id=c1'));
    const hello = greeting(hub.stats().history.headId, 'c1', null, 'retry: 1500\n\n');
    await raw.untilBody((text) => text === hello, 'the greeting');

    await hub.close({ timeoutMs: 2000 });
    // The server ended its side on its own (this client never ends first).
    await raw.until(() => raw.ended, 'the server to end the connection');
    const body = raw.body;
    expect(body.text).toBe(`${hello}retry: 1500\n\n`);
    expect(body.complete).toBe(true);
    expect(body.rest.byteLength).toBe(0);
    expect(raw.text.endsWith('\r\n0\r\n\r\n')).toBe(true);
    expect(reasons).toEqual(['hub-closed']);
    expect(hub.connectionCount()).toBe(0);
    raw.socket.end();
    await raw.closedPromise();
  });

  it('ends the body with the last chunk when the hub disconnects the client', async () => {
    const reasons: DisconnectReason[] = [];
    const hub = hubOf(scope, { retryMs: false, onDisconnect: (_client, reason) => reasons.push(reason) });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=c1'));
    const hello = greeting(hub.stats().history.headId, 'c1', null, '');
    await raw.untilBody((text) => text === hello, 'the greeting');
    const id = await hub.broadcast('chat', 'last');
    hub.disconnect('c1');
    await raw.closedPromise();
    expect(raw.body).toMatchObject({ text: `${hello}id: ${id}\nevent: chat\ndata: last\n\n`, complete: true });
    expect(raw.body.rest.byteLength).toBe(0);
    expect(reasons).toEqual(['closed']);
  });

  it('ignores a pipelined second request: no second response, the fallback is never called', async () => {
    const fallbackCalls: string[] = [];
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub, {
      fallback: (req: http.IncomingMessage, res: http.ServerResponse) => {
        fallbackCalls.push(`${req.method} ${req.url}`);
        res.end('fallback');
      },
    });
    const raw = RawSocket.open(scope, port);
    raw.write(`${getHead('/events?id=p')}${getHead('/other')}POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi`);
    const hello = greeting(hub.stats().history.headId, 'p');
    await raw.untilBody((text) => text === hello, 'the greeting');
    const id = await hub.broadcast('chat', 'after');
    await raw.untilBody((text) => text === `${hello}id: ${id}\nevent: chat\ndata: after\n\n`, 'the event');
    await sleep(50);
    expect(raw.text.split('HTTP/1.1 ').length).toBe(2);
    expect(raw.body.rest.byteLength).toBe(0);
    expect(fallbackCalls).toEqual([]);
    expect(hub.connectionCount()).toBe(1);
  });

  it('ignores bytes a client sends after the head; the stream keeps working', async () => {
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=g'));
    const hello = greeting(hub.stats().history.headId, 'g');
    await raw.untilBody((text) => text === hello, 'the greeting');
    raw.write('garbage\r\n\r\nGET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    raw.write(Buffer.alloc(64 * 1024, 0xff));
    await sleep(30);
    const id1 = await hub.broadcast('chat', 'one');
    raw.write('more garbage');
    const id2 = await hub.broadcast('chat', 'two');
    const expected = `${hello}id: ${id1}\nevent: chat\ndata: one\n\nid: ${id2}\nevent: chat\ndata: two\n\n`;
    await raw.untilBody((text) => text === expected, 'both events');
    expect(raw.text.split('HTTP/1.1 ').length).toBe(2);
    expect(hub.connectionCount()).toBe(1);
    expect(hub.counters.connections).toBe(1);
  });

  it('drops the client when it closes its socket (reason client)', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const hub = hubOf(scope, { onDisconnect: (client, reason) => reasons.push([client.id, reason]) });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=leaver&user=u&room=r'));
    await raw.untilBody((text) => text.includes('event: connected'), 'the greeting');
    expect(hub.connectionCount()).toBe(1);
    raw.socket.end();
    await waitFor(() => hub.connectionCount() === 0, 'the hub to drop the client');
    expect(reasons).toEqual([['leaver', 'client']]);
    expect(hub.connectionCount('u')).toBe(0);
    expect(hub.roomSize('r')).toBe(0);
  });

  it('drops the client when its socket is reset', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const hub = hubOf(scope, { onDisconnect: (client, reason) => reasons.push([client.id, reason]) });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=reset'));
    await raw.untilBody((text) => text.includes('event: connected'), 'the greeting');
    raw.socket.resetAndDestroy();
    await waitFor(() => hub.connectionCount() === 0, 'the hub to drop the client');
    expect(reasons).toEqual([['reset', 'client']]);
    // The server is still up.
    const next = RawSocket.open(scope, port);
    next.write(getHead('/events?id=next'));
    await next.untilBody((text) => text.includes('"clientId":"next"'), 'the next greeting');
  });

  it('serves the stream path with any query, a GET with content-length 0, and a custom path', async () => {
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub, { path: '/sse' });
    const plain = RawSocket.open(scope, port);
    plain.write('GET /sse HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n');
    const query = RawSocket.open(scope, port);
    query.write(getHead('/sse?id=q&x=%20y'));
    for (const raw of [plain, query]) expect((await raw.head()).status).toBe(200);
    await waitFor(() => hub.connectionCount() === 2, 'two clients');
    expect(hub.getClient('q')).toBeDefined();
    // The default path is not served when another one is set.
    const other = RawSocket.open(scope, port);
    other.write(getHead('/events'));
    expect((await other.head()).status).toBe(404);
  });

  it.each([
    ['a Last-Event-ID header', (id: string) => getHead('/events?id=r', { 'Last-Event-ID': id })],
    ['a lastEventId query parameter', (id: string) => getHead(`/events?id=r&lastEventId=${id}`)],
  ])('resumes from %s: the greeting without id, then exactly the events after it', async (_what, head) => {
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(await hub.broadcast('chat', `e${n}`));
    const raw = RawSocket.open(scope, port);
    raw.write(head(ids[0] as string));
    const expected =
      'retry: 2000\n\nevent: connected\ndata: {"clientId":"r","userId":null}\n\n' +
      `id: ${ids[1]}\nevent: chat\ndata: e2\n\nid: ${ids[2]}\nevent: chat\ndata: e3\n\n`;
    await raw.untilBody((text) => text === expected, 'the replay');
    // The greeting and the replay leave together.
    expect(raw.body.sizes).toEqual([Buffer.byteLength(expected)]);
    expect(hub.counters).toMatchObject({ replays: 1, replayedEvents: 2 });
  });

  it('frames each client its own bytes when a burst gives clients different events in one flush round', async () => {
    const hub = hubOf(scope, { retryMs: false });
    const { port } = await sseServer(scope, hub);
    const headId = hub.stats().history.headId;
    const clients = ['a', 'b', 'c'].map((id) => {
      const raw = RawSocket.open(scope, port);
      raw.write(getHead(`/events?id=${id}`));
      return raw;
    });
    for (const [i, raw] of clients.entries()) {
      await raw.untilBody((text) => text === greeting(headId, ['a', 'b', 'c'][i] as string, null, ''), 'the greeting');
    }
    // One synchronous burst: every client's queue is flushed in the same round.
    const sends = [
      hub.broadcast('chat', 'one'),
      hub.toClient('a').send('chat', 'only a'),
      hub.broadcast('chat', 'two'),
      hub.toClient('b', 'c').send('chat', 'b and c'),
      hub.broadcast('chat', 'three'),
    ];
    const [one, onlyA, two, bc, three] = await Promise.all(sends);
    const event = (id: string | undefined, data: string) => `id: ${id}\nevent: chat\ndata: ${data}\n\n`;
    const expected = {
      a: event(one, 'one') + event(onlyA, 'only a') + event(two, 'two') + event(three, 'three'),
      b: event(one, 'one') + event(two, 'two') + event(bc, 'b and c') + event(three, 'three'),
      c: event(one, 'one') + event(two, 'two') + event(bc, 'b and c') + event(three, 'three'),
    };
    for (const [i, raw] of clients.entries()) {
      const id = ['a', 'b', 'c'][i] as 'a' | 'b' | 'c';
      const whole = greeting(headId, id, null, '') + expected[id];
      await raw.untilBody((text) => text === whole, `the burst of ${id}`);
      // The burst left as one chunk.
      expect(raw.body.sizes).toEqual([Buffer.byteLength(greeting(headId, id, null, '')), Buffer.byteLength(expected[id])]);
    }
  });

  it('sends the head alone when there is nothing to say yet (no retry hint, no connected event)', async () => {
    const hub = hubOf(scope, { retryMs: false, connectedEvent: false });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=quiet'));
    const head = await raw.head();
    expect(head.lines).toEqual(streamHeadLines());
    await sleep(30);
    expect(raw.body).toMatchObject({ text: '', sizes: [], complete: false });
    expect(raw.body.rest.byteLength).toBe(0);
    const id = await hub.broadcast('chat', 'first');
    await raw.untilBody((text) => text === `id: ${id}\nevent: chat\ndata: first\n\n`, 'the first event');
  });

  it('serves a head split across several TCP writes with pauses', async () => {
    const hub = hubOf(scope);
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    await raw.connected;
    raw.socket.setNoDelay(true);
    for (const piece of ['GET /eve', 'nts?id=split HTTP/1.1\r\nHo', 'st: 127.0.0.1\r\n', 'Accept: text/event-stream\r\n\r', '\n']) {
      raw.write(piece);
      await sleep(15);
      if (piece !== '\n') expect(raw.received.byteLength).toBe(0);
    }
    await raw.untilBody((text) => text === greeting(hub.stats().history.headId, 'split'), 'the greeting');
    expect((await raw.head()).lines).toEqual(streamHeadLines());
  });
});
