/**
 * The request smuggling and desync table: one row per ambiguous or malformed way of framing a
 * request, on `POST /publish` and on `GET /events`. Wherever a row can hide a second request,
 * it hides a `POST /publish` of a `forged` event in what a correct parser reads as the first
 * request's body (or behind a stream, where nothing may run): any forged event reaching a
 * subscriber is a desync. `published` counts the row's own, well-formed publish when HTTP says
 * it must be served.
 */

/** What a row needs of the mode under test. */
export interface Credentials {
  /** Header lines that let a request publish (CRLF-terminated), or ''. */
  readonly publishAuth: string;
  /** A query string that admits a stream. */
  readonly streamQuery: string;
}

export interface SmugglingRow {
  readonly name: string;
  /** The bytes sent; `tag` is in the data of every event the row tries to publish. */
  readonly bytes: (auth: Credentials, tag: string) => string;
  /** Every status answered, in order (an interim 100 included). */
  readonly statuses: readonly number[];
  /**
   * The statuses in production mode, when they differ: a stream's token is verified
   * asynchronously there, and a request pipelined behind the stream request closes the
   * connection before the stream could open.
   */
  readonly statusesInProduction?: readonly number[];
  /** The `error.code` of the last answer, when it is one of the server's JSON refusals. */
  readonly code?: string;
  /** Whether the server ends the connection. */
  readonly closed: boolean;
  /** Events the row publishes: 1 for its own well-formed publish, 0 when refused or smuggled. */
  readonly published: 0 | 1;
  /** Sent one byte per write instead of in one write. */
  readonly byteAtATime?: boolean;
}

const CRLF = '\r\n';

/** The JSON body of the row's own publish. */
export const attackBody = (tag: string): string => JSON.stringify({ event: 'attack', data: tag });

/** A complete, well-formed publish of a `forged` event: what the rows try to smuggle. */
export function smuggled(auth: Credentials, tag: string): string {
  const body = JSON.stringify({ event: 'forged', data: tag });
  return `POST /publish HTTP/1.1\r\nHost: x\r\n${auth.publishAuth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** A publish head: the request line, Host, credentials, Content-Type, then `lines`. */
function publishHead(auth: Credentials, lines: readonly string[], requestLine = 'POST /publish HTTP/1.1', eol = CRLF): string {
  const all = [
    requestLine,
    'Host: x',
    ...(auth.publishAuth === '' ? [] : [auth.publishAuth.trimEnd()]),
    'Content-Type: application/json',
    ...lines,
  ];
  return `${all.join(eol)}${eol}${eol}`;
}

/** A stream request head: `GET /events?<query>`, Host, then `lines`. */
function streamHead(auth: Credentials, lines: readonly string[], requestLine?: string, eol = CRLF): string {
  const all = [requestLine ?? `GET /events?${auth.streamQuery} HTTP/1.1`, 'Host: x', ...lines];
  return `${all.join(eol)}${eol}${eol}`;
}

const hex = (length: number): string => length.toString(16);
/** A chunked body of one chunk holding `data`. */
const oneChunk = (data: string): string => `${hex(data.length)}\r\n${data}\r\n0\r\n\r\n`;

/** Rows on `POST /publish`. */
export const PUBLISH_ROWS: readonly SmugglingRow[] = [
  {
    name: 'CL then TE chunked, CL.TE: the chunked body ends early, the rest would be a request',
    bytes: (auth, tag) => {
      const rest = `0\r\n\r\n${smuggled(auth, tag)}`;
      return publishHead(auth, [`Content-Length: ${rest.length}`, 'Transfer-Encoding: chunked']) + rest;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'TE chunked then CL, TE.CL: the request hidden in a chunk',
    bytes: (auth, tag) => publishHead(auth, ['Transfer-Encoding: chunked', 'Content-Length: 4']) + oneChunk(smuggled(auth, tag)),
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'two equal Content-Length',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`, `Content-Length: ${body.length}`]) + body + smuggled(auth, tag);
    },
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'two different Content-Length, the longer covering a request',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      const hidden = smuggled(auth, tag);
      return publishHead(auth, [`Content-Length: ${body.length}`, `Content-Length: ${body.length + hidden.length}`]) + body + hidden;
    },
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'two Transfer-Encoding chunked lines',
    bytes: (auth, tag) =>
      publishHead(auth, ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']) + oneChunk(attackBody(tag)) + smuggled(auth, tag),
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'Transfer-Encoding chunked, identity',
    bytes: (auth, tag) => publishHead(auth, ['Transfer-Encoding: chunked, identity']) + oneChunk(attackBody(tag)) + smuggled(auth, tag),
    statuses: [501],
    code: 'unsupported_transfer_encoding',
    closed: true,
    published: 0,
  },
  {
    name: 'Transfer-Encoding gzip, chunked',
    bytes: (auth, tag) => publishHead(auth, ['Transfer-Encoding: gzip, chunked']) + oneChunk(attackBody(tag)) + smuggled(auth, tag),
    statuses: [501],
    code: 'unsupported_transfer_encoding',
    closed: true,
    published: 0,
  },
  {
    name: 'two Host headers, a request pipelined behind',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, ['Host: y', `Content-Length: ${body.length}`]) + body + smuggled(auth, tag);
    },
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'two Authorization headers, a request pipelined behind',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      // Two in either mode: development has no credential of its own to repeat.
      const first = auth.publishAuth === '' ? ['Authorization: Bearer first'] : [];
      return publishHead(auth, [...first, 'Authorization: Bearer second', `Content-Length: ${body.length}`]) + body + smuggled(auth, tag);
    },
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'HTTP/2.0 request line, a request pipelined behind',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`], 'POST /publish HTTP/2.0') + body + smuggled(auth, tag);
    },
    statuses: [505],
    code: 'http_version_not_supported',
    closed: true,
    published: 0,
  },
  {
    name: 'obs-fold: Transfer-Encoding chunked folded into another header',
    bytes: (auth, tag) => {
      const rest = `0\r\n\r\n${smuggled(auth, tag)}`;
      return publishHead(auth, [`Content-Length: ${rest.length}`, 'X-Folded: a', ' Transfer-Encoding: chunked']) + rest;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'a space before the colon of Transfer-Encoding',
    bytes: (auth, tag) => {
      const rest = `0\r\n\r\n${smuggled(auth, tag)}`;
      return publishHead(auth, [`Content-Length: ${rest.length}`, 'Transfer-Encoding : chunked']) + rest;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'bare LF line endings',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`], 'POST /publish HTTP/1.1', '\n') + body;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'NUL in a header value',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`, 'X-Nul: a\0b']) + body;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'Content-Length with a plus sign',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: +${body.length}`]) + body;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'absolute-form target is served like its path',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`], 'POST http://x/publish HTTP/1.1') + body;
    },
    statuses: [202],
    closed: false,
    published: 1,
  },
  {
    name: 'asterisk-form target',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`], 'POST * HTTP/1.1') + body;
    },
    statuses: [400],
    code: 'invalid_query',
    closed: false,
    published: 0,
  },
  {
    name: 'a leading CRLF before the request line is ignored',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return `\r\n${publishHead(auth, [`Content-Length: ${body.length}`])}${body}`;
    },
    statuses: [202],
    closed: false,
    published: 1,
  },
  {
    name: 'Expect 100-continue gets 100 then the answer',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`, 'Expect: 100-continue']) + body;
    },
    statuses: [100, 202],
    closed: false,
    published: 1,
  },
  {
    name: 'HTTP/1.0 keep-alive publish, then a second request on the connection',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return `${publishHead(auth, [`Content-Length: ${body.length}`, 'Connection: keep-alive'], 'POST /publish HTTP/1.0')}${body}GET /healthz HTTP/1.0\r\n\r\n`;
    },
    statuses: [202, 200],
    closed: true,
    published: 1,
  },
  {
    name: 'an invalid chunk size',
    bytes: (auth, tag) => `${publishHead(auth, ['Transfer-Encoding: chunked'])}zz\r\n${attackBody(tag)}\r\n0\r\n\r\n`,
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'a chunk size that overflows 64 bits',
    bytes: (auth, tag) => `${publishHead(auth, ['Transfer-Encoding: chunked'])}1${'0'.repeat(16)}\r\n${attackBody(tag)}\r\n0\r\n\r\n`,
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'a negative chunk size',
    bytes: (auth, tag) => `${publishHead(auth, ['Transfer-Encoding: chunked'])}-1\r\n${attackBody(tag)}\r\n0\r\n\r\n`,
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'a valid publish written one byte at a time still publishes',
    bytes: (auth, tag) => {
      const body = attackBody(tag);
      return publishHead(auth, [`Content-Length: ${body.length}`]) + body;
    },
    statuses: [202],
    closed: false,
    published: 1,
    byteAtATime: true,
  },
];

/** Rows on `GET /events`: a stream never answers a second request, so none may run behind one. */
export const STREAM_ROWS: readonly SmugglingRow[] = [
  {
    name: 'stream request with CL then TE chunked',
    bytes: (auth, tag) => {
      const rest = `0\r\n\r\n${smuggled(auth, tag)}`;
      return streamHead(auth, [`Content-Length: ${rest.length}`, 'Transfer-Encoding: chunked']) + rest;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with TE chunked then CL',
    bytes: (auth, tag) => streamHead(auth, ['Transfer-Encoding: chunked', 'Content-Length: 4']) + oneChunk(smuggled(auth, tag)),
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with two Content-Length',
    bytes: (auth, tag) => {
      const hidden = smuggled(auth, tag);
      return streamHead(auth, ['Content-Length: 0', `Content-Length: ${hidden.length}`]) + hidden;
    },
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with two Host headers, a request pipelined behind',
    bytes: (auth, tag) => streamHead(auth, ['Host: y']) + smuggled(auth, tag),
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with two Transfer-Encoding chunked lines',
    bytes: (auth, tag) => streamHead(auth, ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']) + oneChunk(smuggled(auth, tag)),
    statuses: [400],
    code: 'duplicate_header',
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with Transfer-Encoding chunked, identity',
    bytes: (auth, tag) => streamHead(auth, ['Transfer-Encoding: chunked, identity']) + oneChunk(smuggled(auth, tag)),
    statuses: [501],
    code: 'unsupported_transfer_encoding',
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with Transfer-Encoding gzip, chunked',
    bytes: (auth, tag) => streamHead(auth, ['Transfer-Encoding: gzip, chunked']) + oneChunk(smuggled(auth, tag)),
    statuses: [501],
    code: 'unsupported_transfer_encoding',
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with obs-fold hiding Content-Length',
    bytes: (auth, tag) => {
      const hidden = smuggled(auth, tag);
      return streamHead(auth, ['X-Folded: a', ` Content-Length: ${hidden.length}`]) + hidden;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with a space before the colon of Content-Length',
    bytes: (auth, tag) => {
      const hidden = smuggled(auth, tag);
      return streamHead(auth, [`Content-Length : ${hidden.length}`]) + hidden;
    },
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with bare LF line endings',
    bytes: (auth, tag) => streamHead(auth, [], undefined, '\n') + smuggled(auth, tag),
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with NUL in a header value',
    bytes: (auth, tag) => streamHead(auth, ['X-Nul: a\0b']) + smuggled(auth, tag),
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request in absolute-form',
    bytes: (auth, tag) => streamHead(auth, [], `GET http://x/events?${auth.streamQuery} HTTP/1.1`) + smuggled(auth, tag),
    statuses: [200],
    statusesInProduction: [],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request in asterisk-form',
    bytes: () => 'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
    statuses: [400],
    code: 'invalid_query',
    closed: false,
    published: 0,
  },
  {
    name: 'stream request after a leading CRLF',
    bytes: (auth, tag) => `\r\n${streamHead(auth, [])}${smuggled(auth, tag)}`,
    statuses: [200],
    statusesInProduction: [],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request with Expect 100-continue',
    bytes: (auth, tag) => streamHead(auth, ['Expect: 100-continue']) + smuggled(auth, tag),
    statuses: [100, 200],
    statusesInProduction: [100],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request over HTTP/1.0 keep-alive',
    bytes: (auth, tag) => streamHead(auth, ['Connection: keep-alive'], `GET /events?${auth.streamQuery} HTTP/1.0`) + smuggled(auth, tag),
    statuses: [200],
    statusesInProduction: [],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request whose Content-Length body is a request',
    bytes: (auth, tag) => {
      const hidden = smuggled(auth, tag);
      return streamHead(auth, [`Content-Length: ${hidden.length}`]) + hidden;
    },
    statuses: [200],
    closed: false,
    published: 0,
  },
  {
    name: 'stream request whose chunked body is a request',
    bytes: (auth, tag) => streamHead(auth, ['Transfer-Encoding: chunked']) + oneChunk(smuggled(auth, tag)),
    statuses: [200],
    closed: false,
    published: 0,
  },
  {
    name: 'stream request with a lower-case method',
    bytes: (auth, tag) => streamHead(auth, [], `get /events?${auth.streamQuery} HTTP/1.1`) + smuggled(auth, tag),
    statuses: [400],
    closed: true,
    published: 0,
  },
  {
    name: 'stream request written one byte at a time',
    bytes: (auth) => streamHead(auth, []),
    statuses: [200],
    closed: false,
    published: 0,
    byteAtATime: true,
  },
];
