import http from 'node:http';

/** An HTTP answer, read whole. */
export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field and assert each
  readonly json: any;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string or Buffer body; objects are sent as JSON with Content-Type application/json. */
  body?: string | Buffer | object;
}

/** A raw `node:http` request (no fetch niceties): statuses, headers and bodies as sent. */
export function request(base: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Buffer | undefined;
  if (options.body !== undefined && typeof options.body === 'object' && !Buffer.isBuffer(options.body)) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  } else body = options.body as string | Buffer | undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs `body` as JSON to /publish. */
export function publish(base: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return request(base, '/publish', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** An event stream read as raw text, for what an EventSource hides (`retry:`, comments). */
export interface RawStream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text satisfies `predicate`. */
  until(predicate: (text: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the response. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens `GET path` and keeps reading it. Resolves once the response headers are in. */
export function openStream(base: string, path: string, headers: Record<string, string> = {}): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      let received = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        received += chunk;
        for (const wake of waiters) wake();
      });
      const ended = new Promise<void>((done) => {
        res.on('end', done);
        res.on('close', done);
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => received,
        ended,
        until(predicate, timeoutMs = 5000) {
          return new Promise((done, fail) => {
            const check = (): void => {
              if (!predicate(received)) return;
              clearTimeout(timer);
              waiters.delete(check);
              done();
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out; received: ${JSON.stringify(received)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
