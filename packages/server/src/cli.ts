#!/usr/bin/env node
/**
 * The `ssehub` command: reads settings from flags and environment variables, starts a server,
 * and shuts it down gracefully on SIGTERM or SIGINT.
 *
 * Exit codes: 0 after a graceful shutdown (or --help/--version), 1 when the server fails to
 * start or to stop in time, 2 for invalid settings.
 * @module
 */

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { canSetTcpUserTimeout } from 'ssehub';
import { ConfigError, loadConfig, type RawSettings, SETTINGS, type SettingName, type SettingSpec } from './config.js';
import { createServer } from './createServer.js';
import { helpText } from './help.js';
import { VERSION } from './packageInfo.js';

/** Hard cap on a graceful shutdown, in ms: past it the process exits 1. */
export const SHUTDOWN_HARD_CAP_MS = 10_000;
/** Time streams get to end during shutdown before they are cut, in ms. */
const STREAM_CLOSE_TIMEOUT_MS = 5_000;

const specs = Object.entries(SETTINGS) as [SettingName, SettingSpec][];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Runs the command with `argv` (without node and the script) and `env`. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(specs.map(([, spec]) => [spec.flag, { type: 'string' as const }]));
    values = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`ssehub: ${(error as Error).message}\nTry 'ssehub --help'.\n`);
    process.exit(2);
  }
  if (values.help === true) {
    process.stdout.write(helpText());
    process.exit(0);
  }
  if (values.version === true) {
    process.stdout.write(`${VERSION}\n`);
    process.exit(0);
  }

  const flags: RawSettings = {};
  for (const [name, spec] of specs) {
    const value = values[spec.flag];
    if (typeof value === 'string') flags[name] = value;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env, flags });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ssehub: invalid configuration, not starting:\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    process.exit(2);
  }

  // Synchronous writes: nothing is lost when the process exits right after a line.
  const logger = pino(
    {
      level: config.logLevel,
      base: { service: 'ssehub', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
  const server = createServer(config, { logger });
  const log = server.context.logger;
  let address: Awaited<ReturnType<typeof server.listen>>;
  try {
    address = await server.listen();
  } catch (error) {
    log.fatal({ err: error, host: config.host, port: config.port }, 'ssehub could not listen');
    process.exit(1);
  }
  const auth = server.context.auth;
  log.info(
    {
      url: address.url,
      host: address.host,
      port: address.port,
      version: VERSION,
      subscribe: auth.subscribersAuthenticated ? 'jwt' : 'open',
      publish: auth.publishersAuthenticated ? 'authenticated' : 'open',
    },
    'ssehub listening',
  );
  if (config.deadPeerTimeoutMs > 0) {
    void canSetTcpUserTimeout().then((available) => {
      if (available) return;
      log.warn(
        { deadPeerTimeoutMs: config.deadPeerTimeoutMs },
        'TCP_USER_TIMEOUT cannot be set (install the optional net-keepalive package): a subscriber whose network vanishes while data is in flight is dropped only when the OS gives up retransmitting',
      );
    });
  }
  if (!auth.publishersAuthenticated && !isLoopback(config.host)) {
    log.warn({ host: config.host }, 'anyone who can reach this address can publish: set SSEHUB_PUBLISH_KEY or SSEHUB_JWT_SECRET');
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'ssehub: second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    const hardCap = setTimeout(() => {
      log.error({ signal, ms: Date.now() - started }, 'ssehub: shutdown took too long, exiting');
      process.exit(1);
    }, SHUTDOWN_HARD_CAP_MS);
    hardCap.unref();
    server.close({ timeoutMs: STREAM_CLOSE_TIMEOUT_MS }).then(
      () => {
        log.info({ signal, ms: Date.now() - started }, 'ssehub stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error, signal }, 'ssehub: shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2), process.env).catch((error: unknown) => {
  process.stderr.write(`ssehub: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
