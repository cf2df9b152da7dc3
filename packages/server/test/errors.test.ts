import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, publish, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';
import { Subscriber } from './support/sse.js';

const PUBLISH_KEY = 'publish-key-0123456789abcdef';

function expectError(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status, code });
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(typeof answer.json.error.message).toBe('string');
  expect(Object.keys(answer.json)).toEqual(['error']);
}

/** Sends headers (and optionally some body chunks) without ending the request; resolves on the answer. */
function partialPost(base: string, headers: Record<string, string>, chunks: Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/publish`, { method: 'POST', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) });
        req.destroy();
      });
    });
    // The server may close while we are still writing: that is the point.
    req.on('error', (error) => reject(error));
    req.flushHeaders();
    for (const chunk of chunks) req.write(chunk);
    // Never ended: an answer proves the server stopped reading early.
  });
}

describe('error answers', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_MAX_BODY_BYTES: '1024', SSEHUB_MAX_BATCH: '3' });
  });
  afterAll(() => hub.close());

  it('400 invalid_json for a body that is not JSON or not UTF-8', async () => {
    for (const body of ['{"data": ', '', 'undefined', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]) {
      const answer = await request(hub.url, '/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expectError(answer, 400, 'invalid_json');
    }
  });

  it('400 invalid_body naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ event: 'x' }, 'data: is required'],
      [{ data: 1, rooms: 'lobby' }, 'rooms: '],
      [{ data: 1, rooms: [] }, 'rooms: must list at least one name'],
      [{ data: 1, users: ['ok', 7] }, 'users[1]: '],
      [{ data: 1, clients: [''] }, 'clients[0]: must not be empty'],
      [{ data: 1, history: 'no' }, 'history: '],
      [{ data: 1, event: 42 }, 'event: '],
      [{ data: 1, event: '' }, 'event: must not be empty'],
      [{ data: 1, room: 'typo' }, 'room: unknown field'],
      ['just a string', 'body: must be an object'],
      [[], 'body: a batch must hold at least one event'],
      [[{ data: 1 }, 5], '[1]: must be an object'],
      [[{ data: 1 }, { data: 2, rooms: [1] }], '[1].rooms[0]: '],
    ];
    for (const [body, message] of cases) {
      const answer = await publish(hub.url, body);
      expectError(answer, 400, 'invalid_body');
      expect(answer.json.error.message).toContain(message);
    }
  });

  it('400 invalid_event_name for CR, LF or NUL, and for reserved names', async () => {
    for (const event of ['a\nb', 'a\rb', 'a\u0000b', 'connected', 'ssehub:reset']) {
      const answer = await publish(hub.url, { event, data: 1 });
      expectError(answer, 400, 'invalid_event_name');
    }
    const inBatch = await publish(hub.url, [{ data: 1 }, { event: 'x\ny', data: 2 }]);
    expectError(inBatch, 400, 'invalid_event_name');
    expect(inBatch.json.error.message).toBe('[1].event must not contain CR, LF or NUL');
  });

  it('400 batch_too_large past SSEHUB_MAX_BATCH; the limit itself is fine', async () => {
    const ok = await publish(hub.url, [{ data: 1 }, { data: 2 }, { data: 3 }]);
    expect(ok.status).toBe(202);
    expect(ok.json.ids).toHaveLength(3);
    const answer = await publish(hub.url, [{ data: 1 }, { data: 2 }, { data: 3 }, { data: 4 }]);
    expectError(answer, 400, 'batch_too_large');
    expect(answer.json.error.message).toContain('at most 3');
  });

  it('413 body_too_large from Content-Length, before reading the body', async () => {
    const answer = await partialPost(hub.url, { 'content-type': 'application/json', 'content-length': '4096' }, []);
    expectError(answer, 413, 'body_too_large');
    expect(answer.headers.connection).toBe('close');
  });

  it('413 body_too_large as soon as a chunked body passes the limit', async () => {
    const chunk = Buffer.alloc(700, 0x20);
    const answer = await partialPost(hub.url, { 'content-type': 'application/json' }, [chunk, chunk]);
    expectError(answer, 413, 'body_too_large');
  });

  it('a body right at the limit is accepted', async () => {
    const base = JSON.stringify({ data: '' });
    const body = JSON.stringify({ data: 'x'.repeat(1024 - base.length) });
    expect(Buffer.byteLength(body)).toBe(1024);
    const answer = await request(hub.url, '/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(answer.status).toBe(202);
  });

  it('415 unsupported_media_type for anything but JSON', async () => {
    const cases: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      {},
    ];
    for (const headers of cases) {
      const answer = await request(hub.url, '/publish', { method: 'POST', headers, body: '{"data":1}' });
      expectError(answer, 415, 'unsupported_media_type');
    }
    const charset = await request(hub.url, '/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"data":1}',
    });
    expect(charset.status).toBe(202);
  });

  it('404 not_found for unknown paths', async () => {
    for (const path of ['/nope', '/events/x', '/publish/', '/assets', '//events']) {
      expectError(await request(hub.url, path), 404, 'not_found');
    }
  });

  it('405 method_not_allowed with Allow on known paths', async () => {
    const cases: Array<[string, string, string]> = [
      ['GET', '/publish', 'POST, OPTIONS'],
      ['PUT', '/publish', 'POST, OPTIONS'],
      ['POST', '/events', 'GET, OPTIONS'],
      ['DELETE', '/status', 'GET, HEAD'],
      ['POST', '/metrics', 'GET'],
      ['POST', '/', 'GET, HEAD'],
      ['POST', '/dashboard/stream', 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await request(hub.url, path, { method });
      expectError(answer, 405, 'method_not_allowed');
      expect(answer.headers.allow).toBe(allow);
    }
  });

  it('400 invalid_query for empty or too many rooms and an empty user', async () => {
    expectError(await request(hub.url, '/events?room='), 400, 'invalid_query');
    const many = Array.from({ length: 101 }, (_, i) => `room=r${i}`).join('&');
    expectError(await request(hub.url, `/events?${many}`), 400, 'invalid_query');
    expectError(await request(hub.url, '/events?user='), 400, 'invalid_query');
  });
});

describe('target lists (SSEHUB_MAX_TARGETS)', () => {
  const names = (count: number): string[] => Array.from({ length: count }, (_, i) => `name-${i}`);

  it('400 invalid_body past the limit in rooms, users or clients, naming the field and the limit', async () => {
    const hub = await startServer({ SSEHUB_MAX_TARGETS: '3' });
    try {
      for (const field of ['rooms', 'users', 'clients']) {
        expect((await publish(hub.url, { data: 1, [field]: names(3) })).status).toBe(202);
        const answer = await publish(hub.url, { data: 1, [field]: names(4) });
        expectError(answer, 400, 'invalid_body');
        expect(answer.json.error.message).toBe(`${field}: at most 3 names (SSEHUB_MAX_TARGETS), got 4`);
      }
      const batch = await publish(hub.url, [{ data: 1 }, { data: 2, users: names(5) }]);
      expectError(batch, 400, 'invalid_body');
      expect(batch.json.error.message).toBe('[1].users: at most 3 names (SSEHUB_MAX_TARGETS), got 5');
      // The three accepted publishes, nothing of the refused ones.
      expect(hub.server.hub.counters.published).toBe(3);
    } finally {
      await hub.close();
    }
  });

  it('allows 1000 names per list by default, not 1001', async () => {
    const hub = await startServer();
    try {
      expect((await publish(hub.url, { data: 1, rooms: names(1000), users: names(1000), clients: names(1000) })).status).toBe(202);
      const answer = await publish(hub.url, { data: 1, rooms: names(1001) });
      expectError(answer, 400, 'invalid_body');
      expect(answer.json.error.message).toBe('rooms: at most 1000 names (SSEHUB_MAX_TARGETS), got 1001');
    } finally {
      await hub.close();
    }
  });
});

describe('rate limiting', () => {
  it('429 rate_limited with Retry-After past the burst', async () => {
    const hub = await startServer({ SSEHUB_RATE_LIMIT: '1', SSEHUB_RATE_LIMIT_BURST: '2' });
    try {
      expect((await publish(hub.url, { data: 1 })).status).toBe(202);
      expect((await publish(hub.url, { data: 2 })).status).toBe(202);
      const limited = await publish(hub.url, { data: 3 });
      expectError(limited, 429, 'rate_limited');
      expect(limited.headers['retry-after']).toBe('1');
      // Nothing of a limited request is published.
      expect((await request(hub.url, '/status')).json.counters.published).toBe(2);
    } finally {
      await hub.close();
    }
  });

  it('charges failed authentications to the IP, and keys authenticated publishers separately', async () => {
    const hub = await startServer({ SSEHUB_PUBLISH_KEY: PUBLISH_KEY, SSEHUB_RATE_LIMIT: '0.5', SSEHUB_RATE_LIMIT_BURST: '1' });
    try {
      expectError(await publish(hub.url, { data: 1 }, { authorization: 'Bearer wrong-key' }), 401, 'invalid_token');
      const guessing = await publish(hub.url, { data: 1 }, { authorization: 'Bearer other-wrong-key' });
      expectError(guessing, 429, 'rate_limited');
      expect(guessing.headers['retry-after']).toBe('2');
      // The key has its own bucket.
      expect((await publish(hub.url, { data: 1 }, { authorization: `Bearer ${PUBLISH_KEY}` })).status).toBe(202);
      expectError(await publish(hub.url, { data: 1 }, { authorization: `Bearer ${PUBLISH_KEY}` }), 429, 'rate_limited');
    } finally {
      await hub.close();
    }
  });
});

describe('connection limits', () => {
  it('503 hub_full with Retry-After at SSEHUB_MAX_CLIENTS', async () => {
    const hub = await startServer({ SSEHUB_MAX_CLIENTS: '1' });
    try {
      const first = await Subscriber.open(`${hub.url}/events`);
      const answer = await request(hub.url, '/events');
      expectError(answer, 503, 'hub_full');
      expect(answer.headers['retry-after']).toBe('5');
      first.close();
    } finally {
      await hub.close();
    }
  });

  it('429 too_many_connections at SSEHUB_MAX_CLIENTS_PER_USER; other users are fine', async () => {
    const hub = await startServer({ SSEHUB_MAX_CLIENTS_PER_USER: '1' });
    try {
      const first = await Subscriber.open(`${hub.url}/events?user=ada`);
      expectError(await request(hub.url, '/events?user=ada'), 429, 'too_many_connections');
      const other = await Subscriber.open(`${hub.url}/events?user=bob`);
      expect(other.identity.userId).toBe('bob');
      first.close();
      other.close();
    } finally {
      await hub.close();
    }
  });

  it('503 shutting_down for streams and publishes, and /readyz 503, once draining', async () => {
    const hub = await startServer();
    try {
      expect((await request(hub.url, '/readyz')).json).toEqual({ status: 'ready' });
      // What close() sets first, observed here without racing the listener's own close.
      hub.server.context.state.draining = true;
      const ready = await request(hub.url, '/readyz');
      expect([ready.status, ready.json]).toEqual([503, { status: 'shutting_down' }]);
      const events = await request(hub.url, '/events');
      expectError(events, 503, 'shutting_down');
      expect(events.headers['retry-after']).toBe('5');
      expectError(await publish(hub.url, { data: 1 }), 503, 'shutting_down');
      expect((await request(hub.url, '/healthz')).status).toBe(200);
    } finally {
      await hub.close();
    }
  });
});
