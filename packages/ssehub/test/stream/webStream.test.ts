import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamClosedError } from '../../src/errors.js';
import { createWebStream } from '../../src/stream/createStream.js';
import type { SseStream } from '../../src/stream/SseStream.js';
import { RecordingClient } from '../support/clients.js';
import { listen, type TestServer } from '../support/servers.js';
import { Inbox, RawClient, until } from './helpers.js';

/** Reads a Web body chunk by chunk, decoding UTF-8 across chunk boundaries. */
class BodyReader {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  text = '';
  done = false;

  constructor(response: Response) {
    this.reader = (response.body as ReadableStream<Uint8Array>).getReader();
  }

  /** Reads until the text read so far is `expected` (or longer). */
  async readUntil(expected: string): Promise<string> {
    while (this.text.length < expected.length && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else this.text += this.#decoder.decode(value, { stream: true });
    }
    return this.text;
  }

  /** Reads to the end of the body. */
  async readAll(): Promise<string> {
    while (!this.done) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else this.text += this.#decoder.decode(value, { stream: true });
    }
    return this.text;
  }
}

const request = (path = '/sse', init?: RequestInit): Request => new Request(`http://127.0.0.1${path}`, init);

describe('createWebStream', () => {
  it('returns a 200 Response with the SSE headers and no connection header', () => {
    const { response, stream } = createWebStream(request());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('connection')).toBeNull();
    expect([...response.headers.keys()].sort()).toEqual(['cache-control', 'content-type', 'x-accel-buffering']);
    expect(stream.closed).toBe(false);
    stream.destroy();
  });

  it('adds the extra headers of the options', () => {
    const { response, stream } = createWebStream(request(), { headers: { 'access-control-allow-origin': '*' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    stream.destroy();
  });

  it('works without a request', async () => {
    const { response, stream } = createWebStream();
    expect(stream.lastEventId).toBeUndefined();
    expect(stream.lastEventIdPresent).toBe(false);
    const body = new BodyReader(response);
    stream.sendData('x');
    expect(await body.readUntil('data: x\n\n')).toBe('data: x\n\n');
    stream.close();
  });

  it('streams the exact bytes of every send method, in order', async () => {
    const { response, stream } = createWebStream(request());
    const body = new BodyReader(response);
    stream
      .send({ id: '1', event: 'chat', data: 'a\r\nb\rc' })
      .sendData('😀 é')
      .sendJSON('json', [1, 'two'])
      .sendComment()
      .sendRetry(0)
      .send({ id: '' });
    const expected =
      'id: 1\nevent: chat\ndata: a\ndata: b\ndata: c\n\ndata: 😀 é\n\nevent: json\ndata: [1,"two"]\n\n:\n\nretry: 0\n\nid:\ndata:\n\n';
    expect(await body.readUntil(expected)).toBe(expected);
    stream.close();
    expect(await body.readAll()).toBe(expected);
  });

  it('close() delivers what is queued, then ends the body; the stream is closed at once', async () => {
    const { response, stream } = createWebStream(request());
    const body = new BodyReader(response);
    stream.sendData('one').sendData('two');
    stream.close();
    expect(stream.closed).toBe(true);
    expect(stream.signal.aborted).toBe(true);
    await stream.done;
    expect(await body.readAll()).toBe('data: one\n\ndata: two\n\n');
    expect(() => stream.sendData('three')).toThrow(StreamClosedError);
  });

  it('cancelling the reader closes the stream, aborts its signal and resolves done', async () => {
    const { response, stream } = createWebStream(request());
    const signal = stream.signal;
    let aborts = 0;
    signal.addEventListener('abort', () => aborts++);
    let closes = 0;
    stream.listener = { streamClosed: () => closes++, streamOverflowed: () => {} };
    const body = new BodyReader(response);
    stream.sendData('hi');
    await body.readUntil('data: hi\n\n');
    expect(stream.closed).toBe(false);
    await body.reader.cancel();
    expect(stream.closed).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(aborts).toBe(1);
    expect(closes).toBe(1);
    await stream.done;
    let caught: unknown;
    try {
      stream.sendData('late');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StreamClosedError);
    expect((caught as StreamClosedError).code).toBe('ERR_SSEHUB_STREAM_CLOSED');
  });

  it("aborting the request's signal closes the stream and errors the body", async () => {
    const controller = new AbortController();
    const { response, stream } = createWebStream(request('/sse', { signal: controller.signal }));
    const body = new BodyReader(response);
    stream.sendData('hi');
    await body.readUntil('data: hi\n\n');
    controller.abort();
    await until(() => stream.closed);
    expect(stream.signal.aborted).toBe(true);
    await expect(body.reader.read()).rejects.toBeDefined();
  });

  it('destroy() errors the body and closes the stream', async () => {
    const { response, stream } = createWebStream(request());
    const body = new BodyReader(response);
    stream.sendData('dropped');
    stream.destroy();
    expect(stream.closed).toBe(true);
    await expect(body.reader.read()).rejects.toThrow('SSE stream destroyed');
  });

  describe('Last-Event-ID', () => {
    it('reads the header, then the query parameter, header first', () => {
      const fromHeader = createWebStream(request('/sse?lastEventId=q', { headers: { 'Last-Event-ID': 'h-1' } })).stream;
      expect(fromHeader.lastEventId).toBe('h-1');
      expect(fromHeader.lastEventIdPresent).toBe(true);
      const fromQuery = createWebStream(request('/sse?a=1&lastEventId=q-2')).stream;
      expect(fromQuery.lastEventId).toBe('q-2');
      expect(fromQuery.lastEventIdPresent).toBe(true);
      const none = createWebStream(request('/sse')).stream;
      expect(none.lastEventId).toBeUndefined();
      expect(none.lastEventIdPresent).toBe(false);
      for (const stream of [fromHeader, fromQuery, none]) stream.destroy();
    });

    it('treats an over-long id as absent but present, with the default and a custom limit', () => {
      const long = createWebStream(request('/sse', { headers: { 'Last-Event-ID': 'x'.repeat(257) } })).stream;
      expect(long.lastEventId).toBeUndefined();
      expect(long.lastEventIdPresent).toBe(true);
      const custom = createWebStream(request('/sse?lastEventId=abcde'), { maxLastEventIdLength: 4 }).stream;
      expect(custom.lastEventId).toBeUndefined();
      expect(custom.lastEventIdPresent).toBe(true);
      const fits = createWebStream(request('/sse?lastEventId=abcd'), { maxLastEventIdLength: 4 }).stream;
      expect(fits.lastEventId).toBe('abcd');
      for (const stream of [long, custom, fits]) stream.destroy();
    });
  });

  describe('served over a real socket (fetch-style adapter on node:http)', () => {
    let server: TestServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    /** Bridges node:http to a fetch-style handler, aborting the Request when the client leaves. */
    async function serveWeb(): Promise<Inbox<SseStream>> {
      const streams = new Inbox<SseStream>();
      server = await listen((req, res) => {
        const controller = new AbortController();
        res.on('close', () => controller.abort());
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
        const { stream, response } = createWebStream(new Request(`http://127.0.0.1${req.url}`, { headers, signal: controller.signal }));
        streams.push(stream);
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.flushHeaders();
        Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>)
          .on('error', () => {})
          .pipe(res);
      });
      return streams;
    }

    it('delivers events to a real EventSource and closes when it disconnects', async () => {
      const streams = await serveWeb();
      const client = new RecordingClient(`${(server as TestServer).url}/sse?lastEventId=w-1`, ['message', 'chat']);
      const stream = await streams.next();
      expect(stream.lastEventId).toBe('w-1');
      stream.send({ id: 'w-2', event: 'chat', data: 'a\nb' }).sendData('plain');
      await client.until((c) => c.events.length >= 2);
      expect(client.events).toEqual([
        { type: 'chat', data: 'a\nb', lastEventId: 'w-2' },
        { type: 'message', data: 'plain', lastEventId: '' },
      ]);
      client.close();
      await stream.done;
      expect(stream.closed).toBe(true);
      expect(stream.signal.aborted).toBe(true);
    });

    it('a raw client sees the exact bytes and the end after close()', async () => {
      const streams = await serveWeb();
      const client = new RawClient(`${(server as TestServer).url}/sse`);
      const res = await client.response;
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      const stream = await streams.next();
      stream.sendData('x').sendComment('c').close();
      await until(() => client.ended);
      expect(client.text).toBe('data: x\n\n: c\n\n');
    });
  });
});
