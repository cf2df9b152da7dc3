import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SETTINGS } from '../src/config.js';

function problems(env: Record<string, string>, flags = {}): readonly string[] {
  try {
    loadConfig({ env, flags });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({ env: {} })).toEqual({
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'info',
      redis: undefined,
      jwt: undefined,
      publishKey: undefined,
      corsOrigins: undefined,
      heartbeatMs: 15000,
      deadPeerTimeoutMs: 30000,
      historySize: 10000,
      maxClients: 10000,
      maxClientsPerUser: 0,
      maxBodyBytes: 1048576,
      maxBatch: 100,
      maxTargets: 1000,
      rateLimit: 0,
      rateLimitBurst: 1,
    });
  });

  it('reads every setting from its variable; flags win; empty variables are unset', () => {
    const config = loadConfig({
      env: {
        PORT: '9000',
        HOST: '0.0.0.0',
        LOG_LEVEL: 'DEBUG',
        SSEHUB_PUBLISH_KEY: 'k'.repeat(16),
        SSEHUB_CORS_ORIGINS: 'https://a.example, http://localhost:3000',
        SSEHUB_HEARTBEAT_MS: '0',
        SSEHUB_DEAD_PEER_TIMEOUT_MS: '0',
        SSEHUB_HISTORY_SIZE: '0',
        SSEHUB_MAX_CLIENTS: '0',
        SSEHUB_MAX_CLIENTS_PER_USER: '3',
        SSEHUB_MAX_BODY_BYTES: '2048',
        SSEHUB_MAX_BATCH: '7',
        SSEHUB_MAX_TARGETS: '50',
        SSEHUB_RATE_LIMIT: '2.5',
        SSEHUB_JWT_SECRET: '',
      },
      flags: { port: '9001', maxBatch: '8', maxTargets: '60' },
    });
    expect(config).toMatchObject({
      port: 9001,
      host: '0.0.0.0',
      logLevel: 'debug',
      jwt: undefined,
      publishKey: 'kkkkkkkkkkkkkkkk',
      corsOrigins: ['https://a.example', 'http://localhost:3000'],
      heartbeatMs: 0,
      deadPeerTimeoutMs: 0,
      historySize: 0,
      maxClients: 0,
      maxClientsPerUser: 3,
      maxBodyBytes: 2048,
      maxBatch: 8,
      maxTargets: 60,
      rateLimit: 2.5,
      rateLimitBurst: 5,
    });
    expect(loadConfig({ env: { SSEHUB_CORS_ORIGINS: '*' } }).corsOrigins).toBe('*');
  });

  it('names the setting in every error, with its flag', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ PORT: 'http' }, 'PORT (--port): must be a whole number'],
      [{ PORT: '70000' }, 'PORT (--port): must be in 0..65535, got 70000'],
      [{ HOST: 'not a host' }, 'HOST (--host): must be an IP address or a host name'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL (--log-level): must be one of fatal, error, warn, info, debug, trace, silent'],
      [{ SSEHUB_JWT_SECRET: 'short' }, 'SSEHUB_JWT_SECRET (--jwt-secret): must be at least 32 bytes long'],
      [
        { SSEHUB_JWT_PUBLIC_KEY: '/nonexistent/key.pem' },
        'SSEHUB_JWT_PUBLIC_KEY (--jwt-public-key): is neither PEM text nor a readable file',
      ],
      [{ SSEHUB_JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }, 'is not a valid PEM public key'],
      [{ SSEHUB_JWT_ISSUER: 'https://auth' }, 'SSEHUB_JWT_ISSUER (--jwt-issuer): needs SSEHUB_JWT_SECRET or SSEHUB_JWT_PUBLIC_KEY'],
      [{ SSEHUB_PUBLISH_KEY: 'short' }, 'SSEHUB_PUBLISH_KEY (--publish-key): must be at least 16 characters long'],
      [
        { SSEHUB_CORS_ORIGINS: 'https://a.example/path' },
        'SSEHUB_CORS_ORIGINS (--cors-origins): "https://a.example/path" is not an origin',
      ],
      [{ SSEHUB_CORS_ORIGINS: '*,https://a.example' }, 'SSEHUB_CORS_ORIGINS (--cors-origins): "*" cannot be combined'],
      [{ SSEHUB_CORS_ORIGINS: ' , ' }, 'SSEHUB_CORS_ORIGINS (--cors-origins): must list at least one origin'],
      [{ SSEHUB_HEARTBEAT_MS: '10' }, 'SSEHUB_HEARTBEAT_MS (--heartbeat-ms): must be in 0 or 1000..3600000, got 10'],
      [
        { SSEHUB_DEAD_PEER_TIMEOUT_MS: '1000' },
        'SSEHUB_DEAD_PEER_TIMEOUT_MS (--dead-peer-timeout-ms): must be in 0 or 2000..3600000, got 1000',
      ],
      [{ SSEHUB_HISTORY_SIZE: '-1' }, 'SSEHUB_HISTORY_SIZE (--history-size): must be a whole number'],
      [{ SSEHUB_MAX_CLIENTS: '1.5' }, 'SSEHUB_MAX_CLIENTS (--max-clients): must be a whole number'],
      [{ SSEHUB_MAX_CLIENTS_PER_USER: 'x' }, 'SSEHUB_MAX_CLIENTS_PER_USER (--max-clients-per-user): must be a whole number'],
      [{ SSEHUB_MAX_BODY_BYTES: '0' }, 'SSEHUB_MAX_BODY_BYTES (--max-body-bytes): must be in 1..67108864, got 0'],
      [{ SSEHUB_MAX_BATCH: '10001' }, 'SSEHUB_MAX_BATCH (--max-batch): must be in 1..10000, got 10001'],
      [{ SSEHUB_MAX_TARGETS: '0' }, 'SSEHUB_MAX_TARGETS (--max-targets): must be in 1..100000, got 0'],
      [{ SSEHUB_MAX_TARGETS: '100001' }, 'SSEHUB_MAX_TARGETS (--max-targets): must be in 1..100000, got 100001'],
      [{ SSEHUB_RATE_LIMIT: 'fast' }, 'SSEHUB_RATE_LIMIT (--rate-limit): must be a number of requests per second'],
      [{ SSEHUB_RATE_LIMIT_BURST: '0' }, 'SSEHUB_RATE_LIMIT_BURST (--rate-limit-burst): must be in 1..1000000, got 0'],
    ];
    for (const [env, message] of cases) {
      const found = problems(env);
      expect(found, JSON.stringify(env)).toHaveLength(1);
      expect(found[0]).toContain(message);
    }
  });

  it('reports every wrong setting at once and never echoes a secret', () => {
    const found = problems({ PORT: 'x', SSEHUB_MAX_BATCH: '0', SSEHUB_JWT_SECRET: 'hunter2', SSEHUB_PUBLISH_KEY: 'p4ss' });
    expect(found.map((problem) => problem.split(' ')[0])).toEqual(['PORT', 'SSEHUB_JWT_SECRET', 'SSEHUB_PUBLISH_KEY', 'SSEHUB_MAX_BATCH']);
    expect(found.join('\n')).not.toMatch(/hunter2|p4ss/);
  });

  it('reads the Redis settings, and validates them', () => {
    expect(loadConfig({ env: { REDIS_URL: 'redis://user:pw@10.0.0.1:6380/2' } }).redis).toEqual({
      url: 'redis://user:pw@10.0.0.1:6380/2',
      prefix: 'ssehub',
      mode: 'log',
      presenceTtlMs: 5000,
    });
    expect(
      loadConfig({
        env: { REDIS_URL: 'rediss://cache.example:6379', SSEHUB_REDIS_PREFIX: 'shop:eu', SSEHUB_REDIS_MODE: 'PubSub' },
        flags: { presenceTtlMs: '2000' },
      }).redis,
    ).toEqual({ url: 'rediss://cache.example:6379', prefix: 'shop:eu', mode: 'pubsub', presenceTtlMs: 2000 });
    expect(problems({ REDIS_URL: 'http://localhost:6379' })[0]).toBe(
      'REDIS_URL (--redis-url): must start with redis:// or rediss://, got http://',
    );
    expect(problems({ REDIS_URL: 'localhost:6379' })[0]).toMatch(/^REDIS_URL \(--redis-url\): must (start with redis|be a URL)/);
    expect(problems({ REDIS_URL: 'redis://x', SSEHUB_REDIS_MODE: 'stream' })[0]).toBe(
      'SSEHUB_REDIS_MODE (--redis-mode): must be log or pubsub, got "stream"',
    );
    expect(problems({ REDIS_URL: 'redis://x', SSEHUB_REDIS_PREFIX: 'a b' })[0]).toMatch(
      /^SSEHUB_REDIS_PREFIX \(--redis-prefix\): must be 1 to 100/,
    );
    expect(problems({ SSEHUB_REDIS_PREFIX: 'shop' })[0]).toBe('SSEHUB_REDIS_PREFIX (--redis-prefix): needs REDIS_URL (--redis-url)');
    expect(problems({ REDIS_URL: 'redis://x', SSEHUB_PRESENCE_TTL_MS: '1000' })[0]).toBe(
      'SSEHUB_PRESENCE_TTL_MS (--presence-ttl-ms): must be in 2000..600000, got 1000',
    );
  });

  it('refuses a JWT secret together with a public key, and private keys', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const both = problems({ SSEHUB_JWT_SECRET: 's'.repeat(32), SSEHUB_JWT_PUBLIC_KEY: pem });
    expect(both[0]).toContain('SSEHUB_JWT_PUBLIC_KEY (--jwt-public-key): cannot be combined with SSEHUB_JWT_SECRET');
    const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(problems({ SSEHUB_JWT_PUBLIC_KEY: priv })[0]).toContain('must be a public key');
    expect(loadConfig({ env: { SSEHUB_JWT_PUBLIC_KEY: pem } }).jwt?.algorithms).toEqual(['ES256']);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(problems({ SSEHUB_JWT_PUBLIC_KEY: p384 })[0]).toContain('must be an RSA key (RS256) or an EC P-256 key (ES256)');
  });

  it('every setting has a variable and a flag, all distinct', () => {
    const specs = Object.values(SETTINGS);
    expect(new Set(specs.map((spec) => spec.env)).size).toBe(specs.length);
    expect(new Set(specs.map((spec) => spec.flag)).size).toBe(specs.length);
  });
});
