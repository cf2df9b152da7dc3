import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  Backend,
  BackendEvents,
  BackendListener,
  BackendMessage,
  LogPosition,
  LogRead,
  MessageDraft,
  Target,
} from '../backends/Backend.js';
import { BackendError } from '../errors.js';
import { firstConnection, openConnections, type RedisConnections, type RedisInput, sleep } from './connections.js';
import { APPEND, HEAD, READ } from './scripts.js';

/** Options of {@link createRedisBackend}. */
export interface RedisBackendOptions {
  /** The Redis: a URL or an ioredis client (duplicated: it stays yours to close). */
  redis: RedisInput;
  /** Prefix of every key, so that several hubs can share one Redis. @defaultValue 'ssehub' */
  prefix?: string;
  /**
   * `log` (the default): every event goes through an ordered log in Redis (a Stream), which
   * every process reads in order and resumes from anywhere. `pubsub`: events are published on a
   * channel, fire and forget: lighter, but a process that misses an event (a lost connection)
   * cannot get it back and a client cannot resume on another process (it gets the reset event).
   * @defaultValue 'log'
   */
  mode?: 'log' | 'pubsub';
  /** Bounds of the history in Redis (log mode), or `false` to keep none. */
  history?: { maxEvents?: number; maxAgeMs?: number } | false;
  /** How often the epoch is checked, to notice a Redis that lost its data, in ms. @defaultValue 1000 */
  epochCheckMs?: number;
}

/** The state of the connection to Redis. */
export type RedisBackendState = 'connecting' | 'ready' | 'down' | 'closed';

// Without history the stream still keeps this many entries: processes that were away for a
// moment read what they missed from it.
const MIN_LOG_ENTRIES = 1000;

/** How the log is trimmed for a mode and history bounds, as hubs and publishers share it. */
export function logBounds(
  mode: 'log' | 'pubsub',
  history: RedisBackendOptions['history'],
): { keepsHistory: boolean; maxEntries: number; maxAgeMs: number } {
  const bounds = history === false ? { maxEvents: 0 } : (history ?? {});
  const maxEvents = bounds.maxEvents ?? 10_000;
  const keepsHistory = mode === 'log' && maxEvents > 0;
  return { keepsHistory, maxEntries: keepsHistory ? maxEvents : MIN_LOG_ENTRIES, maxAgeMs: bounds.maxAgeMs ?? 60 * 60 * 1000 };
}
const NO_EVENT = '\0';

type ScriptReply = [string, number];
type ReadReply = [string, string, number, Array<[string, string[]]>?];

interface ScriptedRedis extends Redis {
  ssehubAppend(keys0: string, keys1: string, keys2: string, ...args: (string | number)[]): Promise<ScriptReply>;
  ssehubRead(keys0: string, keys1: string, keys2: string, ...args: (string | number)[]): Promise<ReadReply>;
  ssehubHead(keys0: string, keys1: string, keys2: string, ...args: (string | number)[]): Promise<ScriptReply>;
}

// Every append carries a fresh candidate epoch (Redis takes it only when it has none): drawn
// from a pool, since one randomBytes call per publish was a tenth of a publisher's CPU.
let epochPool = Buffer.alloc(0);
let epochPoolAt = 0;

function newEpoch(): string {
  if (epochPoolAt + 6 > epochPool.length) {
    epochPool = randomBytes(6 * 1024);
    epochPoolAt = 0;
  }
  const bytes = epochPool.subarray(epochPoolAt, epochPoolAt + 6);
  epochPoolAt += 6;
  return bytes.toString('base64url').replace(/[-_]/g, 'x');
}

/** The keys of a prefix: one hash tag, one slot. */
export function redisKeys(prefix: string): { epoch: string; seq: string; log: string; presence: string } {
  return { epoch: `{${prefix}}:epoch`, seq: `{${prefix}}:seq`, log: `{${prefix}}:log`, presence: `{${prefix}}:presence` };
}

/** The Lua scripts, defined on a connection (ioredis loads them, and again after a Redis restart). */
export function defineScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('ssehubAppend', { numberOfKeys: 3, lua: APPEND });
  redis.defineCommand('ssehubRead', { numberOfKeys: 3, lua: READ });
  redis.defineCommand('ssehubHead', { numberOfKeys: 3, lua: HEAD });
  return redis as ScriptedRedis;
}

/** The arguments of APPEND after the keys. */
export function appendArguments(
  drafts: readonly MessageDraft[],
  mode: 'log' | 'pubsub',
  maxEntries: number,
  maxAgeMs: number,
): (string | number)[] {
  const args: (string | number)[] = [newEpoch(), mode, maxEntries, maxAgeMs, drafts.length];
  for (const draft of drafts) {
    args.push(draft.event ?? NO_EVENT, draft.data, JSON.stringify(draft.target), draft.history ? '1' : '0');
  }
  return args;
}

/** A log entry (`[id, [field, value, …]]`) as a message. */
function entryMessage(id: string, fields: string[]): BackendMessage {
  const values: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) values[fields[i] as string] = fields[i + 1] as string;
  const event = values.e === undefined || values.e === NO_EVENT ? undefined : values.e;
  return {
    epoch: values.p ?? '',
    seq: Number.parseInt(id, 10),
    event,
    data: values.d ?? '',
    target: JSON.parse(values.t ?? '{}') as Target,
    history: values.h === '1',
  };
}

/** A pub/sub payload (`epoch\nseq\nhistory\nevent\ntarget\ndata`) as a message. */
function publishedMessage(payload: string): BackendMessage | undefined {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    const end = payload.indexOf('\n', at);
    if (end === -1) return undefined;
    parts.push(payload.slice(at, end));
    at = end + 1;
  }
  const [epoch, seq, history, event, target] = parts as [string, string, string, string, string];
  return {
    epoch,
    seq: Number(seq),
    history: history === '1',
    event: event === NO_EVENT ? undefined : event,
    target: JSON.parse(target) as Target,
    data: payload.slice(at),
  };
}

/**
 * The Redis backend: hubs in any number of processes share one ordered sequence of events,
 * whose ids Redis gives atomically (a Lua script), and, in log mode, one history (a Stream),
 * so that a client resumes on any process and a process that was away catches up.
 *
 * While Redis is unreachable, appends fail at once with a `BackendError` (never queued, never
 * accepted and then lost) and `available` is false; the connections come back by themselves,
 * and the reading resumes where it stopped.
 */
export class RedisBackend implements Backend {
  readonly mode: 'log' | 'pubsub';
  readonly prefix: string;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #connections: RedisConnections;
  readonly #commands: ScriptedRedis;
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #keepsHistory: boolean;
  readonly #epochCheckMs: number;
  readonly #listeners = new Map<BackendListener, BackendEvents | undefined>();
  #epoch: string | undefined;
  // Where this process has read the log up to (log mode).
  #lastId = '0-0';
  #lastSeq = 0;
  #head = 0;
  #reading: Promise<void> | undefined;
  #epochTimer: NodeJS.Timeout | undefined;
  #listening = false;
  #closed = false;

  constructor(options: RedisBackendOptions) {
    this.mode = options.mode ?? 'log';
    this.prefix = options.prefix ?? 'ssehub';
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(this.prefix)) throw new TypeError('prefix must be 1 to 100 characters of A-Z a-z 0-9 _ . : -');
    this.#keys = redisKeys(this.prefix);
    const bounds = logBounds(this.mode, options.history);
    this.#keepsHistory = bounds.keepsHistory;
    this.#maxEntries = bounds.maxEntries;
    this.#maxAgeMs = bounds.maxAgeMs;
    this.#epochCheckMs = options.epochCheckMs ?? 1000;
    this.#connections = openConnections(options.redis, true);
    this.#commands = defineScripts(this.#connections.commands);
  }

  get keepsHistory(): boolean {
    return this.#keepsHistory;
  }

  /** Whether appends can be made now. */
  get available(): boolean {
    return this.#commands.status === 'ready';
  }

  /** The state of the connection to Redis. */
  get state(): RedisBackendState {
    if (this.#closed) return 'closed';
    const status = this.#commands.status;
    if (status === 'ready') return 'ready';
    return status === 'connecting' || status === 'connect' || status === 'wait' ? 'connecting' : 'down';
  }

  /** Events in the log this process has not delivered yet (as of the last epoch check). */
  get lag(): number {
    return Math.max(0, this.#head - this.#lastSeq);
  }

  /** The client commands go through (for presence, status pages). */
  get redis(): Redis {
    return this.#commands;
  }

  /**
   * Resolves once Redis has answered: a Redis not reachable yet (a process that starts before
   * it) is waited for, not a failure; meanwhile `available` is false and hubs refuse (503).
   */
  async subscribe(listener: BackendListener, events?: BackendEvents): Promise<LogPosition> {
    let head: LogPosition | undefined;
    while (head === undefined) {
      if (this.#closed) throw new BackendError('the backend was closed before Redis answered');
      await firstConnection(this.#commands);
      try {
        // On the channel before the head is read: an event published after the head is then
        // never missed (one published in between is at or below the head, and dropped).
        if (this.mode === 'pubsub' && this.#epoch === undefined) await this.#listen();
        head = await this.#readHead();
      } catch {
        await sleep(250);
      }
    }
    this.#listeners.set(listener, events);
    if (this.#epoch === undefined) {
      this.#epoch = head.epoch;
      this.#lastSeq = head.seq;
      this.#head = head.seq;
      this.#lastId = `${head.seq}-0`;
      this.#startReading();
      this.#epochTimer = setInterval(() => void this.#checkEpoch(), this.#epochCheckMs);
      this.#epochTimer.unref();
    }
    return { epoch: this.#epoch, seq: this.#lastSeq };
  }

  unsubscribe(listener: BackendListener): void {
    this.#listeners.delete(listener);
  }

  async append(drafts: readonly MessageDraft[]): Promise<readonly BackendMessage[]> {
    if (drafts.length === 0) return [];
    // Only the first connection is waited for; after that, an outage fails at once.
    if (this.#commands.status !== 'ready') await firstConnection(this.#commands);
    let reply: ScriptReply;
    try {
      reply = await this.#commands.ssehubAppend(
        this.#keys.epoch,
        this.#keys.seq,
        this.#keys.log,
        ...appendArguments(drafts, this.mode, this.#maxEntries, this.#maxAgeMs),
      );
    } catch (error) {
      throw new BackendError(`Redis refused the publish: ${(error as Error).message}`, { cause: error });
    }
    const [epoch, first] = reply;
    return drafts.map((draft, i) => ({ ...draft, epoch, seq: Number(first) + i }));
  }

  async read(after: LogPosition, limit: number): Promise<LogRead> {
    if (this.#commands.status !== 'ready') await firstConnection(this.#commands);
    let reply: ReadReply;
    try {
      reply = await this.#commands.ssehubRead(
        this.#keys.epoch,
        this.#keys.seq,
        this.#keys.log,
        newEpoch(),
        after.epoch,
        after.seq,
        limit,
        this.#maxAgeMs,
      );
    } catch (error) {
      throw new BackendError(`Redis could not be read: ${(error as Error).message}`, { cause: error });
    }
    const [status, epoch, rawHead, entries] = reply;
    const head = Number(rawHead);
    if (status !== 'ok') return { ok: false, reason: status as 'unknown-epoch' | 'ahead' | 'stale', head: { epoch, seq: head } };
    // Without history (or in pubsub mode) only a reader at the head is complete.
    if (!this.#keepsHistory) {
      return after.seq === head
        ? { ok: true, messages: [], through: head, head }
        : { ok: false, reason: 'stale', head: { epoch, seq: head } };
    }
    const list = entries ?? [];
    const messages: BackendMessage[] = [];
    for (const [id, fields] of list) {
      const message = entryMessage(id, fields);
      if (message.history) messages.push(message);
    }
    const last = list[list.length - 1];
    const through = list.length === limit && last !== undefined ? Number.parseInt(last[0], 10) : head;
    return { ok: true, messages, through, head };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#epochTimer);
    this.#listeners.clear();
    await this.#connections.close();
    await this.#reading;
  }

  async #readHead(): Promise<LogPosition> {
    try {
      const [epoch, seq] = await this.#commands.ssehubHead(this.#keys.epoch, this.#keys.seq, this.#keys.log, newEpoch());
      return { epoch, seq: Number(seq) };
    } catch (error) {
      throw new BackendError(`Redis is unreachable: ${(error as Error).message}`, { cause: error });
    }
  }

  #deliver(message: BackendMessage): void {
    this.#lastSeq = message.seq;
    if (message.seq > this.#head) this.#head = message.seq;
    for (const listener of this.#listeners.keys()) listener(message);
  }

  /** Notices a Redis that lost its data: a new epoch, or none yet (then one is made). */
  async #checkEpoch(): Promise<void> {
    if (this.#closed || !this.available) return;
    let head: LogPosition;
    try {
      head = await this.#readHead();
    } catch {
      return;
    }
    if (head.epoch === this.#epoch) {
      this.#head = head.seq;
      return;
    }
    this.#restarted(head.epoch, head.seq);
  }

  /** The sequence restarted: the hubs are told, then the new log is read from its start. */
  #restarted(epoch: string, head: number): void {
    this.#epoch = epoch;
    this.#lastSeq = 0;
    this.#head = head;
    this.#lastId = '0-0';
    for (const events of this.#listeners.values()) events?.restarted?.({ epoch, seq: 0 });
  }

  /** Subscribes to the channel of pubsub mode; resolves once Redis has confirmed it. */
  async #listen(): Promise<void> {
    const reader = this.#connections.reader as Redis;
    if (!this.#listening) {
      this.#listening = true;
      reader.on('message', (_channel: string, payload: string) => {
        const message = publishedMessage(payload);
        if (message !== undefined && !this.#closed) this.#deliver(message);
      });
    }
    await firstConnection(reader);
    // ioredis subscribes again by itself after a reconnection (autoResubscribe).
    await reader.subscribe(this.#keys.log);
  }

  #startReading(): void {
    // In pubsub mode the channel delivers (see #listen); in log mode this process reads the log.
    if (this.mode === 'log') this.#reading = this.#readLoop(this.#connections.reader as Redis);
  }

  // Reads the log in order from where this process stands, one batch per round trip; after an
  // outage it goes on from the same place, so that nothing appended meanwhile is skipped.
  async #readLoop(reader: Redis): Promise<void> {
    while (!this.#closed) {
      if (reader.status !== 'ready') {
        await waitUntilReady(reader, () => this.#closed);
        continue;
      }
      let reply: Array<[string, Array<[string, string[]]>]> | null;
      const from = this.#lastId;
      try {
        reply = (await reader.xread('COUNT', 1000, 'BLOCK', this.#epochCheckMs, 'STREAMS', this.#keys.log, from)) as typeof reply;
      } catch {
        if (!this.#closed) await sleep(100);
        continue;
      }
      // A restart was noticed while this read was waiting: its answer belongs to the old place.
      if (reply === null || from !== this.#lastId) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          if (this.#closed) return;
          const message = entryMessage(id, fields);
          if (message.epoch !== this.#epoch) {
            // The log restarted under this reader (Redis lost its data) before the epoch check
            // noticed: read on from here and the new log's first events would be skipped.
            this.#restarted(message.epoch, message.seq);
            break;
          }
          this.#lastId = id;
          this.#deliver(message);
        }
      }
    }
  }
}

async function waitUntilReady(redis: Redis, stopped: () => boolean): Promise<void> {
  while (!stopped() && redis.status !== 'ready' && redis.status !== 'end') await sleep(50);
  if (redis.status === 'end' && !stopped()) await sleep(200);
}

/**
 * A Redis backend: hubs in every process on the same Redis (and prefix) act as one hub.
 *
 * @example
 * import { createRedisBackend } from 'ssehub/redis';
 * const hub = createHub({ backend: createRedisBackend({ redis: process.env.REDIS_URL }) });
 */
export function createRedisBackend(options: RedisBackendOptions): RedisBackend {
  return new RedisBackend(options);
}
