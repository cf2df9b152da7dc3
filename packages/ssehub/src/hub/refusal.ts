import { ConnectionRefusedError } from '../errors.js';
import type { Answer } from '../transports/Connection.js';

const DEFAULT_REASONS: Record<number, string> = {
  401: 'authentication required',
  403: 'forbidden',
  429: 'too many connections for this user',
  503: 'the hub is full',
};

const JSON_TYPE = 'application/json; charset=utf-8';

/** Builds the error for a refusal with a default reason per status. */
export function refusal(
  status: number,
  reason?: string,
  retryAfter?: number,
  answer?: { headers?: Record<string, string>; body?: unknown },
): ConnectionRefusedError {
  return new ConnectionRefusedError(status, reason ?? DEFAULT_REASONS[status] ?? 'connection refused', retryAfter, answer);
}

/** The answer of a refused connection: its status, headers (the hub's, then its own) and JSON body. */
export function refusalAnswer(error: ConnectionRefusedError, hubHeaders?: Readonly<Record<string, string>>): Answer {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE, ...hubHeaders, ...error.headers };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  const body = JSON.stringify(error.body ?? { error: { code: error.code, status: error.status, message: error.reason } });
  return { status: error.status, headers, body };
}
