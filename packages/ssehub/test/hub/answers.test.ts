import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectRequest, createHub, createSseServer, type HubOptions, refuse } from '../../src/index.js';
import { Scope } from './helpers.js';

const scope = new Scope();
afterEach(() => scope.dispose());

type Transport = 'node:http' | 'createSseServer' | 'fetch';

/** A hub reachable over `transport`; `get(path)` answers status, headers and the first bytes of the body. */
async function serveOver(transport: Transport, options: HubOptions) {
  if (transport === 'node:http') {
    const { url } = await scope.serve(options);
    return { get: (path: string, headers?: Record<string, string>) => firstBytes(`${url}${path}`, headers) };
  }
  const hub = createHub({ heartbeatMs: 0, ...options });
  scope.defer(() => hub.close({ timeoutMs: 200 }));
  if (transport === 'fetch') {
    return {
      get: async (path: string, headers?: Record<string, string>) => {
        const response = await hub.fetch(new Request(`http://x${path}`, { headers }));
        const reader = response.body?.getReader();
        const first = await reader?.read();
        await reader?.cancel();
        return {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: new TextDecoder().decode(first?.value ?? new Uint8Array()),
        };
      },
    };
  }
  const server = createSseServer(hub, { path: '/' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { get: (path: string, headers?: Record<string, string>) => firstBytes(`${url}${path}`, headers) };
}

/** Status, headers and the body so far: the whole answer of a refusal, the start of a stream. */
async function firstBytes(url: string, headers?: Record<string, string>) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const reader = response.body?.getReader();
  const first = await reader?.read();
  controller.abort();
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: new TextDecoder().decode(first?.value ?? new Uint8Array()),
  };
}

describe.each<Transport>(['node:http', 'createSseServer', 'fetch'])('answers over %s', (transport) => {
  it('a refusal may carry its own headers and JSON body', async () => {
    const { get } = await serveOver(transport, {
      authenticate: (req: ConnectRequest) =>
        refuse(401, 'no token', {
          headers: { 'www-authenticate': 'Bearer realm="x"', 'access-control-allow-origin': req.header('origin') ?? 'none' },
          body: { error: { code: 'missing_token', message: 'no token' } },
        }),
    });
    const answer = await get('/', { origin: 'https://app.example' });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="x"');
    expect(answer.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body)).toEqual({ error: { code: 'missing_token', message: 'no token' } });
  });

  it('authenticate may add headers to this connection only', async () => {
    const { get } = await serveOver(transport, {
      headers: { 'x-hub': 'all' },
      authenticate: (req: ConnectRequest) => {
        const origin = req.header('origin');
        return origin === undefined ? {} : { headers: { 'access-control-allow-origin': origin, vary: 'Origin' } };
      },
    });
    const cross = await get('/', { origin: 'https://a.example' });
    expect(cross.status).toBe(200);
    expect(cross.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(cross.headers['access-control-allow-origin']).toBe('https://a.example');
    expect(cross.headers.vary).toBe('Origin');
    expect(cross.headers['x-hub']).toBe('all');
    expect(cross.body).toContain('retry: 2000');
    const same = await get('/');
    expect(same.status).toBe(200);
    expect(same.headers['access-control-allow-origin']).toBeUndefined();
    expect(same.headers['x-hub']).toBe('all');
  });
});

describe.each<Transport>(['node:http', 'createSseServer', 'fetch'])('a bad per-connection header over %s', (transport) => {
  it('fails only that connection with a 500, reported to onError, and frees its place', async () => {
    const errors: unknown[] = [];
    const { get } = await serveOver(transport, {
      maxClients: 1,
      onError: (error) => errors.push(error),
      authenticate: (req: ConnectRequest) => (req.query.get('bad') === null ? {} : { headers: { 'x-bad': 'a\r\nb' } }),
    });
    const failed = await get('/?bad=1');
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body)).toEqual({
      error: { code: 'ERR_SSEHUB_REFUSED', status: 500, message: 'the stream could not be opened' },
    });
    expect(errors).toHaveLength(1);
    // The place reserved for the failed connection was given back: maxClients 1 still admits one.
    expect((await get('/')).status).toBe(200);
  });
});

describe.each<Transport>(['node:http', 'createSseServer', 'fetch'])('a refusal with a bad header over %s', (transport) => {
  it('answers 500 instead, reported to onError, never leaving the client hanging', async () => {
    const errors: unknown[] = [];
    const { get } = await serveOver(transport, {
      onError: (error) => errors.push(error),
      authenticate: async () => refuse(401, 'x', { headers: { 'bad name': 'v' } }),
    });
    const answer = await get('/');
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'ERR_SSEHUB_REFUSED', status: 500, message: 'the refusal could not be answered' },
    });
    expect(errors).toHaveLength(1);
    expect((errors[0] as { code?: string }).code).toBe('ERR_INVALID_HTTP_TOKEN');
  });
});

describe('hub headers named in another case', () => {
  it('replace the stream head header rather than repeat it', async () => {
    const { get } = await serveOver('createSseServer', { headers: { 'Content-Type': 'text/event-stream' } });
    const answer = await get('/');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream');
  });
});
