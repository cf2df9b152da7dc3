import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { type RawAnswer, rawRequest } from './support/raw.js';
import { startServer, type TestServer } from './support/server.js';

// Every request here reaches node:http: ssehub's own socket server answers only a plain
// HTTP/1.1 `GET /events` and hands anything else over with its bytes untouched.

const JSON_BODY = '{"data":1}';

/** A head, CRLF-terminated, from its lines. */
const head = (...lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

function expectRefused(answer: RawAnswer, statusLine: string, code: string, messagePart: string): void {
  expect(answer.statusLine).toBe(statusLine);
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(answer.json).toEqual({ error: { code, message: expect.stringContaining(messagePart) } });
  expect(answer.headers.connection?.toLowerCase()).toBe('close');
  // The server closed the connection: nothing more is read on it.
  expect(answer.closed).toBe(true);
}

describe('request heads node:http would take leniently are refused before routing', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer();
  });
  afterAll(() => hub.close());

  it('a plain HTTP/1.1 request is still answered and kept alive (the control case)', async () => {
    const answer = await rawRequest(hub.url, head('GET /healthz HTTP/1.1', 'Host: x'), 300);
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
    expect(answer.json).toEqual({ status: 'ok' });
    expect(answer.closed).toBe(false);
  });

  it('400 duplicate_header for two Host headers (node:http kept the first), whatever their case', async () => {
    for (const hosts of [
      ['Host: a', 'Host: b'],
      ['host: a', 'HOST: a'],
    ]) {
      for (const target of ['GET /healthz', 'GET /status', 'GET /events']) {
        const answer = await rawRequest(hub.url, head(`${target} HTTP/1.1`, ...hosts));
        expectRefused(answer, 'HTTP/1.1 400 Bad Request', 'duplicate_header', 'Host');
      }
    }
  });

  it('400 duplicate_header for more than one Authorization header (node:http kept the first)', async () => {
    const lines = ['Host: x', 'Authorization: Bearer first', 'Authorization: Bearer second'];
    for (const target of ['GET /status', 'GET /events?user=ada']) {
      expectRefused(
        await rawRequest(hub.url, head(`${target} HTTP/1.1`, ...lines)),
        'HTTP/1.1 400 Bad Request',
        'duplicate_header',
        'Authorization',
      );
    }
    const publish = await rawRequest(
      hub.url,
      head('POST /publish HTTP/1.1', ...lines, 'Content-Type: application/json', `Content-Length: ${JSON_BODY.length}`) + JSON_BODY,
    );
    expectRefused(publish, 'HTTP/1.1 400 Bad Request', 'duplicate_header', 'Authorization');
    expect(hub.server.hub.counters.published).toBe(0);
  });

  it('400 duplicate_header for an Authorization value holding ", ", as ssehub joins repeated ones', async () => {
    // GET /status reaches node:http; GET /events is read by ssehub's own server, which joins
    // repeated headers with ", ": both answer alike.
    for (const target of ['GET /status', 'GET /events']) {
      const answer = await rawRequest(hub.url, head(`${target} HTTP/1.1`, 'Host: x', 'Authorization: Bearer first, Bearer second'));
      expectRefused(answer, 'HTTP/1.1 400 Bad Request', 'duplicate_header', 'Authorization');
    }
  });

  it('a publish key with commas (and no space) still publishes', async () => {
    const key = 'key,with,commas-0123456789';
    const keyed = await startServer({ SSEHUB_PUBLISH_KEY: key });
    try {
      const body = JSON_BODY;
      const answer = await rawRequest(
        keyed.url,
        head(
          'POST /publish HTTP/1.1',
          'Host: x',
          `Authorization: Bearer ${key}`,
          'Content-Type: application/json',
          `Content-Length: ${body.length}`,
        ) + body,
        300,
      );
      expect(answer.statusLine).toBe('HTTP/1.1 202 Accepted');
    } finally {
      await keyed.close();
    }
  });

  it('400 duplicate_header for two Content-Length lines, equal or not (node:http answered a bare 400)', async () => {
    for (const lengths of [
      [JSON_BODY.length, JSON_BODY.length],
      [JSON_BODY.length, JSON_BODY.length + 1],
    ]) {
      const answer = await rawRequest(
        hub.url,
        head('POST /publish HTTP/1.1', 'Host: x', 'Content-Type: application/json', ...lengths.map((n) => `Content-Length: ${n}`)) +
          JSON_BODY,
      );
      expectRefused(answer, 'HTTP/1.1 400 Bad Request', 'duplicate_header', 'Content-Length');
    }
    expect(hub.server.hub.counters.published).toBe(0);
  });

  it('400 duplicate_header for two Transfer-Encoding lines (node:http refused chunked twice, joined gzip + chunked)', async () => {
    const chunked = `${JSON_BODY.length.toString(16)}\r\n${JSON_BODY}\r\n0\r\n\r\n`;
    for (const codings of [
      ['chunked', 'chunked'],
      ['gzip', 'chunked'],
    ]) {
      const answer = await rawRequest(
        hub.url,
        head('POST /publish HTTP/1.1', 'Host: x', 'Content-Type: application/json', ...codings.map((c) => `Transfer-Encoding: ${c}`)) +
          chunked,
      );
      expectRefused(answer, 'HTTP/1.1 400 Bad Request', 'duplicate_header', 'Transfer-Encoding');
    }
    expect(hub.server.hub.counters.published).toBe(0);
  });

  it('501 unsupported_transfer_encoding for any Transfer-Encoding but exactly "chunked"', async () => {
    const chunked = `${JSON_BODY.length.toString(16)}\r\n${JSON_BODY}\r\n0\r\n\r\n`;
    // node:http served "gzip, chunked" as chunked, refused "gzip", "identity" and "chunked, chunked"
    // with a bare 400 (the first two after the request had reached the router).
    const cases: Array<[string, string]> = [
      ['gzip, chunked', chunked],
      ['gzip', JSON_BODY],
      ['identity', JSON_BODY],
      ['chunked, chunked', chunked],
      ['x-custom', JSON_BODY],
    ];
    for (const [coding, body] of cases) {
      const answer = await rawRequest(
        hub.url,
        head('POST /publish HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Transfer-Encoding: ${coding}`) + body,
      );
      expectRefused(answer, 'HTTP/1.1 501 Not Implemented', 'unsupported_transfer_encoding', 'chunked');
    }
    expect(hub.server.hub.counters.published).toBe(0);
  });

  it('"chunked" in any case is fine', async () => {
    const chunked = `${JSON_BODY.length.toString(16)}\r\n${JSON_BODY}\r\n0\r\n\r\n`;
    const answer = await rawRequest(
      hub.url,
      head('POST /publish HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: CHUNKED') + chunked,
      300,
    );
    expect(answer.statusLine).toBe('HTTP/1.1 202 Accepted');
    expect(answer.json.id).toMatch(/-\d+$/);
  });

  it('505 http_version_not_supported for HTTP/2.0 and HTTP/0.9 (node:http served them as if 1.1)', async () => {
    for (const version of ['HTTP/2.0', 'HTTP/0.9']) {
      for (const target of ['GET /healthz', 'GET /events', 'POST /publish']) {
        const answer = await rawRequest(hub.url, head(`${target} ${version}`, 'Host: x'));
        expectRefused(answer, 'HTTP/1.1 505 HTTP Version Not Supported', 'http_version_not_supported', version);
      }
    }
  });

  it('505 http_version_not_supported for a request line without a version (node:http read it as HTTP/0.9 and served it)', async () => {
    const answer = await rawRequest(hub.url, 'GET /status\r\n\r\n');
    expectRefused(answer, 'HTTP/1.1 505 HTTP Version Not Supported', 'http_version_not_supported', 'HTTP/0.9');
  });

  it('505 http_version_not_supported for HTTP/1.2 and HTTP/3.0 (node:http refused them with a bare 400)', async () => {
    for (const version of ['HTTP/1.2', 'HTTP/3.0']) {
      const answer = await rawRequest(hub.url, head(`GET /healthz ${version}`, 'Host: x'));
      expectRefused(answer, 'HTTP/1.1 505 HTTP Version Not Supported', 'http_version_not_supported', version);
    }
  });

  it("other parse errors keep node:http's own bare answer: 431 for a head over 16 KiB, 400 for garbage", async () => {
    const large = await rawRequest(hub.url, head('GET /healthz HTTP/1.1', 'Host: x', `X-Large: ${'a'.repeat(17 * 1024)}`));
    expect([large.statusLine, large.body, large.closed]).toEqual(['HTTP/1.1 431 Request Header Fields Too Large', '', true]);
    const garbage = await rawRequest(hub.url, head('HELLO', 'Host: x'));
    expect([garbage.statusLine, garbage.body, garbage.closed]).toEqual(['HTTP/1.1 400 Bad Request', '', true]);
  });

  it('HTTP/1.0 is still served', async () => {
    const answer = await rawRequest(hub.url, head('GET /healthz HTTP/1.0', 'Host: x'));
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK');
    expect(answer.json).toEqual({ status: 'ok' });
  });

  it('/healthz answers normally after all of these', async () => {
    const answer = await request(hub.url, '/healthz');
    expect([answer.status, answer.json]).toEqual([200, { status: 'ok' }]);
    expect(hub.server.hub.counters.published).toBe(1);
  });
});
