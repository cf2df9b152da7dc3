import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, request } from './support/http.js';
import { SECRET, sign } from './support/jwt.js';
import { startServer, type TestServer } from './support/server.js';
import { Subscriber } from './support/sse.js';

const PUBLISH_KEY = 'publish-key-0123456789abcdef';

describe('JWT subscribers (HS256)', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_JWT_SECRET: SECRET });
  });
  afterAll(() => hub.close());

  it('401 missing_token without a token, with WWW-Authenticate', async () => {
    const answer = await request(hub.url, '/events');
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('missing_token');
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="ssehub"');
  });

  it('401 invalid_token for a bad signature, garbage, or another algorithm', async () => {
    const otherKey = new TextEncoder().encode('another-secret-0123456789-abcdefghijkl');
    const forged = await sign({ sub: 'mallory', rooms: ['*'] }, otherKey);
    for (const token of [forged, 'not.a.jwt', 'garbage']) {
      const answer = await request(hub.url, '/events', { headers: { authorization: `Bearer ${token}` } });
      expect(answer.status).toBe(401);
      expect(answer.json.error.code).toBe('invalid_token');
      expect(answer.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    // An unsigned token ("alg": "none") is never accepted.
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'mallory', rooms: ['*'] })).toString('base64url');
    const none = await request(hub.url, `/events?token=${header}.${body}.`);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('invalid_token');
  });

  it('401 token_expired for an expired token', async () => {
    const token = await sign({ sub: 'ada', exp: Math.floor(Date.now() / 1000) - 60 });
    const answer = await request(hub.url, '/events', { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({ error: { code: 'token_expired', message: 'the token has expired' } });
  });

  it('401 invalid_token when the rooms claim is not an array of strings', async () => {
    const token = await sign({ sub: 'ada', rooms: 'lobby' });
    const answer = await request(hub.url, `/events?token=${token}`);
    expect(answer.status).toBe(401);
    expect(answer.json.error.message).toContain('"rooms"');
  });

  it('accepts the token from the Authorization header; sub is the user id, ?user= is ignored', async () => {
    const token = await sign({ sub: 'ada', rooms: ['lobby'] });
    const subscriber = await Subscriber.open(`${hub.url}/events?room=lobby&user=mallory`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(subscriber.identity.userId).toBe('ada');
    // With JWTs, /status takes a publisher's token.
    const status = await request(hub.url, '/status', { headers: { authorization: `Bearer ${await sign({ publish: true })}` } });
    expect(status.json.rooms).toContainEqual({ name: 'lobby', size: 1 });
    subscriber.close();
  });

  it('accepts the token from the ssehub_token cookie', async () => {
    const token = await sign({ sub: 'grace' });
    const subscriber = await Subscriber.open(`${hub.url}/events`, { headers: { cookie: `theme=dark; ssehub_token=${token}` } });
    expect(subscriber.identity.userId).toBe('grace');
    subscriber.close();
  });

  it('accepts the token from ?token=, and delivers to the user', async () => {
    const token = await sign({ sub: 'linus', rooms: ['ops'] });
    const subscriber = await Subscriber.open(`${hub.url}/events?room=ops&token=${token}`);
    expect(subscriber.identity.userId).toBe('linus');
    // Publishing needs a publish claim on this server.
    const publisher = await sign({ sub: 'backend', publish: true });
    const answer = await publish(hub.url, { data: 'for linus', users: ['linus'] }, { authorization: `Bearer ${publisher}` });
    expect(answer.status).toBe(202);
    await subscriber.waitFor('message');
    expect(subscriber.of('message')[0]).toEqual({ type: 'message', data: 'for linus', lastEventId: answer.json.id });
    subscriber.close();
  });

  it('403 forbidden_room for a room outside the rooms claim', async () => {
    const token = await sign({ sub: 'ada', rooms: ['lobby'] });
    const answer = await request(hub.url, `/events?room=lobby&room=admin&token=${token}`);
    expect(answer.status).toBe(403);
    expect(answer.json).toEqual({ error: { code: 'forbidden_room', message: 'the token does not allow joining room "admin"' } });
  });

  it('403 forbidden_room for any room when the claim is missing; no room is fine', async () => {
    const token = await sign({ sub: 'ada' });
    const refused = await request(hub.url, `/events?room=lobby&token=${token}`);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden_room');
    const subscriber = await Subscriber.open(`${hub.url}/events?token=${token}`);
    expect(subscriber.identity.userId).toBe('ada');
    subscriber.close();
  });

  it('rooms claim "*" allows any room; "prefix*" allows rooms starting with prefix', async () => {
    const any = await sign({ sub: 'root', rooms: ['*'] });
    const star = await Subscriber.open(`${hub.url}/events?room=anything&room=else&token=${any}`);
    expect(star.identity.userId).toBe('root');
    star.close();
    const team = await sign({ sub: 'member', rooms: ['team-7:*', 'lobby'] });
    const ok = await Subscriber.open(`${hub.url}/events?room=team-7:chat&room=lobby&token=${team}`);
    ok.close();
    const refused = await request(hub.url, `/events?room=team-8:chat&token=${team}`);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden_room');
  });

  it('publish: 401 missing_token without Authorization (a cookie does not count)', async () => {
    const token = await sign({ sub: 'backend', publish: true });
    const answer = await publish(hub.url, { data: 'x' }, { cookie: `ssehub_token=${token}` });
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('missing_token');
  });

  it('publish: 403 publish_forbidden for a valid JWT without "publish": true', async () => {
    for (const claims of [{ sub: 'ada' }, { sub: 'ada', publish: 'yes' }]) {
      const token = await sign(claims);
      const answer = await publish(hub.url, { data: 'x' }, { authorization: `Bearer ${token}` });
      expect(answer.status).toBe(403);
      expect(answer.json.error.code).toBe('publish_forbidden');
    }
  });

  it('publish: 401 token_expired / invalid_token for bad JWTs', async () => {
    const expired = await sign({ sub: 'backend', publish: true, exp: Math.floor(Date.now() / 1000) - 60 });
    const a = await publish(hub.url, { data: 'x' }, { authorization: `Bearer ${expired}` });
    expect([a.status, a.json.error.code]).toEqual([401, 'token_expired']);
    const b = await publish(hub.url, { data: 'x' }, { authorization: 'Bearer nope' });
    expect([b.status, b.json.error.code]).toEqual([401, 'invalid_token']);
  });
});

describe('publish key', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_PUBLISH_KEY: PUBLISH_KEY });
  });
  afterAll(() => hub.close());

  it('401 missing_token without Authorization', async () => {
    const answer = await publish(hub.url, { data: 'x' });
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('missing_token');
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="ssehub"');
  });

  it('401 invalid_token for a wrong key, or a malformed Authorization header', async () => {
    for (const authorization of [`Bearer ${PUBLISH_KEY}x`, 'Bearer wrong', `Basic ${PUBLISH_KEY}`]) {
      const answer = await publish(hub.url, { data: 'x' }, { authorization });
      expect(answer.status).toBe(401);
      expect(answer.json.error.code).toBe(authorization.startsWith('Basic') ? 'missing_token' : 'invalid_token');
    }
  });

  it('202 with the key; subscribing stays open (development identity) without a JWT secret', async () => {
    const subscriber = await Subscriber.open(`${hub.url}/events?user=dev&room=any`);
    expect(subscriber.identity.userId).toBe('dev');
    const answer = await publish(hub.url, { data: 'keyed', rooms: ['any'] }, { authorization: `Bearer ${PUBLISH_KEY}` });
    expect(answer.status).toBe(202);
    await subscriber.waitFor('message');
    expect(subscriber.of('message')[0]?.lastEventId).toBe(answer.json.id);
    subscriber.close();
  });
});

describe('publish key and JWT together', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_PUBLISH_KEY: PUBLISH_KEY, SSEHUB_JWT_SECRET: SECRET });
  });
  afterAll(() => hub.close());

  it('accepts the key or a JWT with the publish claim; refuses a JWT without it', async () => {
    expect((await publish(hub.url, { data: 1 }, { authorization: `Bearer ${PUBLISH_KEY}` })).status).toBe(202);
    const publisher = await sign({ sub: 'svc', publish: true });
    expect((await publish(hub.url, { data: 2 }, { authorization: `Bearer ${publisher}` })).status).toBe(202);
    const reader = await sign({ sub: 'svc' });
    const refused = await publish(hub.url, { data: 3 }, { authorization: `Bearer ${reader}` });
    expect([refused.status, refused.json.error.code]).toEqual([403, 'publish_forbidden']);
  });
});

describe('JWT with a public key (ES256, RS256), issuer and audience', () => {
  it('verifies ES256 tokens from a PEM file and refuses HS256 ones', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-key-'));
    const file = join(dir, 'public.pem');
    writeFileSync(file, await exportSPKI(publicKey));
    const hub = await startServer({ SSEHUB_JWT_PUBLIC_KEY: file, SSEHUB_JWT_ISSUER: 'https://auth.test', SSEHUB_JWT_AUDIENCE: 'ssehub' });
    try {
      const good = await sign({ sub: 'es', iss: 'https://auth.test', aud: 'ssehub' }, privateKey, 'ES256');
      const subscriber = await Subscriber.open(`${hub.url}/events?token=${good}`);
      expect(subscriber.identity.userId).toBe('es');
      subscriber.close();
      const hs = await sign({ sub: 'es', iss: 'https://auth.test', aud: 'ssehub' });
      const refused = await request(hub.url, `/events?token=${hs}`);
      expect([refused.status, refused.json.error.code]).toEqual([401, 'invalid_token']);
      const wrongAudience = await sign({ sub: 'es', iss: 'https://auth.test', aud: 'other' }, privateKey, 'ES256');
      const audience = await request(hub.url, `/events?token=${wrongAudience}`);
      expect([audience.status, audience.json.error.code]).toEqual([401, 'invalid_token']);
      expect(audience.json.error.message).toContain('aud');
      const noIssuer = await sign({ sub: 'es', aud: 'ssehub' }, privateKey, 'ES256');
      expect((await request(hub.url, `/events?token=${noIssuer}`)).status).toBe(401);
    } finally {
      await hub.close();
    }
  });

  it('verifies RS256 tokens from PEM text with literal \\n', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = (await exportSPKI(publicKey)).trim().replace(/\n/g, '\\n');
    const hub = await startServer({ SSEHUB_JWT_PUBLIC_KEY: pem });
    try {
      const token = await sign({ sub: 'rs', publish: true }, privateKey, 'RS256');
      expect((await publish(hub.url, { data: 'x' }, { authorization: `Bearer ${token}` })).status).toBe(202);
    } finally {
      await hub.close();
    }
  });
});
