/**
 * A `redis-server` of a test's own, on a free loopback port, that the test may kill (SIGKILL,
 * as a crash) and start again on the same port, empty (no persistence), as a restart that lost
 * its data. Where `redis-server` is missing the Redis suites skip loudly on a developer machine;
 * in CI (`CI=true`) they fail.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

const IN_CI = process.env.CI === 'true';

function redisServerPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const binary = redisServerPath();

/** True where `redis-server` is missing and the suite may skip (never in CI). */
export const skipRedis = binary === undefined && !IN_CI;
if (skipRedis) console.warn('\n*** SKIPPED: the Redis suites need redis-server (apt-get install redis-server); CI runs them. ***\n');

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class RedisServer {
  readonly port: number;
  #process: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  /** Starts a server on a free port (or `port`). */
  static async start(port?: number): Promise<RedisServer> {
    if (binary === undefined) throw new Error('redis-server is not installed: CI must install the Debian package "redis-server"');
    const server = new RedisServer(port ?? (await freePort()));
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null;
  }

  /** Starts it (again), empty, on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('redis-server is already running');
    const child = spawn(
      binary as string,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#process = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await accepts(this.port)) return;
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('redis-server did not start in 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills it without warning (SIGKILL): clients see their connections reset. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || !this.running) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.write('PING\r\n');
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
    });
    socket.once('error', () => resolve(false));
  });
}
