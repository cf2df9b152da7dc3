import http from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** How a stream ended: the server finished it (`end`), or the connection broke (`error`). */
export type StreamEnd = { how: 'end' | 'error'; at: number; error?: string };

/** An event stream read by node:http and eventsource-parser, events handed to a callback as they come. */
export interface SseReader {
  readonly status: number;
  /** Bytes of body received so far. */
  readonly receivedBytes: number;
  /** Every `retry:` value received. */
  readonly retries: readonly number[];
  /** Resolves when the stream ends, however it ends. */
  readonly ended: Promise<StreamEnd>;
  /** Cuts the connection from this side. */
  destroy(): void;
}

/**
 * Opens `GET path` as an event stream. Resolves once the response head is in (any status);
 * rejects when the connection fails before that. Unlike an EventSource it never reconnects
 * and keeps nothing: the caller decides what to remember of each event.
 */
export function readSse(
  base: string,
  path: string,
  onEvent: (event: EventSourceMessage) => void,
  headers: Record<string, string> = {},
): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers }, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const retries: number[] = [];
      let receivedBytes = 0;
      const parser = createParser({ onEvent, onRetry: (ms) => retries.push(ms) });
      const ended = new Promise<StreamEnd>((done) => {
        let settled = false;
        const finish = (how: StreamEnd['how'], error?: Error): void => {
          if (settled) return;
          settled = true;
          done({ how, at: Date.now(), ...(error === undefined ? {} : { error: error.message }) });
        };
        res.on('end', () => finish('end'));
        res.on('error', (error) => finish('error', error));
        res.on('aborted', () => finish('error', new Error('aborted')));
        res.on('close', () => finish(res.complete ? 'end' : 'error', new Error('closed before the end')));
        req.on('error', (error) => finish('error', error));
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        receivedBytes += Buffer.byteLength(chunk);
        parser.feed(chunk);
      });
      resolve({
        status: res.statusCode ?? 0,
        get receivedBytes() {
          return receivedBytes;
        },
        retries,
        ended,
        destroy: () => req.destroy(),
      });
    });
  });
}

/** The seq of an id `<epoch>-<seq>`. */
export function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

/** The epoch of an id `<epoch>-<seq>`. */
export function epochOf(id: string): string {
  return id.slice(0, id.lastIndexOf('-'));
}
