import type { ServerResponse } from 'node:http';
import { ConnectionRefusedError } from '../errors.js';
import { finishResponse } from '../http/finishResponse.js';
import type { SocketRequest } from '../http/requestHead.js';
import { completeResponse } from '../http/responseHead.js';
import type { NodeResponse } from '../stream/NodeSink.js';

const DEFAULT_REASONS: Record<number, string> = {
  401: 'authentication required',
  403: 'forbidden',
  429: 'too many connections for this user',
  503: 'the hub is full',
};

/** Builds the error for a refusal with a default reason per status. */
export function refusal(
  status: number,
  reason?: string,
  retryAfter?: number,
  answer?: { headers?: Record<string, string>; body?: unknown },
): ConnectionRefusedError {
  return new ConnectionRefusedError(status, reason ?? DEFAULT_REASONS[status] ?? 'connection refused', retryAfter, answer);
}

/** The JSON body and headers of a refused connection. */
export function refusalParts(
  error: ConnectionRefusedError,
  extraHeaders?: Record<string, string>,
): { body: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...extraHeaders, ...error.headers };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  const body = JSON.stringify(error.body ?? { error: { code: error.code, status: error.status, message: error.reason } });
  return { body, headers };
}

/** Answers a refused connection on a Node response. */
export function answerNodeRefusal(response: NodeResponse, error: ConnectionRefusedError, extraHeaders?: Record<string, string>): void {
  const res = response as ServerResponse;
  if (res.headersSent || res.destroyed) return;
  const { body, headers } = refusalParts(error, extraHeaders);
  res.writeHead(error.status, headers);
  res.end(body);
}

/** Answers a refused connection as a Web `Response`. */
export function webRefusal(error: ConnectionRefusedError, extraHeaders?: Record<string, string>): Response {
  const { body, headers } = refusalParts(error, extraHeaders);
  return new Response(body, { status: error.status, headers });
}

/** Answers a refused connection the SSE server read itself, and closes it. */
export function answerSocketRefusal(request: SocketRequest, error: ConnectionRefusedError, extraHeaders?: Record<string, string>): void {
  const socket = request.socket;
  if (socket.destroyed || !socket.writable) return;
  const { body, headers } = refusalParts(error, extraHeaders);
  finishResponse(socket, completeResponse(error.status, headers, body));
}
