import http from 'node:http';

/** The answer to one `POST /publish`. */
export interface PublishAnswer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field and assert each
  readonly json: any;
}

/** `POST /publish` over a few kept-alive connections, for tests that publish thousands of times. */
export class Publisher {
  readonly #base: string;
  readonly #agent: http.Agent;

  constructor(base: string, connections = 4) {
    this.#base = base;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  }

  publish(body: unknown): Promise<PublishAnswer> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.#base}/publish`, {
        method: 'POST',
        agent: this.#agent,
        headers: { 'content-type': 'application/json', 'content-length': String(payload.byteLength) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      });
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
