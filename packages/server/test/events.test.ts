import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';

describe('GET /events', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_HEARTBEAT_MS: '1000' });
  });
  afterAll(() => hub.close());

  it('opens an event stream: SSE headers, a retry hint, then `connected` with the identity', async () => {
    // A fresh connection's `connected` event carries the hub's head id, to resume from.
    const headId = hub.server.hub.stats().history.headId;
    const stream = await openStream(hub.url, '/events?user=ada&room=a&room=b&room=a');
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    await stream.until((text) => text.includes('event: connected'));
    const match = /^retry: 2000\n\nid: (\S+)\nevent: connected\ndata: (.+)\n\n$/.exec(stream.text());
    expect(match).not.toBeNull();
    expect(match?.[1]).toBe(headId);
    const identity = JSON.parse(match?.[2] ?? '{}');
    expect(identity).toEqual({ clientId: expect.stringMatching(/^[0-9a-f-]{36}$/), userId: 'ada' });
    const status = (await request(hub.url, '/status')).json;
    // Duplicate rooms count once.
    expect(status.rooms).toEqual([
      { name: 'a', size: 1 },
      { name: 'b', size: 1 },
    ]);
    stream.close();
  });

  it('measures ?user= and ?room= names in characters, as POST /publish does: 256 emoji pass, 257 do not', async () => {
    const name = '😀'.repeat(256);
    const stream = await openStream(hub.url, `/events?user=${encodeURIComponent(name)}&room=${encodeURIComponent(name)}`);
    expect(stream.status).toBe(200);
    await stream.until((text) => text.includes('event: connected'));
    const published = await request(hub.url, '/publish', { method: 'POST', body: { event: 'hi', data: 1, users: [name] } });
    expect(published.status).toBe(202);
    await stream.until((text) => text.includes(`id: ${published.json.id}\nevent: hi\ndata: 1\n\n`));
    stream.close();
    const tooLong = await request(hub.url, `/events?room=${encodeURIComponent(`${name}😀`)}`);
    expect([tooLong.status, tooLong.json?.error?.code]).toEqual([400, 'invalid_query']);
  });

  it('sends a heartbeat comment every SSEHUB_HEARTBEAT_MS on an idle stream', async () => {
    const stream = await openStream(hub.url, '/events');
    await stream.until((text) => text.includes('event: connected'));
    const opened = Date.now();
    await stream.until((text) => /\n\n:\n\n$/.test(text), 5000);
    const waited = Date.now() - opened;
    expect(waited).toBeGreaterThan(300);
    // The shared timer fires every interval and skips streams written to within it: at most two.
    expect(waited).toBeLessThan(4000);
    stream.close();
  });

  it('forgets a client and its rooms when it disconnects', async () => {
    const stream = await openStream(hub.url, '/events?room=gone');
    await stream.until((text) => text.includes('event: connected'));
    expect((await request(hub.url, '/status')).json.rooms).toContainEqual({ name: 'gone', size: 1 });
    stream.close();
    const deadline = Date.now() + 3000;
    while ((await request(hub.url, '/status')).json.clients !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const status = (await request(hub.url, '/status')).json;
    expect([status.clients, status.rooms]).toEqual([0, []]);
  });
});
