/**
 * Request heads this server refuses before any route sees them, where node:http is lenient:
 * a repeated `Host` or `Authorization` header (node:http keeps the first; ssehub's own socket
 * reader hands such heads to node:http, so both paths end here), a repeated `Content-Length` or `Transfer-Encoding` line, a transfer
 * coding other than `chunked`, and HTTP versions other than 1.0 and 1.1 (node:http serves
 * HTTP/0.9 and HTTP/2.0 heads as if they were HTTP/1.1).
 *
 * Some of these llhttp refuses itself, with a bare 400 and no body: {@link clientErrorAnswer}
 * answers those from the server's `clientError` event exactly as {@link headRefusal} answers
 * the ones that reach the router. Every refusal closes the connection: the framing of what
 * follows cannot be trusted, or the body was not read.
 * @module
 */

import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { errorBody, HttpError, JSON_ANSWER_HEADERS } from './errors.js';

/** Headers that may appear once, by lower-case name, as shown in messages. */
const SINGLE_HEADERS: ReadonlyMap<string, string> = new Map([
  ['host', 'Host'],
  ['authorization', 'Authorization'],
  ['content-length', 'Content-Length'],
  ['transfer-encoding', 'Transfer-Encoding'],
]);

const CLOSE = { connection: 'close' };

function duplicateHeader(name: string): HttpError {
  return new HttpError(400, 'duplicate_header', `more than one ${name} header`, CLOSE);
}

function unsupportedTransferEncoding(): HttpError {
  return new HttpError(
    501,
    'unsupported_transfer_encoding',
    'the only transfer coding understood is "Transfer-Encoding: chunked"; or send Content-Length',
    CLOSE,
  );
}

function versionNotSupported(version: string): HttpError {
  return new HttpError(505, 'http_version_not_supported', `${version} is not supported: use HTTP/1.1`, CLOSE);
}

/** How a version is named in messages; node:http reads a request line without one as 0.9. */
function versionText(version: string): string {
  return version === '0.9' ? 'HTTP/0.9 (or a request line without a version)' : `HTTP/${version}`;
}

/**
 * The refusal of an `Authorization` value that holds more than one credential, as repeated
 * headers arrive once a proxy has joined them with ", ": no credential this server accepts
 * (`Bearer <token>`, no spaces in the token) holds one. Refused on both paths alike.
 */
export function authorizationRefusal(authorization: string | undefined): HttpError | undefined {
  return authorization?.includes(', ') ? duplicateHeader('Authorization') : undefined;
}

/** The refusal of a request node:http has read, or `undefined` when it may be routed. */
export function headRefusal(req: IncomingMessage): HttpError | undefined {
  if (req.httpVersion !== '1.1' && req.httpVersion !== '1.0') return versionNotSupported(versionText(req.httpVersion));
  const raw = req.rawHeaders;
  let seen: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = SINGLE_HEADERS.get((raw[i] as string).toLowerCase());
    if (name === undefined) continue;
    if (seen?.includes(name)) return duplicateHeader(name);
    (seen ??= []).push(name);
  }
  const credentials = authorizationRefusal(req.headers.authorization);
  if (credentials !== undefined) return credentials;
  const codings = req.headers['transfer-encoding'];
  if (codings !== undefined && codings.toLowerCase() !== 'chunked') return unsupportedTransferEncoding();
  return undefined;
}

/** The head in a parse error's packet, as latin1 text, or '' when the packet holds none. */
function packetHead(error: { rawPacket?: unknown }): string {
  if (!Buffer.isBuffer(error.rawPacket)) return '';
  const text = error.rawPacket.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return end === -1 ? text : text.slice(0, end);
}

/**
 * The refusal of a request llhttp refused for one of the reasons above, or `undefined` for any
 * other parse error (node:http's own answer stands for those).
 */
export function parseErrorRefusal(error: Error & { code?: string; rawPacket?: unknown }): HttpError | undefined {
  switch (error.code) {
    case 'HPE_INVALID_VERSION': {
      const requestLine = packetHead(error).split(/\r|\n/, 1)[0] ?? '';
      const version = / HTTP\/(\S*)$/.exec(requestLine)?.[1];
      // HTTP/1.1 then a bare LF: the version is fine, the line ending is not (a plain 400).
      if (version === '1.1' || version === '1.0') return undefined;
      return versionNotSupported(version === undefined ? 'this HTTP version' : `HTTP/${version}`);
    }
    // "Duplicate Content-Length"
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return duplicateHeader('Content-Length');
    // A repeated line, a list that does not end with one "chunked", a coding it does not know,
    // or Content-Length before it.
    case 'HPE_INVALID_TRANSFER_ENCODING': {
      const head = packetHead(error);
      const lines = head.match(/^transfer-encoding:/gim)?.length ?? 0;
      if (lines > 1) return duplicateHeader('Transfer-Encoding');
      // Both framings at once: no coding is wrong, the message is (a plain 400, as for TE after CL).
      if (/^content-length:/im.test(head)) return undefined;
      return unsupportedTransferEncoding();
    }
    default:
      return undefined;
  }
}

/** What node:http answers to other parse errors (its own `clientError` default). */
function nodeDefaultStatus(code: string | undefined): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/**
 * The bytes to answer a request llhttp refused with: JSON for the refusals of this module,
 * node:http's own bare answer for anything else.
 */
export function clientErrorAnswer(error: Error & { code?: string; rawPacket?: unknown }): Buffer {
  const refusal = parseErrorRefusal(error);
  if (refusal === undefined) {
    const status = nodeDefaultStatus(error.code);
    return Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`, 'latin1');
  }
  const body = JSON.stringify(errorBody(refusal));
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...JSON_ANSWER_HEADERS,
    ...refusal.headers,
  };
  let head = `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n${body}`, 'utf8');
}
