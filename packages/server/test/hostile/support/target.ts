/**
 * The server under attack: the real server, in-process on a free loopback port, in one of the
 * two modes it runs in, with the credentials a legitimate client of that mode holds.
 */
import type { ServerOptions, SsehubServer } from '../../../src/createServer.js';
import { SECRET, sign } from '../../support/jwt.js';
import { startServer } from '../../support/server.js';

/** `development`: no credentials at all. `production`: JWT subscribers, keyed publishers. */
export type Mode = 'development' | 'production';

export const MODES: readonly Mode[] = ['development', 'production'];

/** The publish key of production mode. */
export const PUBLISH_KEY = 'hostile-suite-publish-key-0123456789';

export interface HostileTarget {
  readonly mode: Mode;
  readonly url: string;
  readonly port: number;
  readonly server: SsehubServer;
  /** Header lines, each ending with CRLF, that let a request publish: none in development. */
  readonly publishAuth: string;
  /** The same, as node:http request headers. */
  readonly publishHeaders: Readonly<Record<string, string>>;
  /** Header lines, each ending with CRLF, that let a request open a stream (a JWT in production). */
  readonly streamAuth: string;
  /** A query string (without `?`) that admits a stream: `user=…` or `token=…`. */
  readonly streamQuery: string;
  /** TCP connections the server holds now, streams and handed-over connections included. */
  openConnections(): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link startTarget}: the time limits, small enough for a test to see them act. */
export interface TargetOptions extends Pick<ServerOptions, 'headersTimeoutMs' | 'requestTimeoutMs'> {
  /** Further settings, as environment variables. */
  readonly env?: Record<string, string>;
}

export async function startTarget(mode: Mode, options: TargetOptions = {}): Promise<HostileTarget> {
  const production = mode === 'production';
  const env: Record<string, string> = production ? { SSEHUB_JWT_SECRET: SECRET, SSEHUB_PUBLISH_KEY: PUBLISH_KEY } : {};
  const running = await startServer(
    { ...env, ...options.env },
    {
      ...(options.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: options.headersTimeoutMs }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    },
  );
  const token = production ? await sign({ sub: 'attacker', rooms: ['*'] }) : undefined;
  const port = Number(new URL(running.url).port);
  return {
    mode,
    url: running.url,
    port,
    server: running.server,
    publishAuth: production ? `Authorization: Bearer ${PUBLISH_KEY}\r\n` : '',
    publishHeaders: production ? { authorization: `Bearer ${PUBLISH_KEY}` } : {},
    streamAuth: token === undefined ? '' : `Authorization: Bearer ${token}\r\n`,
    streamQuery: token === undefined ? 'user=attacker' : `token=${token}`,
    openConnections: () =>
      new Promise((resolve, reject) => running.server.server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    close: () => running.close(),
  };
}
