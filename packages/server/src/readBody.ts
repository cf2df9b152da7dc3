/**
 * Reads a request body with a hard size limit: a declared `Content-Length` over the limit is
 * refused before a byte is read, and a body that grows past it (chunked) is refused as soon as
 * it does — never buffered whole.
 * @module
 */

import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

function tooLarge(maxBytes: number): HttpError {
  // The rest of the body is not read: the connection must close after the answer.
  return new HttpError(413, 'body_too_large', `the body exceeds ${maxBytes} bytes (SSEHUB_MAX_BODY_BYTES)`, { connection: 'close' });
}

/** Resolves with the whole body, or rejects with 413 `body_too_large`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.byteLength;
      if (received > maxBytes) {
        cleanup();
        // Stop reading: what is left stays in the socket, which closes after the 413.
        req.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      // 'close' before 'end': the client went away mid-body.
      if (!req.complete) {
        cleanup();
        reject(new Error('the request was aborted'));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
