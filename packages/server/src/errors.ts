/**
 * Errors the HTTP API answers with: a status, a stable snake_case `code` that clients can
 * branch on, and a message for people. The body is always
 * `{"error": {"code": "...", "message": "..."}}`.
 * @module
 */

import type { ServerResponse } from 'node:http';

/** Every error code of the HTTP API. Codes are part of the public contract: never rename one. */
export type ErrorCode =
  | 'not_found'
  | 'method_not_allowed'
  | 'invalid_json'
  | 'invalid_body'
  | 'invalid_data'
  | 'invalid_event_name'
  | 'batch_too_large'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'missing_token'
  | 'invalid_token'
  | 'token_expired'
  | 'forbidden_room'
  | 'publish_forbidden'
  | 'invalid_query'
  | 'duplicate_header'
  | 'unsupported_transfer_encoding'
  | 'http_version_not_supported'
  | 'origin_not_allowed'
  | 'hub_full'
  | 'too_many_connections'
  | 'shutting_down'
  | 'backend_unavailable'
  | 'internal_error';

/** An error answered as JSON with its status, code and extra headers (`Retry-After`, `Allow`…). */
export class HttpError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Writes a JSON body with `status`; headers already set on `res` (CORS) are kept. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...JSON_ANSWER_HEADERS,
    ...headers,
  });
  res.end(text);
}

/** The JSON body every error is answered with. */
export function errorBody(error: HttpError): { error: { code: ErrorCode; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

/** Headers of every JSON answer (content type and length aside). */
export const JSON_ANSWER_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** Answers `error` as `{"error": {"code", "message"}}`. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, errorBody(error), { ...error.headers });
}
