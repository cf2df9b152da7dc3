import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';

describe('static pages of the package (public/)', () => {
  let hub: TestServer;

  beforeAll(async () => {
    hub = await startServer();
  });
  afterAll(() => hub.close());

  it('GET / serves public/index.html and GET /dashboard public/dashboard.html', async () => {
    for (const path of ['/', '/dashboard']) {
      const answer = await request(hub.url, path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.text.toLowerCase()).toContain('<!doctype html>');
    }
  });
});

describe('static files and traversal', () => {
  let hub: TestServer;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ssehub-public-'));
    const pub = join(root, 'public');
    mkdirSync(join(pub, 'assets', 'lib'), { recursive: true });
    writeFileSync(join(pub, 'index.html'), '<!doctype html><title>index</title>');
    writeFileSync(join(pub, 'dashboard.html'), '<!doctype html><title>dashboard</title>');
    writeFileSync(join(pub, 'assets', 'app.js'), 'console.log("app");\n');
    writeFileSync(join(pub, 'assets', 'style.css'), 'body { color: red; }\n');
    writeFileSync(join(pub, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(pub, 'assets', 'data.bin'), Buffer.from([1, 2, 3]));
    writeFileSync(join(pub, 'assets', 'lib', 'util.mjs'), 'export const x = 1;\n');
    writeFileSync(join(pub, 'assets', '.env'), 'HIDDEN=1');
    writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET');
    writeFileSync(join(pub, 'private.txt'), 'PRIVATE');
    symlinkSync(join(root, 'secret.txt'), join(pub, 'assets', 'escape.txt'));
    hub = await startServer({}, { publicDir: pub });
  });
  afterAll(() => hub.close());

  it('serves assets with their content types', async () => {
    const cases: Array<[string, string, string]> = [
      ['/assets/app.js', 'text/javascript; charset=utf-8', 'console.log("app");\n'],
      ['/assets/style.css', 'text/css; charset=utf-8', 'body { color: red; }\n'],
      ['/assets/logo.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
      ['/assets/lib/util.mjs', 'text/javascript; charset=utf-8', 'export const x = 1;\n'],
      ['/assets/data.bin', 'application/octet-stream', '\u0001\u0002\u0003'],
    ];
    for (const [path, type, body] of cases) {
      const answer = await request(hub.url, path);
      expect([answer.status, answer.headers['content-type'], answer.text]).toEqual([200, type, body]);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    }
    expect((await request(hub.url, '/')).text).toBe('<!doctype html><title>index</title>');
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await request(hub.url, '/assets/app.js');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await request(hub.url, '/assets/app.js', { headers: { 'if-none-match': etag } });
    expect([again.status, again.text]).toEqual([304, '']);
    const head = await request(hub.url, '/assets/app.js', { method: 'HEAD' });
    expect([head.status, head.text, head.headers['content-length']]).toEqual([200, '', first.headers['content-length']]);
  });

  it('refuses every path out of assets/ with 404 and never leaks the file', async () => {
    const attempts = [
      '/assets/../private.txt',
      '/assets/../../secret.txt',
      '/assets/..%2fprivate.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/private.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/..%5cprivate.txt',
      '/assets/lib/..%2f..%2fprivate.txt',
      '/assets/%252e%252e%252fprivate.txt',
      '/assets/.env',
      '/assets/lib%00.js',
      '/assets/escape.txt',
      '/assets//etc/passwd',
      `/assets/${encodeURIComponent('/etc/passwd')}`,
      '/assets/%E0%A4%A',
      '/assets/',
      '/assets/lib',
      '/private.txt',
    ];
    for (const path of attempts) {
      const answer = await request(hub.url, path);
      expect({ path, status: answer.status, code: answer.json?.error?.code }).toEqual({ path, status: 404, code: 'not_found' });
      expect(answer.text).not.toMatch(/TOP-SECRET|PRIVATE|HIDDEN|root:/);
    }
  });
});
