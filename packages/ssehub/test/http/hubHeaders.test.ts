import { afterEach, describe, expect, it } from 'vitest';
import { createHub, refuse } from '../../src/index.js';
import { completeOf, getHead, hubOf, RawSocket, Scope, sseServer, streamHeadLines } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

const HEADERS = {
  'access-control-allow-origin': '*',
  'x-custom': 'v',
  connection: 'keep-alive',
  'Content-Length': '5',
  'Transfer-Encoding': 'gzip',
  Date: 'yesterday',
};

describe('hub headers on the fast path', () => {
  it('appear on the stream head; the framing ones do not override the server’s', async () => {
    const hub = hubOf(scope, { headers: HEADERS });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?id=h'));
    await raw.untilBody((text) => text.includes('event: connected'), 'the greeting');
    const head = await raw.head();
    expect(head.lines).toEqual(streamHeadLines(['access-control-allow-origin: *', 'x-custom: v']));
    expect(head.headers.connection).toEqual(['close']);
    expect(head.headers['transfer-encoding']).toEqual(['chunked']);
    expect(head.headers.date).toHaveLength(1);
    expect(head.headers.date?.[0]).not.toBe('yesterday');
    expect(head.headers['content-length']).toBeUndefined();
    // The body is still framed as chunks, whatever the extra headers said.
    expect(raw.body.text).toContain('"clientId":"h"');
  });

  it('appear on a refusal, after its content-type and before its own framing', async () => {
    const hub = hubOf(scope, { headers: HEADERS, authenticate: () => refuse(403, 'no') });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events'));
    await raw.closedPromise();
    const body = '{"error":{"code":"ERR_SSEHUB_REFUSED","status":403,"message":"no"}}';
    const { head, body: received } = completeOf(raw.received);
    expect(head.lines).toEqual([
      'HTTP/1.1 403 Forbidden',
      'content-type: application/json; charset=utf-8',
      'access-control-allow-origin: *',
      'x-custom: v',
      expect.stringMatching(/^date: /),
      `content-length: ${body.length}`,
      'connection: close',
    ]);
    expect(received).toBe(body);
  });

  it('appear on a limit refusal with its retry-after', async () => {
    const hub = hubOf(scope, { headers: { 'access-control-allow-origin': 'https://app.example' }, maxClients: 0 });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events'));
    await raw.closedPromise();
    const { head } = completeOf(raw.received);
    expect(head.lines.slice(0, 4)).toEqual([
      'HTTP/1.1 503 Service Unavailable',
      'content-type: application/json; charset=utf-8',
      'access-control-allow-origin: https://app.example',
      'retry-after: 5',
    ]);
  });

  it('are checked when the hub is created, as node:http checks them', () => {
    expect(() => createHub({ heartbeatMs: 0, headers: { 'bad name': 'x' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_HTTP_TOKEN' }),
    );
    expect(() => createHub({ heartbeatMs: 0, headers: { x: 'a\r\nb' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CHAR' }));
    expect(() => createHub({ heartbeatMs: 0, headers: { x: 'a\nset-cookie: y' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_CHAR' }),
    );
    expect(() => createHub({ heartbeatMs: 0, headers: { '': 'x' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HTTP_TOKEN' }));
  });

  it('are joined by the headers authenticate gives a connection (its values win)', async () => {
    const hub = hubOf(scope, {
      headers: { 'access-control-allow-origin': '*', 'x-custom': 'v' },
      authenticate: (request) => ({ headers: { 'access-control-allow-origin': request.header('origin') ?? 'none', vary: 'origin' } }),
    });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events', { Origin: 'https://a.example' }));
    await raw.untilBody((text) => text.includes('event: connected'), 'the greeting');
    expect((await raw.head()).lines).toEqual(
      streamHeadLines(['access-control-allow-origin: https://a.example', 'x-custom: v', 'vary: origin']),
    );
  });

  it('from authenticate that node:http would refuse: a 500, onError, and the place is given back', async () => {
    const errors: unknown[] = [];
    const hub = hubOf(scope, {
      maxClients: 1,
      headers: { 'x-custom': 'v' },
      authenticate: (request) => (request.query.get('bad') !== null ? { headers: { 'x-bad': 'a\r\nb' } } : {}),
      onError: (error) => errors.push(error),
    });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events?bad=1'));
    await raw.closedPromise();
    const body = '{"error":{"code":"ERR_SSEHUB_REFUSED","status":500,"message":"the stream could not be opened"}}';
    const { head, body: received } = completeOf(raw.received);
    expect(head.lines).toEqual([
      'HTTP/1.1 500 Internal Server Error',
      'content-type: application/json; charset=utf-8',
      'x-custom: v',
      expect.stringMatching(/^date: /),
      `content-length: ${body.length}`,
      'connection: close',
    ]);
    expect(received).toBe(body);
    expect(errors).toEqual([expect.objectContaining({ code: 'ERR_INVALID_CHAR' })]);
    expect(hub.connectionCount()).toBe(0);
    const good = RawSocket.open(scope, port);
    good.write(getHead('/events'));
    expect((await good.head()).status).toBe(200);
  });

  it('of a refusal with its own headers and body are written as given, framing headers excepted', async () => {
    const hub = hubOf(scope, {
      headers: { 'access-control-allow-origin': '*' },
      authenticate: () =>
        refuse(401, 'no token', { headers: { 'www-authenticate': 'Bearer', connection: 'keep-alive' }, body: { code: 'missing_token' } }),
    });
    const { port } = await sseServer(scope, hub);
    const raw = RawSocket.open(scope, port);
    raw.write(getHead('/events'));
    await raw.closedPromise();
    const { head, body } = completeOf(raw.received);
    expect(head.lines).toEqual([
      'HTTP/1.1 401 Unauthorized',
      'content-type: application/json; charset=utf-8',
      'access-control-allow-origin: *',
      'www-authenticate: Bearer',
      expect.stringMatching(/^date: /),
      'content-length: 24',
      'connection: close',
    ]);
    expect(body).toBe('{"code":"missing_token"}');
  });
});
