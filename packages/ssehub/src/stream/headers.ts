/** The response headers of an event stream, for every transport. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // Tells nginx (and proxies that copy it) not to buffer the stream.
  'x-accel-buffering': 'no',
});

/** HTTP/1.1 also needs `Connection: keep-alive`; HTTP/2 forbids connection-specific headers. */
export const SSE_HEADERS_HTTP1: Readonly<Record<string, string>> = Object.freeze({
  ...SSE_HEADERS,
  connection: 'keep-alive',
});
