/**
 * Reads the bytes a server sent on one connection as the sequence of HTTP/1.1 responses they
 * are: interim `100 Continue`, bodies framed by `Content-Length` or chunked, and a last body
 * that runs to the end of the connection (an event stream).
 */

/** One response, as far as it has arrived. */
export interface ParsedResponse {
  /** `HTTP/1.1 408 Request Timeout` */
  readonly statusLine: string;
  readonly status: number;
  /** Values by lower-case name, repeated names joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body so far, de-chunked, as UTF-8. */
  readonly body: string;
  /** The body has fully arrived (always false for a body without length: a stream). */
  readonly complete: boolean;
}

function parseHead(text: string): { statusLine: string; status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { statusLine, status, headers };
}

/** A chunked body from `at`: its data so far, and where the next response starts once complete. */
function readChunked(bytes: Buffer, from: number): { data: Buffer; end: number | undefined } {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd === -1) return { data: Buffer.concat(parts), end: undefined };
    const size = Number.parseInt(bytes.toString('latin1', at, lineEnd).split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) return { data: Buffer.concat(parts), end: undefined };
    if (size === 0) {
      const trailerEnd = bytes.indexOf('\r\n\r\n', lineEnd);
      return { data: Buffer.concat(parts), end: trailerEnd === -1 ? undefined : trailerEnd + 4 };
    }
    const dataEnd = lineEnd + 2 + size;
    parts.push(bytes.subarray(lineEnd + 2, Math.min(dataEnd, bytes.length)));
    if (bytes.length < dataEnd + 2) return { data: Buffer.concat(parts), end: undefined };
    at = dataEnd + 2;
  }
}

/** Every response in `bytes`, in order. */
export function parseResponses(bytes: Buffer): ParsedResponse[] {
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd === -1) break;
    const head = parseHead(bytes.toString('latin1', at, headEnd));
    const bodyStart = headEnd + 4;
    if (head.status >= 100 && head.status < 200) {
      responses.push({ ...head, body: '', complete: true });
      at = bodyStart;
      continue;
    }
    const length = head.headers['content-length'];
    if (length !== undefined) {
      const bodyEnd = bodyStart + Number(length);
      responses.push({ ...head, body: bytes.toString('utf8', bodyStart, bodyEnd), complete: bytes.length >= bodyEnd });
      at = bodyEnd;
      continue;
    }
    if (head.headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const { data, end } = readChunked(bytes, bodyStart);
      responses.push({ ...head, body: data.toString('utf8'), complete: end !== undefined });
      if (end === undefined) break;
      at = end;
      continue;
    }
    // No length: the body runs to the end of the connection.
    responses.push({ ...head, body: bytes.toString('utf8', bodyStart), complete: false });
    break;
  }
  return responses;
}
