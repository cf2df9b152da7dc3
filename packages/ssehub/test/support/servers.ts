import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A `node:http` server on a free loopback port, closed by `close()` (connections cut). */
export interface TestServer {
  readonly server: http.Server;
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
