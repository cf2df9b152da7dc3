import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionRefusedError, createHub, type DisconnectReason, type HubOptions, refuse } from '../../src/index.js';
import { fromQuery, parseEvents, Scope, waitFor } from './helpers.js';

type Events = { chat: { text: string } };

const scope = new Scope();
afterEach(() => scope.dispose());

function hubOf(options: HubOptions<Events> = {}) {
  const hub = createHub<Events>({ heartbeatMs: 0, authenticate: fromQuery, ...options });
  scope.defer(() => hub.close({ timeoutMs: 200 }));
  return hub;
}

/** Reads a Web response body as text in the background. */
class BodyReader {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  text = '';
  done = false;
  failed: unknown;

  constructor(response: Response) {
    this.reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const pump = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) break;
        this.text += decoder.decode(value, { stream: true });
      }
      this.done = true;
    };
    pump().catch((error: unknown) => {
      this.failed = error;
      this.done = true;
    });
    scope.defer(() => this.reader.cancel().catch(() => {}));
  }

  dataOf(type: string): string[] {
    return parseEvents(this.text)
      .filter((event) => event.event === type)
      .map((event) => event.data);
  }

  until(predicate: () => boolean, what: string): Promise<void> {
    return waitFor(predicate, `${what}; got ${JSON.stringify(this.text)}`);
  }
}

describe('HTTP/2 (http2.createServer(hub.handler()))', () => {
  async function h2(options: HubOptions<Events> = {}) {
    const hub = hubOf(options);
    const server = http2.createServer(hub.handler());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    scope.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    scope.defer(() => session.destroy());
    /** Opens a stream; resolves with its status, headers and a live view of its body. */
    const open = (path: string) => {
      const req = session.request({ ':path': path });
      const state = { status: 0, headers: {} as http2.IncomingHttpHeaders, text: '', ended: false, closed: false, req };
      req.setEncoding('utf8');
      req.on('response', (headers) => {
        state.status = Number(headers[':status']);
        state.headers = headers;
      });
      req.on('data', (chunk: string) => {
        state.text += chunk;
      });
      req.on('end', () => {
        state.ended = true;
      });
      req.on('close', () => {
        state.closed = true;
      });
      req.on('error', () => {});
      return state;
    };
    return { hub, open };
  }

  it('streams the connected event and published events with SSE headers', async () => {
    const { hub, open } = await h2();
    const headId = hub.stats().history.headId;
    const a = open('/events?id=a&user=u&room=r');
    const b = open('/events?id=b&user=u');
    await waitFor(() => a.text.includes('event: connected') && b.text.includes('event: connected'), 'both connected events');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-cache, no-transform');
    expect(a.headers.connection).toBeUndefined();

    const id1 = await hub.toRoom('r').send('chat', { text: 'room' });
    const id2 = await hub.toUser('u').send('chat', { text: 'user' });
    await waitFor(() => a.text.includes('"user"') && b.text.includes('"user"'), 'the user event');
    expect(a.text).toBe(
      `retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"a","userId":"u"}\n\n` +
        `id: ${id1}\nevent: chat\ndata: {"text":"room"}\n\n` +
        `id: ${id2}\nevent: chat\ndata: {"text":"user"}\n\n`,
    );
    expect(b.text).toBe(
      `retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"b","userId":"u"}\n\nid: ${id2}\nevent: chat\ndata: {"text":"user"}\n\n`,
    );
    expect(hub.connectionCount('u')).toBe(2);
  });

  it('answers refusals with their status and JSON body', async () => {
    const { open } = await h2({ authenticate: () => refuse(401, 'who are you') });
    const refused = open('/events');
    await waitFor(() => refused.ended, 'the refusal');
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.text)).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 401, message: 'who are you' } });
  });

  it('removes the client when the HTTP/2 stream is cancelled, and ends streams on close', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const { hub, open } = await h2({ onDisconnect: (client, reason) => reasons.push([client.id, reason]) });
    const a = open('/events?id=a');
    const b = open('/events?id=b');
    await waitFor(() => hub.connectionCount() === 2, 'two connections');
    a.req.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => hub.connectionCount() === 1, 'a to leave');
    expect(reasons).toEqual([['a', 'client']]);
    await hub.close();
    await waitFor(() => b.ended, 'b to end');
    expect(b.text.endsWith('retry: 2000\n\n')).toBe(true);
    expect(reasons).toEqual([
      ['a', 'client'],
      ['b', 'hub-closed'],
    ]);
  });
});

describe('Hub#fetch (Web Request/Response)', () => {
  it('returns an SSE response whose body yields the connected event and published events', async () => {
    const hub = hubOf({ headers: { 'access-control-allow-origin': '*' } });
    const headId = hub.stats().history.headId;
    const response = await hub.fetch(new Request('http://x/events?id=w&user=web&room=r'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('connection')).toBeNull();
    expect(hub.getClient('w')?.userId).toBe('web');

    const body = new BodyReader(response);
    await body.until(() => body.dataOf('connected').length === 1, 'the connected event');
    const id1 = await hub.toRoom('r').send('chat', { text: 'one' });
    const id2 = await hub.publish({ target: { users: ['web'] }, data: 'two' });
    await body.until(() => body.dataOf('message').length === 1, 'the message event');
    expect(body.text).toBe(
      `retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"w","userId":"web"}\n\n` +
        `id: ${id1}\nevent: chat\ndata: {"text":"one"}\n\n` +
        `id: ${id2}\ndata: two\n\n`,
    );
  });

  it('cancelling the body reader removes the client', async () => {
    const reasons: Array<[string, DisconnectReason]> = [];
    const hub = hubOf({ onDisconnect: (client, reason) => reasons.push([client.id, reason]) });
    const body = new BodyReader(await hub.fetch(new Request('http://x/?id=w&user=u&room=r')));
    await body.until(() => body.dataOf('connected').length === 1, 'the connected event');
    expect(hub.connectionCount()).toBe(1);
    await body.reader.cancel();
    expect(hub.connectionCount()).toBe(0);
    expect(hub.users.size).toBe(0);
    expect(hub.rooms.size).toBe(0);
    expect(reasons).toEqual([['w', 'client']]);
    // Nothing is queued for a client that left.
    const delivered = hub.counters.delivered;
    await hub.toAll().send('chat', { text: 'after' });
    expect(hub.counters.delivered).toBe(delivered);
  });

  it("aborting the request's signal removes the client", async () => {
    const hub = hubOf();
    const controller = new AbortController();
    const response = await hub.fetch(new Request('http://x/?id=w', { signal: controller.signal }));
    expect(response.status).toBe(200);
    expect(hub.connectionCount()).toBe(1);
    controller.abort();
    expect(hub.connectionCount()).toBe(0);
  });

  it('hub.close() sends `retry:` and ends the body', async () => {
    const hub = hubOf();
    const headId = hub.stats().history.headId;
    const body = new BodyReader(await hub.fetch(new Request('http://x/?id=w')));
    await body.until(() => body.dataOf('connected').length === 1, 'the connected event');
    await hub.close();
    await body.until(() => body.done, 'the end of the body');
    expect(body.failed).toBeUndefined();
    expect(body.text).toBe(`retry: 2000\n\nid: ${headId}\nevent: connected\ndata: {"clientId":"w","userId":null}\n\nretry: 2000\n\n`);
  });

  describe('refusals are Web Responses with the right status', () => {
    const cases: Array<{ what: string; options: HubOptions<Events>; status: number; message: string }> = [
      { what: 'refuse(401, reason)', options: { authenticate: () => refuse(401, 'bad token') }, status: 401, message: 'bad token' },
      { what: 'refuse(403)', options: { authenticate: () => refuse(403) }, status: 403, message: 'forbidden' },
      {
        what: 'a thrown ConnectionRefusedError',
        options: {
          authenticate: () => {
            throw new ConnectionRefusedError(451, 'unavailable');
          },
        },
        status: 451,
        message: 'unavailable',
      },
      {
        what: 'another thrown error',
        options: {
          authenticate: async () => {
            throw new Error('crash');
          },
        },
        status: 500,
        message: 'authentication failed',
      },
    ];
    it.each(cases)('$what → $status', async ({ options, status, message }) => {
      const errors: unknown[] = [];
      const hub = hubOf({ ...options, onError: (error) => errors.push(error) });
      const response = await hub.fetch(new Request('http://x/events'));
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await response.json()).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status, message } });
      expect(errors).toEqual(status === 500 ? [new Error('crash')] : []);
      expect(hub.connectionCount()).toBe(0);
    });

    it('POST → 405 with Allow: GET', async () => {
      const hub = hubOf();
      const response = await hub.fetch(new Request('http://x/events', { method: 'POST', body: 'x' }));
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
      expect(await response.json()).toEqual({
        error: { code: 'ERR_SSEHUB_REFUSED', status: 405, message: 'use GET to open an event stream' },
      });
    });

    it('a full hub → 503 with Retry-After; a user past the limit → 429', async () => {
      const hub = hubOf({ maxClients: 2, maxClientsPerUser: 1 });
      expect((await hub.fetch(new Request('http://x/?user=a'))).status).toBe(200);
      const tooMany = await hub.fetch(new Request('http://x/?user=a'));
      expect(tooMany.status).toBe(429);
      expect(await tooMany.json()).toEqual({
        error: { code: 'ERR_SSEHUB_REFUSED', status: 429, message: 'too many connections for this user' },
      });
      expect((await hub.fetch(new Request('http://x/?user=b'))).status).toBe(200);
      const full = await hub.fetch(new Request('http://x/?user=c'));
      expect(full.status).toBe(503);
      expect(full.headers.get('retry-after')).toBe('5');
      expect(await full.json()).toEqual({ error: { code: 'ERR_SSEHUB_REFUSED', status: 503, message: 'the hub is full' } });
      expect(hub.counters).toMatchObject({ connections: 2, refused: 2 });
    });
  });
});
