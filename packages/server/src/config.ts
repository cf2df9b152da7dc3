/**
 * The configuration of the `ssehub` command: one table of settings (each an environment
 * variable and a CLI flag), one zod schema that turns their raw strings into a typed
 * {@link Config}, and error messages that name the setting that is wrong.
 * @module
 */

import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A log level accepted by `LOG_LEVEL`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One setting: where it is read from and what `--help` says about it. */
export interface SettingSpec {
  /** Environment variable. */
  readonly env: string;
  /** CLI flag, without the leading dashes. */
  readonly flag: string;
  /** Placeholder shown in `--help`. */
  readonly arg: string;
  /** Default, as shown in `--help`. */
  readonly defaultText: string;
  readonly description: string;
  /** Secrets are never echoed back in error messages. */
  readonly secret?: boolean;
}

/** Every setting, keyed by its name in the raw input. The order is the order of `--help`. */
export const SETTINGS = {
  port: { env: 'PORT', flag: 'port', arg: '<port>', defaultText: '8080', description: 'TCP port to listen on (0 picks a free one)' },
  host: { env: 'HOST', flag: 'host', arg: '<host>', defaultText: '127.0.0.1', description: 'interface to listen on (0.0.0.0 for all)' },
  logLevel: {
    env: 'LOG_LEVEL',
    flag: 'log-level',
    arg: '<level>',
    defaultText: 'info',
    description: `JSON log level: ${LOG_LEVELS.join(', ')}`,
  },
  redisUrl: {
    env: 'REDIS_URL',
    flag: 'redis-url',
    arg: '<url>',
    defaultText: '(in memory)',
    description: 'Redis for several hub processes: redis://[user:pass@]host:port[/db], rediss:// for TLS',
    secret: true,
  },
  redisPrefix: {
    env: 'SSEHUB_REDIS_PREFIX',
    flag: 'redis-prefix',
    arg: '<prefix>',
    defaultText: 'ssehub',
    description: 'prefix of every Redis key: hubs with the same prefix act as one (A-Z a-z 0-9 _ . : -)',
  },
  redisMode: {
    env: 'SSEHUB_REDIS_MODE',
    flag: 'redis-mode',
    arg: '<mode>',
    defaultText: 'log',
    description: 'log: an ordered log in Redis, resume on any process; pubsub: lighter, no resume across processes',
  },
  presenceTtlMs: {
    env: 'SSEHUB_PRESENCE_TTL_MS',
    flag: 'presence-ttl-ms',
    arg: '<ms>',
    defaultText: '5000',
    description: 'with Redis: a process that stops refreshing its counts (killed) leaves them after this long (2000..600000)',
  },
  jwtSecret: {
    env: 'SSEHUB_JWT_SECRET',
    flag: 'jwt-secret',
    arg: '<secret>',
    defaultText: '(none)',
    description: 'HS256 secret (32+ chars) verifying subscriber and publisher JWTs',
    secret: true,
  },
  jwtPublicKey: {
    env: 'SSEHUB_JWT_PUBLIC_KEY',
    flag: 'jwt-public-key',
    arg: '<pem|file>',
    defaultText: '(none)',
    description: 'RSA (RS256) or P-256 (ES256) public key, PEM text or a path to a PEM file',
  },
  jwtIssuer: {
    env: 'SSEHUB_JWT_ISSUER',
    flag: 'jwt-issuer',
    arg: '<iss>',
    defaultText: '(not checked)',
    description: 'required `iss` claim of JWTs',
  },
  jwtAudience: {
    env: 'SSEHUB_JWT_AUDIENCE',
    flag: 'jwt-audience',
    arg: '<aud>',
    defaultText: '(not checked)',
    description: 'required `aud` claim of JWTs',
  },
  publishKey: {
    env: 'SSEHUB_PUBLISH_KEY',
    flag: 'publish-key',
    arg: '<key>',
    defaultText: '(none)',
    description: 'shared key (16+ chars) for POST /publish as `Authorization: Bearer <key>`',
    secret: true,
  },
  corsOrigins: {
    env: 'SSEHUB_CORS_ORIGINS',
    flag: 'cors-origins',
    arg: '<origins>',
    defaultText: '(no CORS)',
    description: 'origins allowed to call /events and /publish: comma list, or * (no credentials)',
  },
  heartbeatMs: {
    env: 'SSEHUB_HEARTBEAT_MS',
    flag: 'heartbeat-ms',
    arg: '<ms>',
    defaultText: '15000',
    description: 'keep-alive comment interval on idle streams, 0 = off (0, or 1000..3600000)',
  },
  deadPeerTimeoutMs: {
    env: 'SSEHUB_DEAD_PEER_TIMEOUT_MS',
    flag: 'dead-peer-timeout-ms',
    arg: '<ms>',
    defaultText: '30000',
    description: 'drop a subscriber whose network vanished (no FIN) after this long, 0 = OS default (0, or 2000..3600000)',
  },
  historySize: {
    env: 'SSEHUB_HISTORY_SIZE',
    flag: 'history-size',
    arg: '<n>',
    defaultText: '10000',
    description: 'events kept for resume with Last-Event-ID, 0 = none (0..1000000)',
  },
  maxClients: {
    env: 'SSEHUB_MAX_CLIENTS',
    flag: 'max-clients',
    arg: '<n>',
    defaultText: '10000',
    description: 'most event streams at once (503 past it), 0 = unlimited',
  },
  maxClientsPerUser: {
    env: 'SSEHUB_MAX_CLIENTS_PER_USER',
    flag: 'max-clients-per-user',
    arg: '<n>',
    defaultText: '0',
    description: 'most event streams of one user (429 past it), 0 = unlimited',
  },
  maxBodyBytes: {
    env: 'SSEHUB_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    arg: '<bytes>',
    defaultText: '1048576',
    description: 'largest POST /publish body (413 past it), 1..67108864',
  },
  maxBatch: {
    env: 'SSEHUB_MAX_BATCH',
    flag: 'max-batch',
    arg: '<n>',
    defaultText: '100',
    description: 'most events in one POST /publish batch, 1..10000',
  },
  maxTargets: {
    env: 'SSEHUB_MAX_TARGETS',
    flag: 'max-targets',
    arg: '<n>',
    defaultText: '1000',
    description: 'most names in each of rooms, users and clients of a published event, 1..100000',
  },
  rateLimit: {
    env: 'SSEHUB_RATE_LIMIT',
    flag: 'rate-limit',
    arg: '<per-second>',
    defaultText: '0',
    description: 'POST /publish requests per second per key or IP, 0 = off',
  },
  rateLimitBurst: {
    env: 'SSEHUB_RATE_LIMIT_BURST',
    flag: 'rate-limit-burst',
    arg: '<n>',
    defaultText: '2 × rate',
    description: 'publish requests allowed in a burst (token bucket size), 1..1000000',
  },
} as const satisfies Record<string, SettingSpec>;

/** The name of a setting in {@link SETTINGS}. */
export type SettingName = keyof typeof SETTINGS;

/** Raw setting values, as strings, before validation. */
export type RawSettings = Partial<Record<SettingName, string | undefined>>;

/** How JWTs are verified. */
export interface JwtConfig {
  /** The HS256 secret bytes, or the public key. */
  readonly key: Uint8Array | KeyObject;
  readonly algorithms: readonly string[];
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
}

/** The validated configuration of a server. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** Redis for several processes, or `undefined` for one process in memory. */
  readonly redis:
    | { readonly url: string; readonly prefix: string; readonly mode: 'log' | 'pubsub'; readonly presenceTtlMs: number }
    | undefined;
  /** JWT verification, when a secret or a public key is set; otherwise development mode. */
  readonly jwt: JwtConfig | undefined;
  readonly publishKey: string | undefined;
  /** `'*'`, a list of exact origins, or `undefined` for no CORS headers at all. */
  readonly corsOrigins: '*' | readonly string[] | undefined;
  readonly heartbeatMs: number;
  /** 0 leaves sockets to the operating system's defaults. */
  readonly deadPeerTimeoutMs: number;
  readonly historySize: number;
  /** 0 means unlimited. */
  readonly maxClients: number;
  /** 0 means unlimited. */
  readonly maxClientsPerUser: number;
  readonly maxBodyBytes: number;
  readonly maxBatch: number;
  /** Most names in each target list (`rooms`, `users`, `clients`) of a published event. */
  readonly maxTargets: number;
  /** Publish requests per second per key or IP; 0 turns rate limiting off. */
  readonly rateLimit: number;
  readonly rateLimitBurst: number;
}

/** Thrown by {@link loadConfig}: one message per wrong setting, each naming it. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

// ── Field parsers ──────────────────────────────────────────────────────────────────────

type Ctx = z.core.$RefinementCtx<string | undefined>;

function fail(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

/** An integer setting in [min, max], or `allowZero` for 0 as "off/unlimited". */
function integer(defaultValue: number, min: number, max: number, allowZero = false) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): number => {
      if (raw === undefined) return defaultValue;
      const text = raw.trim();
      const range = allowZero && min > 1 ? `0 or ${min}..${max}` : `${allowZero ? 0 : min}..${max}`;
      if (!/^\d+$/.test(text)) return fail(ctx, `must be a whole number (${range}), got "${raw}"`);
      const value = Number(text);
      if (allowZero && value === 0) return 0;
      if (value < min || value > max) return fail(ctx, `must be in ${range}, got ${value}`);
      return value;
    });
}

function optionalText(check?: (value: string) => string | undefined) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): string | undefined => {
      if (raw === undefined) return undefined;
      const problem = check?.(raw);
      return problem === undefined ? raw : fail(ctx, problem);
    });
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function parseOrigins(raw: string): '*' | string[] | string {
  const text = raw.trim();
  if (text === '*') return '*';
  const origins: string[] = [];
  for (const part of text.split(',')) {
    const origin = part.trim();
    if (origin === '') continue;
    if (origin === '*') return '"*" cannot be combined with other origins';
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return `"${origin}" is not an origin like https://app.example.com`;
    }
    // An origin is scheme://host[:port], nothing else: a path or a trailing slash never matches.
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
      return `"${origin}" is not an origin like https://app.example.com (scheme, host and port only)`;
    }
    origins.push(origin);
  }
  return origins.length === 0 ? 'must list at least one origin, or be *' : origins;
}

/** Reads a PEM public key (text, with literal `\n` allowed, or a file path) and its JWT algorithm. */
function parsePublicKey(raw: string): { key: KeyObject; algorithms: string[] } | string {
  let pem = raw.trim();
  if (!pem.startsWith('-----BEGIN')) {
    try {
      pem = readFileSync(pem, 'utf8').trim();
    } catch (error) {
      return `is neither PEM text nor a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`;
    }
  }
  // Environment variables often carry PEM on one line with literal "\n".
  pem = pem.replace(/\\n/g, '\n');
  if (/PRIVATE KEY/.test(pem)) return 'must be a public key: never give the hub a private key';
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return 'is not a valid PEM public key';
  }
  if (key.asymmetricKeyType === 'rsa') return { key, algorithms: ['RS256'] };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, algorithms: ['ES256'] };
  return 'must be an RSA key (RS256) or an EC P-256 key (ES256)';
}

// ── The schema ─────────────────────────────────────────────────────────────────────────

const schema = z
  .object({
    port: integer(8080, 0, 65535),
    host: z
      .string()
      .optional()
      .transform((raw, ctx): string => {
        if (raw === undefined) return '127.0.0.1';
        const host = raw.trim();
        if (isIP(host) !== 0 || HOSTNAME.test(host)) return host;
        return fail(ctx, `must be an IP address or a host name, got "${raw}"`);
      }),
    logLevel: z
      .string()
      .optional()
      .transform((raw, ctx): LogLevel => {
        if (raw === undefined) return 'info';
        const level = raw.trim().toLowerCase();
        return (LOG_LEVELS as readonly string[]).includes(level)
          ? (level as LogLevel)
          : fail(ctx, `must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
      }),
    redisUrl: optionalText((value) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return 'must be a URL like redis://host:6379 (or rediss:// for TLS)';
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return `must start with redis:// or rediss://, got ${url.protocol}//`;
      if (url.hostname === '') return 'must name a host, like redis://127.0.0.1:6379';
      return undefined;
    }),
    redisPrefix: optionalText((value) =>
      /^[A-Za-z0-9_.:-]{1,100}$/.test(value) ? undefined : `must be 1 to 100 characters of A-Z a-z 0-9 _ . : -, got "${value}"`,
    ),
    redisMode: z
      .string()
      .optional()
      .transform((raw, ctx): 'log' | 'pubsub' => {
        if (raw === undefined) return 'log';
        const mode = raw.trim().toLowerCase();
        return mode === 'log' || mode === 'pubsub' ? mode : fail(ctx, `must be log or pubsub, got "${raw}"`);
      }),
    presenceTtlMs: integer(5000, 2000, 600_000),
    jwtSecret: optionalText((value) =>
      Buffer.byteLength(value) < 32 ? 'must be at least 32 bytes long (HS256 needs a 256-bit secret)' : undefined,
    ),
    jwtPublicKey: z
      .string()
      .optional()
      .transform((raw, ctx): { key: KeyObject; algorithms: string[] } | undefined => {
        if (raw === undefined) return undefined;
        const parsed = parsePublicKey(raw);
        return typeof parsed === 'string' ? fail(ctx, parsed) : parsed;
      }),
    jwtIssuer: optionalText(),
    jwtAudience: optionalText(),
    publishKey: optionalText((value) => (value.length < 16 ? 'must be at least 16 characters long' : undefined)),
    corsOrigins: z
      .string()
      .optional()
      .transform((raw, ctx): '*' | readonly string[] | undefined => {
        if (raw === undefined) return undefined;
        const parsed = parseOrigins(raw);
        return typeof parsed === 'string' && parsed !== '*' ? fail(ctx, parsed) : parsed;
      }),
    heartbeatMs: integer(15_000, 1000, 3_600_000, true),
    deadPeerTimeoutMs: integer(30_000, 2000, 3_600_000, true),
    historySize: integer(10_000, 0, 1_000_000),
    maxClients: integer(10_000, 1, 10_000_000, true),
    maxClientsPerUser: integer(0, 1, 1_000_000, true),
    maxBodyBytes: integer(1024 * 1024, 1, 64 * 1024 * 1024),
    maxBatch: integer(100, 1, 10_000),
    maxTargets: integer(1000, 1, 100_000),
    rateLimit: z
      .string()
      .optional()
      .transform((raw, ctx): number => {
        if (raw === undefined) return 0;
        const text = raw.trim();
        const value = Number(text);
        if (!/^\d+(\.\d+)?$/.test(text) || value > 1_000_000) {
          return fail(ctx, `must be a number of requests per second from 0 (off) to 1000000, got "${raw}"`);
        }
        return value;
      }),
    rateLimitBurst: integer(0, 1, 1_000_000),
  })
  .superRefine((value, ctx) => {
    if (value.jwtSecret !== undefined && value.jwtPublicKey !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwtPublicKey'],
        message: 'cannot be combined with SSEHUB_JWT_SECRET (--jwt-secret): choose HS256 or a public key',
      });
    }
    for (const setting of ['redisPrefix'] as const) {
      if (value[setting] !== undefined && value.redisUrl === undefined) {
        ctx.addIssue({ code: 'custom', path: [setting], message: 'needs REDIS_URL (--redis-url)' });
      }
    }
    const jwt = value.jwtSecret !== undefined || value.jwtPublicKey !== undefined;
    for (const claim of ['jwtIssuer', 'jwtAudience'] as const) {
      if (value[claim] !== undefined && !jwt) {
        ctx.addIssue({ code: 'custom', path: [claim], message: 'needs SSEHUB_JWT_SECRET or SSEHUB_JWT_PUBLIC_KEY' });
      }
    }
  });

function describe(issue: z.core.$ZodIssue): string {
  const name = issue.path[0] as SettingName | undefined;
  const spec = name === undefined ? undefined : SETTINGS[name];
  if (spec === undefined) return issue.message;
  if (issue.message.startsWith(spec.env)) return issue.message;
  return `${spec.env} (--${spec.flag}): ${issue.message}`;
}

/** Reads the raw settings from environment variables; an empty variable counts as unset. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const raw: RawSettings = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const value = env[spec.env];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  return raw;
}

/**
 * Validates settings: `flags` (from the command line) win over `env`. Throws a
 * {@link ConfigError} naming every wrong setting.
 *
 * @example
 * const config = loadConfig({ env: { PORT: '0', SSEHUB_PUBLISH_KEY: 'a-long-enough-key' } });
 */
export function loadConfig(input: { env?: NodeJS.ProcessEnv; flags?: RawSettings } = {}): Config {
  const raw: RawSettings = { ...settingsFromEnv(input.env ?? {}) };
  for (const [name, value] of Object.entries(input.flags ?? {}) as [SettingName, string | undefined][]) {
    if (value !== undefined) raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describe));
  const value = parsed.data;
  const jwt: JwtConfig | undefined =
    value.jwtSecret !== undefined
      ? { key: new TextEncoder().encode(value.jwtSecret), algorithms: ['HS256'], issuer: value.jwtIssuer, audience: value.jwtAudience }
      : value.jwtPublicKey !== undefined
        ? { ...value.jwtPublicKey, issuer: value.jwtIssuer, audience: value.jwtAudience }
        : undefined;
  return {
    port: value.port,
    host: value.host,
    logLevel: value.logLevel,
    redis:
      value.redisUrl === undefined
        ? undefined
        : { url: value.redisUrl, prefix: value.redisPrefix ?? 'ssehub', mode: value.redisMode, presenceTtlMs: value.presenceTtlMs },
    jwt,
    publishKey: value.publishKey,
    corsOrigins: value.corsOrigins,
    heartbeatMs: value.heartbeatMs,
    deadPeerTimeoutMs: value.deadPeerTimeoutMs,
    historySize: value.historySize,
    maxClients: value.maxClients,
    maxClientsPerUser: value.maxClientsPerUser,
    maxBodyBytes: value.maxBodyBytes,
    maxBatch: value.maxBatch,
    maxTargets: value.maxTargets,
    rateLimit: value.rateLimit,
    // A burst of twice the per-second rate absorbs short spikes without changing the average.
    rateLimitBurst: value.rateLimitBurst !== 0 ? value.rateLimitBurst : Math.max(1, Math.ceil(value.rateLimit * 2)),
  };
}
