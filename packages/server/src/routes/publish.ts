/**
 * `POST /publish`: one event, or a batch validated whole before any of it is published.
 * Answers 202 with `{"id"}` (or `{"ids"}` for a batch): exactly the `id:` subscribers see.
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { BackendError, HubClosedError, InvalidFieldError } from 'ssehub';
import { z } from 'zod';
import { MAX_NAME_LENGTH, type Publisher } from '../auth.js';
import type { Route, ServerContext } from '../context.js';
import { HttpError, sendJson } from '../errors.js';
import { readBody } from '../readBody.js';

/** Longest event name, in characters. */
export const MAX_EVENT_NAME_LENGTH = 200;
/** Event names subscribers already receive from the hub itself. */
const RESERVED_EVENT = /^(connected|ssehub:.*)$/s;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;

/** Request headers a browser may send cross-origin to `/publish`. */
export const PUBLISH_CORS = { methods: ['POST'], headers: ['Authorization', 'Content-Type'] } as const;

const FIELDS = ['event', 'data', 'rooms', 'users', 'clients', 'history'];

const names = z
  .array(z.string().min(1, 'must not be empty').max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`))
  .min(1, 'must list at least one name (leave the field out to target everyone)');

/** One event to publish. Unknown fields are refused: a typo like `room` must not broadcast. */
export const publishItemSchema = z.strictObject({
  event: z.string().min(1, 'must not be empty').max(MAX_EVENT_NAME_LENGTH).optional(),
  data: z.unknown(),
  rooms: names.optional(),
  users: names.optional(),
  clients: names.optional(),
  history: z.boolean().optional(),
});

/**
 * A validated event of a publish request, its data already encoded: the text subscribers
 * receive.
 */
export type PublishItem = Omit<z.infer<typeof publishItemSchema>, 'data'> & { readonly data: string };

function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : `${text === '' ? '' : '.'}${String(part)}`;
  return text;
}

function invalidBody(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): HttpError {
  const messages = issues.slice(0, 5).map((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => pathText([...path, key])).join(', ');
      return `${keys}: unknown field (allowed: ${FIELDS.join(', ')})`;
    }
    return `${pathText(path) || 'body'}: ${issue.message}`;
  });
  return new HttpError(400, 'invalid_body', messages.join('; '));
}

/** Checks an event name the way the wire format and the hub need. */
function checkEventName(event: unknown, where: string): void {
  if (typeof event !== 'string') return;
  if (LINE_BREAK_OR_NUL.test(event)) {
    throw new HttpError(400, 'invalid_event_name', `${where}event must not contain CR, LF or NUL`);
  }
  if (RESERVED_EVENT.test(event)) {
    throw new HttpError(400, 'invalid_event_name', `${where}event "${event}" is reserved by ssehub`);
  }
}

const TARGET_FIELDS = ['rooms', 'users', 'clients'] as const;

/**
 * Bounds each target list before anything else reads it: tens of thousands of names in one
 * request would cost memory and time for every lookup that follows.
 */
function checkTargetCounts(item: object, prefix: readonly PropertyKey[], maxTargets: number): void {
  for (const field of TARGET_FIELDS) {
    const names = (item as Partial<Record<string, unknown>>)[field];
    if (Array.isArray(names) && names.length > maxTargets) {
      const where = pathText([...prefix, field]);
      throw new HttpError(400, 'invalid_body', `${where}: at most ${maxTargets} names (SSEHUB_MAX_TARGETS), got ${names.length}`);
    }
  }
}

/**
 * The text `data` is published as: a string as is (the hub sends strings raw), anything else
 * as its JSON, which is what the hub would send for it. Encoding happens here, before anything
 * is published, because JSON.parse accepts nesting that JSON.stringify overflows the stack on.
 */
function encodeData(data: unknown, path: readonly PropertyKey[]): string {
  if (typeof data === 'string') return data;
  try {
    return JSON.stringify(data) ?? '';
  } catch (error) {
    const why = error instanceof RangeError ? 'nested too deeply' : (error as Error).message;
    throw new HttpError(400, 'invalid_data', `${pathText(path)}: cannot be encoded as JSON (${why})`);
  }
}

/** The limits {@link parsePublishBody} applies. */
export interface PublishLimits {
  /** Most events in a batch (`SSEHUB_MAX_BATCH`). */
  readonly maxBatch: number;
  /** Most names in each of `rooms`, `users` and `clients` (`SSEHUB_MAX_TARGETS`). */
  readonly maxTargets: number;
}

/**
 * Validates a parsed body: one event object or an array of 1..maxBatch of them. Every item is
 * checked and encoded before anything is published, so a batch is published whole or not at all.
 */
export function parsePublishBody(body: unknown, { maxBatch, maxTargets }: PublishLimits): { items: PublishItem[]; batch: boolean } {
  const batch = Array.isArray(body);
  const raw: unknown[] = batch ? body : [body];
  if (batch && raw.length === 0) throw new HttpError(400, 'invalid_body', 'body: a batch must hold at least one event');
  if (raw.length > maxBatch) {
    throw new HttpError(400, 'batch_too_large', `a batch holds at most ${maxBatch} events (SSEHUB_MAX_BATCH), got ${raw.length}`);
  }
  const items: PublishItem[] = [];
  for (let index = 0; index < raw.length; index++) {
    const item = raw[index];
    const prefix = batch ? [index] : [];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new HttpError(400, 'invalid_body', `${pathText(prefix) || 'body'}: must be an object like {"event": "...", "data": ...}`);
    }
    checkEventName((item as { event?: unknown }).event, batch ? `[${index}].` : '');
    if (!('data' in item)) {
      throw new HttpError(400, 'invalid_body', `${pathText([...prefix, 'data'])}: is required (any JSON value, null included)`);
    }
    checkTargetCounts(item, prefix, maxTargets);
    const parsed = publishItemSchema.safeParse(item);
    if (!parsed.success) throw invalidBody(parsed.error.issues, prefix);
    items.push({ ...parsed.data, data: encodeData(parsed.data.data, [...prefix, 'data']) });
  }
  return { items, batch };
}

function isJsonMediaType(header: string | undefined): boolean {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

function parseJson(body: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The `/publish` route. */
export function publishRoute(ctx: ServerContext): Route {
  const { hub, config, auth, cors, rateLimiter, metrics } = ctx;

  /** Publishes the whole batch as one unit: every item, with consecutive ids, or none. */
  const publishAll = async (items: readonly PublishItem[]): Promise<string[]> => {
    const messages = items.map((item) => ({
      event: item.event,
      data: item.data,
      target:
        item.rooms === undefined && item.users === undefined && item.clients === undefined
          ? { all: true }
          : {
              ...(item.rooms === undefined ? {} : { rooms: item.rooms }),
              ...(item.users === undefined ? {} : { users: item.users }),
              ...(item.clients === undefined ? {} : { clients: item.clients }),
            },
      ...(item.history === undefined ? {} : { history: item.history }),
    }));
    try {
      return await hub.publishMany(messages);
    } catch (error) {
      if (error instanceof HubClosedError) throw new HttpError(503, 'shutting_down', 'the hub is shutting down', { 'retry-after': '5' });
      if (error instanceof InvalidFieldError) throw new HttpError(400, 'invalid_event_name', error.message);
      if (error instanceof BackendError) {
        throw new HttpError(503, 'backend_unavailable', 'the backend is unavailable: nothing was published', { 'retry-after': '1' });
      }
      throw error;
    }
  };

  return {
    POST: async (req: IncomingMessage, res: ServerResponse) => {
      const stopTimer = metrics.publishDuration.startTimer();
      res.once('close', () => {
        stopTimer();
        metrics.publishRequests.inc({ status: String(res.statusCode) });
      });
      cors.apply(req, res);
      if (ctx.state.draining || hub.closed) {
        throw new HttpError(503, 'shutting_down', 'the hub is shutting down', { 'retry-after': '5' });
      }
      // Authenticate first, but charge the rate limit before answering: failed attempts count
      // against the caller's IP, so guessing keys is rate limited too.
      const clientIp = req.socket.remoteAddress ?? 'unknown';
      let publisher: Publisher | undefined;
      let refusal: unknown;
      try {
        publisher = await auth.publisher(req, clientIp);
      } catch (error) {
        refusal = error;
      }
      const decision = rateLimiter.take(publisher?.rateKey ?? `ip:${clientIp}`);
      if (!decision.ok) {
        throw new HttpError(429, 'rate_limited', `too many publish requests: retry in ${decision.retryAfterSeconds} s`, {
          'retry-after': String(decision.retryAfterSeconds),
        });
      }
      if (refusal !== undefined) throw refusal;
      if (!isJsonMediaType(req.headers['content-type'])) {
        throw new HttpError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json');
      }
      const body = parseJson(await readBody(req, config.maxBodyBytes));
      const { items, batch } = parsePublishBody(body, config);
      const ids = await publishAll(items);
      sendJson(res, 202, batch ? { ids } : { id: ids[0] });
    },
    OPTIONS: (req, res) => cors.preflight(req, res, PUBLISH_CORS),
  };
}
