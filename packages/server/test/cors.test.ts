import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, publish, request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';

const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

const preflight = (origin: string, method: string, headers: string) => ({
  origin,
  'access-control-request-method': method,
  'access-control-request-headers': headers,
});

describe('CORS with a list of origins', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer({ SSEHUB_CORS_ORIGINS: `${APP}, http://localhost:3000` });
  });
  afterAll(() => hub.close());

  it('answers a /publish preflight from a listed origin with credentials, methods and headers', async () => {
    const answer = await request(hub.url, '/publish', {
      method: 'OPTIONS',
      headers: preflight(APP, 'POST', 'authorization, content-type'),
    });
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'OPTIONS, POST',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
  });

  it('refuses a preflight from another origin with 403 origin_not_allowed', async () => {
    const answer = await request(hub.url, '/publish', { method: 'OPTIONS', headers: preflight(OTHER, 'POST', 'content-type') });
    expect(answer.status).toBe(403);
    expect(answer.json.error.code).toBe('origin_not_allowed');
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a plain OPTIONS (not a preflight) with 204 and Allow', async () => {
    const answer = await request(hub.url, '/publish', { method: 'OPTIONS' });
    expect([answer.status, answer.headers.allow]).toEqual([204, 'OPTIONS, POST']);
  });

  it('puts the CORS headers on publish answers, errors included, for listed origins only', async () => {
    const ok = await publish(hub.url, { data: 1 }, { origin: APP });
    expect(ok.status).toBe(202);
    expect(ok.headers['access-control-allow-origin']).toBe(APP);
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    expect(ok.headers['access-control-expose-headers']).toBe('Retry-After, WWW-Authenticate');
    expect(ok.headers.vary).toBe('Origin');
    const bad = await publish(hub.url, { nope: 1 }, { origin: APP });
    expect(bad.status).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe(APP);
    const other = await publish(hub.url, { data: 1 }, { origin: OTHER });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.headers.vary).toBe('Origin');
  });

  it('puts the CORS headers on the event stream and answers its preflight', async () => {
    const stream = await openStream(hub.url, '/events', { origin: 'http://localhost:3000' });
    expect(stream.status).toBe(200);
    expect(stream.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(stream.headers['access-control-allow-credentials']).toBe('true');
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    stream.close();
    const answer = await request(hub.url, '/events', { method: 'OPTIONS', headers: preflight(APP, 'GET', 'authorization, last-event-id') });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-methods']).toBe('OPTIONS, GET');
    expect(answer.headers['access-control-allow-headers']).toBe('Authorization, Last-Event-ID, Cache-Control');
  });
});

describe('CORS with *', () => {
  it('allows any origin, never with credentials', async () => {
    const hub = await startServer({ SSEHUB_CORS_ORIGINS: '*' });
    try {
      const answer = await request(hub.url, '/publish', { method: 'OPTIONS', headers: preflight(OTHER, 'POST', 'content-type') });
      expect(answer.status).toBe(204);
      expect(answer.headers['access-control-allow-origin']).toBe('*');
      expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
      const published = await publish(hub.url, { data: 1 }, { origin: OTHER });
      expect(published.headers['access-control-allow-origin']).toBe('*');
      expect(published.headers['access-control-allow-credentials']).toBeUndefined();
    } finally {
      await hub.close();
    }
  });
});

describe('without SSEHUB_CORS_ORIGINS', () => {
  it('sends no CORS headers and refuses preflights', async () => {
    const hub = await startServer();
    try {
      const published = await publish(hub.url, { data: 1 }, { origin: APP });
      expect(published.status).toBe(202);
      expect(published.headers['access-control-allow-origin']).toBeUndefined();
      const answer = await request(hub.url, '/publish', { method: 'OPTIONS', headers: preflight(APP, 'POST', 'content-type') });
      expect([answer.status, answer.json.error.code]).toEqual([403, 'origin_not_allowed']);
    } finally {
      await hub.close();
    }
  });
});
