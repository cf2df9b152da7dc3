import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createServer, type ServerOptions, type SsehubServer } from '../../src/createServer.js';

/** A server running in-process on a free loopback port. */
export interface TestServer {
  readonly server: SsehubServer;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a server configured by environment variables, exactly as the CLI would read them. */
export async function startServer(env: Record<string, string> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const config = loadConfig({ env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env } });
  const server = createServer(config, { logger: pino({ level: 'silent' }), ...options });
  const address = await server.listen();
  return {
    server,
    url: address.url,
    async close() {
      await server.close({ timeoutMs: 1000 });
    },
  };
}
