import net from 'node:net';

/** What came back on a raw connection: the first answer, parsed, and whether the server closed. */
export interface RawAnswer {
  /** Every byte received, as latin1 text. */
  readonly received: string;
  /** `HTTP/1.1 400 Bad Request`, or '' when nothing came. */
  readonly statusLine: string;
  readonly status: number;
  /** Header values by lower-case name (repeated headers joined with ", "). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The body parsed as JSON, or undefined. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field and assert each
  readonly json: any;
  /** True when the server closed the connection within the wait. */
  readonly closed: boolean;
}

/**
 * Sends `bytes` exactly as given on a fresh TCP connection and reads until the server closes
 * it, or `waitMs` after the last byte received (then `closed` is false).
 */
export function rawRequest(base: string, bytes: string, waitMs = 1000): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1'), closed));
    };
    const wait = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), waitMs);
    };
    socket.on('connect', () => {
      socket.write(Buffer.from(bytes, 'latin1'));
      wait();
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      wait();
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer still counts as a close; before any answer it is a failure.
      if (chunks.length > 0 || error.code === 'ECONNRESET') finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
  });
}

function parseAnswer(received: string, closed: boolean): RawAnswer {
  const headEnd = received.indexOf('\r\n\r\n');
  const head = headEnd === -1 ? received : received.slice(0, headEnd);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = headEnd === -1 ? '' : received.slice(headEnd + 4);
  const length = headers['content-length'];
  if (length !== undefined) body = body.slice(0, Number(length));
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { received, statusLine, status, headers, body, json, closed };
}
