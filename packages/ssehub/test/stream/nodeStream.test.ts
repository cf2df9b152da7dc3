import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidFieldError, StreamClosedError } from '../../src/errors.js';
import { createNodeStream, type StreamOptions } from '../../src/stream/createStream.js';
import type { SseStream } from '../../src/stream/SseStream.js';
import { RecordingClient, sleep } from '../support/clients.js';
import type { TestServer } from '../support/servers.js';
import { type Inbox, RawClient, streamServer, until } from './helpers.js';

let server: TestServer | undefined;
const clients: Array<{ close(): void } | RawClient> = [];

afterEach(async () => {
  for (const client of clients.splice(0)) {
    if (client instanceof RawClient) client.disconnect();
    else client.close();
  }
  await server?.close();
  server = undefined;
});

async function start(options?: StreamOptions): Promise<{ url: string; streams: Inbox<SseStream> }> {
  const started = await streamServer((req, res) => createNodeStream(req, res, options));
  server = started.server;
  return { url: started.server.url, streams: started.streams };
}

function raw(url: string, headers?: Record<string, string>): RawClient {
  const client = new RawClient(url, headers);
  clients.push(client);
  return client;
}

function recording(url: string, types?: readonly string[]): RecordingClient {
  const client = new RecordingClient(url, types);
  clients.push(client);
  return client;
}

/** Asserts that `fn` throws a StreamClosedError with its stable code. */
function expectClosedError(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StreamClosedError);
  expect((caught as StreamClosedError).code).toBe('ERR_SSEHUB_STREAM_CLOSED');
}

describe('createNodeStream (HTTP/1.1)', () => {
  it('answers 200 with exactly the SSE headers, before any event is sent', async () => {
    const { url, streams } = await start();
    const client = raw(url);
    const res: http.IncomingMessage = await client.response;
    const stream = await streams.next();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers.connection).toBe('keep-alive');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(Object.keys(res.headers).sort()).toEqual(
      ['cache-control', 'connection', 'content-type', 'date', 'transfer-encoding', 'x-accel-buffering'].sort(),
    );
    // Nothing has been sent: the headers came on their own.
    await sleep(30);
    expect(client.text).toBe('');
    expect(stream.queuedBytes).toBe(0);
    expect(stream.closed).toBe(false);
    stream.send({ id: '1', event: 'x', data: 'a\nb' });
    await client.waitForText('id: 1\nevent: x\ndata: a\ndata: b\n\n');
  });

  it('adds the extra headers of the options', async () => {
    const { url } = await start({ headers: { 'access-control-allow-origin': '*', 'x-custom': 'yes' } });
    const res = await raw(url).response;
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['x-custom']).toBe('yes');
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  });

  it('writes the exact bytes of every send method, in call order', async () => {
    const { url, streams } = await start();
    const client = raw(url);
    const stream = await streams.next();
    stream
      .send({ id: '1', data: 'first' })
      .sendData('second')
      .sendEvent('chat', 'hi\r\nthere')
      .sendJSON('json', { a: [1, 'x'] })
      .sendJSON(undefined, 5)
      .sendComment('ignored\nline')
      .sendRetry(1234)
      .send({ id: '', event: 'chat', data: 'reset' });
    await client.waitForText(
      'id: 1\ndata: first\n\n' +
        'data: second\n\n' +
        'event: chat\ndata: hi\ndata: there\n\n' +
        'event: json\ndata: {"a":[1,"x"]}\n\n' +
        'data: 5\n\n' +
        ': ignored\n: line\n\n' +
        'retry: 1234\n\n' +
        'id:\nevent: chat\ndata: reset\n\n',
    );
  });

  it('delivers every send method to a real EventSource with exact types, data and lastEventId', async () => {
    const { url, streams } = await start();
    const client = recording(url, ['message', 'chat', 'json']);
    const stream = await streams.next();
    stream.send({ id: '1', data: 'first' });
    stream.sendData('second');
    stream.sendEvent('chat', 'hi\r\nthere');
    stream.sendJSON('json', { a: [1, 'x'], s: 'é😀' });
    stream.sendJSON(undefined, 5);
    stream.sendComment('not an event');
    stream.sendRetry(1234);
    stream.send({ id: '2', event: 'chat', data: '' });
    stream.send({ id: '', event: 'chat', data: 'reset' });
    stream.sendData('after reset');
    await client.until((c) => c.events.length >= 8);
    await sleep(20);
    // The `eventsource` package reports each event's own id (not the persisted buffer) as lastEventId.
    expect(client.events).toEqual([
      { type: 'message', data: 'first', lastEventId: '1' },
      { type: 'message', data: 'second', lastEventId: '' },
      { type: 'chat', data: 'hi\nthere', lastEventId: '' },
      { type: 'json', data: '{"a":[1,"x"],"s":"é😀"}', lastEventId: '' },
      { type: 'message', data: '5', lastEventId: '' },
      { type: 'chat', data: '', lastEventId: '2' },
      { type: 'chat', data: 'reset', lastEventId: '' },
      { type: 'message', data: 'after reset', lastEventId: '' },
    ]);
    expect(client.errors).toBe(0);
  });

  it('keeps the order of a large synchronous burst', async () => {
    const { url, streams } = await start();
    const client = recording(url);
    const stream = await streams.next();
    for (let i = 0; i < 3000; i++) stream.sendData(`event ${i}`);
    await client.waitFor('message', 3000);
    expect(client.events.map((event) => event.data)).toEqual(Array.from({ length: 3000 }, (_, i) => `event ${i}`));
  });

  it('refuses an invalid field without writing anything, and stays open', async () => {
    const { url, streams } = await start();
    const client = raw(url);
    const stream = await streams.next();
    expect(() => stream.send({ id: 'a\nb', data: 'x' })).toThrow(InvalidFieldError);
    expect(() => stream.sendEvent('a\rb', 'x')).toThrow(InvalidFieldError);
    expect(() => stream.sendRetry(-1)).toThrow(InvalidFieldError);
    expect(stream.queuedBytes).toBe(0);
    stream.sendData('ok');
    await client.waitForText('data: ok\n\n');
    expect(stream.closed).toBe(false);
  });

  it('close() flushes what is queued, then ends the response', async () => {
    const { url, streams } = await start();
    const client = raw(url);
    const stream = await streams.next();
    let closes = 0;
    stream.listener = { streamClosed: () => closes++, streamOverflowed: () => {} };
    const signal = stream.signal;
    stream.sendData('one').sendData('two').sendData('three');
    stream.close();
    await until(() => client.ended, 5000, 'the end of the response');
    expect(client.text).toBe('data: one\n\ndata: two\n\ndata: three\n\n');
    await stream.done;
    expect(stream.closed).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(closes).toBe(1);
    stream.close();
    expect(closes).toBe(1);
  });

  it('throws StreamClosedError for every send once close() is called, even before the socket has closed', async () => {
    const { url, streams } = await start();
    raw(url);
    const stream = await streams.next();
    stream.close();
    for (const send of [
      () => stream.send({ data: 'x' }),
      () => stream.sendData('x'),
      () => stream.sendEvent('e', 'x'),
      () => stream.sendJSON('e', 1),
      () => stream.sendComment('x'),
      () => stream.sendRetry(1),
    ]) {
      expectClosedError(send);
    }
    expect(stream.enqueue(Buffer.from('data: x\n\n'))).toBe(false);
    await stream.done;
    expectClosedError(() => stream.sendData('x'));
  });

  it('the client sees the end of the stream: EventSource reports an error', async () => {
    const { url, streams } = await start();
    const client = recording(url);
    const stream = await streams.next();
    stream.sendRetry(60_000).sendData('bye');
    await client.waitFor('message');
    stream.close();
    await client.until((c) => c.errors > 0);
    expect(client.events).toEqual([{ type: 'message', data: 'bye', lastEventId: '' }]);
  });

  it('closes, resolves done and aborts signal when the client disconnects', async () => {
    const { url, streams } = await start();
    const client = raw(url);
    const stream = await streams.next();
    await client.response;
    let closes = 0;
    let aborts = 0;
    stream.listener = { streamClosed: () => closes++, streamOverflowed: () => {} };
    stream.signal.addEventListener('abort', () => aborts++);
    const done = stream.done;
    let resolved = false;
    void done.then(() => {
      resolved = true;
    });
    await sleep(20);
    expect(resolved).toBe(false);
    expect(stream.closed).toBe(false);
    client.disconnect();
    await done;
    expect(stream.closed).toBe(true);
    expect(stream.signal.aborted).toBe(true);
    expect(aborts).toBe(1);
    expect(closes).toBe(1);
    expectClosedError(() => stream.sendData('too late'));
  });

  it('closes when a real EventSource closes', async () => {
    const { url, streams } = await start();
    const client = recording(url);
    const stream = await streams.next();
    stream.sendData('hello');
    await client.waitFor('message');
    client.close();
    await stream.done;
    expect(stream.closed).toBe(true);
    expect(stream.signal.aborted).toBe(true);
  });

  it('signal and done read after the close are already aborted and resolved', async () => {
    const { url, streams } = await start();
    const client = raw(url);
    const stream = await streams.next();
    await client.response;
    client.disconnect();
    await until(() => stream.closed);
    expect(stream.signal.aborted).toBe(true);
    await expect(stream.done).resolves.toBeUndefined();
  });

  it('destroy() drops the connection at once and discards what is queued', async () => {
    const { url, streams } = await start();
    const client = raw(url);
    const stream = await streams.next();
    await client.response;
    stream.sendData('never sent');
    stream.destroy();
    expect(stream.closed).toBe(true);
    expect(stream.queuedBytes).toBe(0);
    await until(() => client.closed);
    expect(client.text).toBe('');
    expect(client.ended).toBe(false);
  });

  describe('Last-Event-ID', () => {
    it('reads the Last-Event-ID header', async () => {
      const { url, streams } = await start();
      raw(url, { 'Last-Event-ID': 'abc-5' });
      const stream = await streams.next();
      expect(stream.lastEventId).toBe('abc-5');
      expect(stream.lastEventIdPresent).toBe(true);
    });

    it('reads the lastEventId query parameter, decoded', async () => {
      const { url, streams } = await start();
      raw(`${url}/events?room=a&lastEventId=q%20-3%26x`);
      const stream = await streams.next();
      expect(stream.lastEventId).toBe('q -3&x');
      expect(stream.lastEventIdPresent).toBe(true);
    });

    it('prefers the header over the query parameter', async () => {
      const { url, streams } = await start();
      raw(`${url}/?lastEventId=from-query`, { 'Last-Event-ID': 'from-header' });
      const stream = await streams.next();
      expect(stream.lastEventId).toBe('from-header');
    });

    it('reports no id when the client sent none (or an empty one)', async () => {
      const { url, streams } = await start();
      raw(url);
      raw(`${url}/?lastEventId=`);
      for (let i = 0; i < 2; i++) {
        const stream = await streams.next();
        expect(stream.lastEventId).toBeUndefined();
        expect(stream.lastEventIdPresent).toBe(false);
      }
    });

    it('treats an over-long id as absent but remembers that one was sent', async () => {
      const { url, streams } = await start();
      raw(url, { 'Last-Event-ID': 'x'.repeat(257) });
      raw(`${url}/?lastEventId=${'y'.repeat(257)}`);
      raw(url, { 'Last-Event-ID': 'z'.repeat(256) });
      for (let i = 0; i < 2; i++) {
        const stream = await streams.next();
        expect(stream.lastEventId).toBeUndefined();
        expect(stream.lastEventIdPresent).toBe(true);
      }
      expect((await streams.next()).lastEventId).toBe('z'.repeat(256));
    });

    it('honours maxLastEventIdLength', async () => {
      const { url, streams } = await start({ maxLastEventIdLength: 4 });
      raw(url, { 'Last-Event-ID': 'abcd' });
      expect((await streams.next()).lastEventId).toBe('abcd');
      raw(url, { 'Last-Event-ID': 'abcde' });
      const refused = await streams.next();
      expect(refused.lastEventId).toBeUndefined();
      expect(refused.lastEventIdPresent).toBe(true);
    });

    it('receives the last id a real EventSource saw when it reconnects', async () => {
      const { url, streams } = await start();
      const client = recording(url);
      const first = await streams.next();
      expect(first.lastEventIdPresent).toBe(false);
      first.sendRetry(10).send({ id: 'e-7', data: 'seen' });
      await client.waitFor('message');
      first.close();
      const second = await streams.next();
      expect(second.lastEventId).toBe('e-7');
      expect(second.lastEventIdPresent).toBe(true);
    });
  });
});
