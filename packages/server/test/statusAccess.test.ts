import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, openStream, request } from './support/http.js';
import { SECRET, sign } from './support/jwt.js';
import { startServer, type TestServer } from './support/server.js';

const PUBLISH_KEY = 'publish-key-0123456789abcdef';
const MISSING = 'Bearer realm="ssehub"';
const INVALID = 'Bearer realm="ssehub", error="invalid_token"';

function expectRefused(answer: Answer, status: number, code: string, wwwAuthenticate?: string): void {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status, code });
  expect(Object.keys(answer.json)).toEqual(['error']);
  expect(typeof answer.json.error.message).toBe('string');
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(answer.headers['www-authenticate']).toBe(wwwAuthenticate);
}

/** Polls `check` every 10 ms, for up to 5 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Opens the dashboard stream and waits for its first stats event; fails on any other status. */
async function expectDashboard(base: string, query = '', headers: Record<string, string> = {}): Promise<void> {
  const stream = await openStream(base, `/dashboard/stream${query}`, headers);
  try {
    expect(stream.status).toBe(200);
    await stream.until((text) => text.includes('event: stats'));
  } finally {
    stream.close();
  }
}

/** The endpoints that stay open in every mode: health, readiness, metrics (no names in them). */
async function expectOpenProbes(base: string): Promise<void> {
  for (const path of ['/healthz', '/readyz', '/metrics']) expect((await request(base, path)).status, path).toBe(200);
}

describe('development mode (no secret, no key): /status and /dashboard/stream are open', () => {
  let hub: TestServer;
  beforeAll(async () => {
    hub = await startServer();
  });
  afterAll(() => hub.close());

  it('GET and HEAD /status answer 200 without credentials', async () => {
    const answer = await request(hub.url, '/status');
    expect(answer.status).toBe(200);
    expect(answer.json.nodeId).toMatch(/^n-/);
    expect((await request(hub.url, '/status', { method: 'HEAD' })).status).toBe(200);
  });

  it('GET /dashboard/stream streams stats without credentials', async () => {
    await expectDashboard(hub.url);
  });

  it('health, readiness and metrics are open', async () => {
    await expectOpenProbes(hub.url);
  });
});

describe('with a publish key: /status and /dashboard/stream take the publish key', () => {
  let hub: TestServer;
  beforeAll(async () => {
    hub = await startServer({ SSEHUB_PUBLISH_KEY: PUBLISH_KEY });
  });
  afterAll(() => hub.close());

  it('GET /status: 401 missing_token without Authorization, or with another scheme', async () => {
    expectRefused(await request(hub.url, '/status'), 401, 'missing_token', MISSING);
    expectRefused(await request(hub.url, '/status', { headers: { authorization: `Basic ${PUBLISH_KEY}` } }), 401, 'missing_token', MISSING);
  });

  it('GET /status: the key in ?token= does not count (headers only, outside the dashboard stream)', async () => {
    expectRefused(await request(hub.url, `/status?token=${PUBLISH_KEY}`), 401, 'missing_token', MISSING);
  });

  it('GET /status: 401 invalid_token for a wrong key', async () => {
    expectRefused(await request(hub.url, '/status', { headers: bearer(`${PUBLISH_KEY}x`) }), 401, 'invalid_token', INVALID);
  });

  it('HEAD /status: 401 without the key, 200 with it', async () => {
    const refused = await request(hub.url, '/status', { method: 'HEAD' });
    expect([refused.status, refused.headers['www-authenticate']]).toEqual([401, MISSING]);
    expect((await request(hub.url, '/status', { method: 'HEAD', headers: bearer(PUBLISH_KEY) })).status).toBe(200);
  });

  it('GET /status: 200 with Authorization: Bearer <publish key>', async () => {
    const answer = await request(hub.url, '/status', { headers: bearer(PUBLISH_KEY) });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ ready: true, clients: 0, rooms: [] });
  });

  it('GET /dashboard/stream: 401 missing_token, 401 invalid_token for a wrong key (header or ?token=)', async () => {
    expectRefused(await request(hub.url, '/dashboard/stream'), 401, 'missing_token', MISSING);
    expectRefused(await request(hub.url, '/dashboard/stream?token='), 401, 'missing_token', MISSING);
    expectRefused(await request(hub.url, '/dashboard/stream?token=wrong-key'), 401, 'invalid_token', INVALID);
    expectRefused(await request(hub.url, '/dashboard/stream', { headers: bearer('wrong-key') }), 401, 'invalid_token', INVALID);
    // Nobody was let in.
    expect(hub.server.dashboard.hub.clients.size).toBe(0);
  });

  it('GET /dashboard/stream: 200 with the key in Authorization or in ?token=', async () => {
    await expectDashboard(hub.url, '', bearer(PUBLISH_KEY));
    await expectDashboard(hub.url, `?token=${encodeURIComponent(PUBLISH_KEY)}`);
  });

  it('never logs the key given in ?token=', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const logged = await startServer({ SSEHUB_PUBLISH_KEY: PUBLISH_KEY }, { logger });
    try {
      await expectDashboard(logged.url, `?token=${PUBLISH_KEY}`);
      expectRefused(await request(logged.url, '/dashboard/stream?token=wrong-key-0123456789'), 401, 'invalid_token', INVALID);
      await until(() => lines.filter((line) => line.includes('"path":"/dashboard/stream"')).length >= 2);
    } finally {
      await logged.close();
    }
    expect(lines.join('\n')).not.toContain(PUBLISH_KEY);
    expect(lines.join('\n')).not.toContain('wrong-key-0123456789');
  });

  it('health, readiness and metrics stay open; subscribing stays open without a JWT secret', async () => {
    await expectOpenProbes(hub.url);
    const stream = await openStream(hub.url, '/events?user=dev');
    expect(stream.status).toBe(200);
    stream.close();
  });
});

describe('with JWTs: /status and /dashboard/stream take a JWT with "publish": true', () => {
  let hub: TestServer;
  beforeAll(async () => {
    hub = await startServer({ SSEHUB_JWT_SECRET: SECRET });
  });
  afterAll(() => hub.close());

  it('200 with a publisher JWT, in Authorization (both) or in ?token= (the dashboard stream)', async () => {
    const publisher = await sign({ sub: 'ops', publish: true });
    const answer = await request(hub.url, '/status', { headers: bearer(publisher) });
    expect(answer.status).toBe(200);
    await expectDashboard(hub.url, '', bearer(publisher));
    await expectDashboard(hub.url, `?token=${publisher}`);
  });

  it('403 publish_forbidden for a valid JWT without "publish": true', async () => {
    const reader = await sign({ sub: 'ada', rooms: ['*'] });
    expectRefused(await request(hub.url, '/status', { headers: bearer(reader) }), 403, 'publish_forbidden');
    expectRefused(await request(hub.url, `/dashboard/stream?token=${reader}`), 403, 'publish_forbidden');
  });

  it('401 token_expired and invalid_token for bad JWTs', async () => {
    const expired = await sign({ sub: 'ops', publish: true, exp: Math.floor(Date.now() / 1000) - 60 });
    expectRefused(await request(hub.url, '/status', { headers: bearer(expired) }), 401, 'token_expired', INVALID);
    expectRefused(await request(hub.url, `/dashboard/stream?token=${expired}`), 401, 'token_expired', INVALID);
    expectRefused(await request(hub.url, '/status', { headers: bearer('not.a.jwt') }), 401, 'invalid_token', INVALID);
  });

  it('401 missing_token without a token; the subscriber cookie does not count', async () => {
    const publisher = await sign({ sub: 'ops', publish: true });
    const cookie = { cookie: `ssehub_token=${publisher}` };
    expectRefused(await request(hub.url, '/status', { headers: cookie }), 401, 'missing_token', MISSING);
    expectRefused(await request(hub.url, '/dashboard/stream', { headers: cookie }), 401, 'missing_token', MISSING);
  });

  it('health, readiness and metrics stay open', async () => {
    await expectOpenProbes(hub.url);
  });
});

describe('with a publish key and JWTs', () => {
  it('accepts the key or a publisher JWT; refuses a JWT without the claim', async () => {
    const hub = await startServer({ SSEHUB_PUBLISH_KEY: PUBLISH_KEY, SSEHUB_JWT_SECRET: SECRET });
    try {
      expect((await request(hub.url, '/status', { headers: bearer(PUBLISH_KEY) })).status).toBe(200);
      expect((await request(hub.url, '/status', { headers: bearer(await sign({ publish: true })) })).status).toBe(200);
      expectRefused(await request(hub.url, '/status', { headers: bearer(await sign({ sub: 'ada' })) }), 403, 'publish_forbidden');
      expectRefused(await request(hub.url, '/status'), 401, 'missing_token', MISSING);
    } finally {
      await hub.close();
    }
  });
});
