import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../../src/errors.js';
import type { SseEvent } from '../../src/protocol/SseEvent.js';
import { createNodeStream } from '../../src/stream/createStream.js';
import type { SseStream } from '../../src/stream/SseStream.js';
import { serve, serveFunction } from '../../src/stream/serve.js';
import { RecordingClient, sleep } from '../support/clients.js';
import type { TestServer } from '../support/servers.js';
import { type Inbox, RawClient, streamServer, until } from './helpers.js';

let server: TestServer | undefined;
const clients: Array<RawClient | RecordingClient> = [];

afterEach(async () => {
  for (const client of clients.splice(0)) {
    if (client instanceof RawClient) client.disconnect();
    else client.close();
  }
  await server?.close();
  server = undefined;
});

async function start(): Promise<{ url: string; streams: Inbox<SseStream> }> {
  const started = await streamServer((req, res) => createNodeStream(req, res));
  server = started.server;
  return { url: started.server.url, streams: started.streams };
}

async function connect(): Promise<{ client: RawClient; stream: SseStream }> {
  const { url, streams } = await start();
  const client = new RawClient(url);
  clients.push(client);
  await client.response;
  return { client, stream: await streams.next() };
}

describe('serve', () => {
  it('sends the events of an async iterable in order, then closes the stream', async () => {
    const { client, stream } = await connect();
    async function* source(): AsyncGenerator<SseEvent> {
      yield { id: '1', data: 'a' };
      await delay(5);
      yield { event: 'chat', data: 'b\nc' };
      yield { retry: 100 };
      yield { data: 'd' };
    }
    await serve(stream, source(), { keepAliveMs: 0 });
    await until(() => client.ended, 5000, 'the end of the response');
    expect(client.text).toBe('id: 1\ndata: a\n\nevent: chat\ndata: b\ndata: c\n\nretry: 100\n\ndata: d\n\n');
    await stream.done;
    expect(stream.closed).toBe(true);
  });

  it('sends the events of a plain iterable in order', async () => {
    const { client, stream } = await connect();
    const events = Array.from({ length: 100 }, (_, i) => ({ data: String(i) }));
    await serve(stream, events, { keepAliveMs: 0 });
    await until(() => client.ended);
    expect(client.text).toBe(events.map((event) => `data: ${event.data}\n\n`).join(''));
  });

  it('delivers to a real EventSource in order', async () => {
    const { url, streams } = await start();
    const client = new RecordingClient(url, ['message', 'tick']);
    clients.push(client);
    const stream = await streams.next();
    async function* ticks(): AsyncGenerator<SseEvent> {
      yield { retry: 60_000 };
      for (let i = 0; i < 20; i++) {
        if (i % 5 === 0) await delay(1);
        yield { id: `t-${i}`, event: 'tick', data: JSON.stringify({ i }) };
      }
    }
    await serve(stream, ticks(), { keepAliveMs: 0 });
    await client.waitFor('tick', 20);
    expect(client.events).toEqual(Array.from({ length: 20 }, (_, i) => ({ type: 'tick', data: `{"i":${i}}`, lastEventId: `t-${i}` })));
  });

  it('sends `:` keep-alive comments while the source is idle', async () => {
    const { client, stream } = await connect();
    async function* late(): AsyncGenerator<SseEvent> {
      await delay(260);
      yield { data: 'late' };
    }
    await serve(stream, late(), { keepAliveMs: 50 });
    await until(() => client.ended);
    const text = client.text;
    expect(text).toMatch(/^(:\n\n)+data: late\n\n$/);
    const comments = text.split(':\n\n').length - 1;
    expect(comments).toBeGreaterThanOrEqual(2);
    expect(comments).toBeLessThanOrEqual(6);
  });

  it('sends no keep-alive while events flow faster than keepAliveMs', async () => {
    const { client, stream } = await connect();
    async function* busy(): AsyncGenerator<SseEvent> {
      for (let i = 0; i < 30; i++) {
        await delay(5);
        yield { data: String(i) };
      }
    }
    // Let the shared flush clock tick before the stream's first write is measured.
    stream.sendComment('start');
    await sleep(10);
    await serve(stream, busy(), { keepAliveMs: 120 });
    await until(() => client.ended);
    expect(client.text).toBe(`: start\n\n${Array.from({ length: 30 }, (_, i) => `data: ${i}\n\n`).join('')}`);
  });

  it('stops pulling the source when the client disconnects, and runs the generator finally', async () => {
    const { client, stream } = await connect();
    let pulled = 0;
    let finallyRan = false;
    async function* endless(): AsyncGenerator<SseEvent> {
      try {
        for (;;) {
          pulled++;
          yield { data: `n${pulled}` };
          await delay(5);
        }
      } finally {
        finallyRan = true;
      }
    }
    const served = serve(stream, endless(), { keepAliveMs: 0 });
    await until(() => client.text.includes('data: n3\n\n'));
    client.disconnect();
    await served;
    expect(stream.closed).toBe(true);
    expect(stream.signal.aborted).toBe(true);
    await until(() => finallyRan, 2000, 'the generator finally block');
    const pulledAtStop = pulled;
    await sleep(30);
    expect(pulled).toBe(pulledAtStop);
  });

  it('stops a source that is waiting when the client disconnects', async () => {
    const { client, stream } = await connect();
    let finallyRan = false;
    async function* waiting(): AsyncGenerator<SseEvent> {
      try {
        yield { data: 'first' };
        await delay(200);
        yield { data: 'never' };
      } finally {
        finallyRan = true;
      }
    }
    const served = serve(stream, waiting(), { keepAliveMs: 0 });
    await until(() => client.text === 'data: first\n\n');
    const disconnectedAt = Date.now();
    client.disconnect();
    await served;
    // serve returns at the disconnect, not when the source would have yielded again.
    expect(Date.now() - disconnectedAt).toBeLessThan(150);
    await until(() => finallyRan, 2000, 'the generator finally block');
  });

  it('stops and closes the stream when options.signal aborts', async () => {
    const { client, stream } = await connect();
    const controller = new AbortController();
    async function* endless(): AsyncGenerator<SseEvent> {
      for (let i = 0; ; i++) {
        yield { data: String(i) };
        await delay(5);
      }
    }
    const served = serve(stream, endless(), { keepAliveMs: 0, signal: controller.signal });
    await until(() => client.text.includes('data: 2\n\n'));
    controller.abort();
    await served;
    await until(() => client.ended, 5000, 'the end of the response');
    await stream.done;
    expect(stream.closed).toBe(true);
    expect(client.text).toMatch(/^(data: \d+\n\n)+$/);
  });

  it('leaves the stream open when closeOnEnd is false', async () => {
    const { client, stream } = await connect();
    await serve(stream, [{ data: 'a' }], { keepAliveMs: 0, closeOnEnd: false });
    expect(stream.closed).toBe(false);
    stream.sendData('b');
    await client.waitForText('data: a\n\ndata: b\n\n');
    expect(client.ended).toBe(false);
  });

  it('rejects with InvalidFieldError for an invalid event and closes the stream', async () => {
    const { client, stream } = await connect();
    await expect(
      serve(stream, [{ data: 'ok' }, { id: 'a\nb', data: 'bad' }, { data: 'never' }], { keepAliveMs: 0 }),
    ).rejects.toBeInstanceOf(InvalidFieldError);
    await until(() => client.ended);
    expect(client.text).toBe('data: ok\n\n');
  });
});

describe('serveFunction', () => {
  it('sends what the producer sends, in order, then closes the stream when it returns', async () => {
    const { client, stream } = await connect();
    await serveFunction(
      stream,
      async (send) => {
        send({ id: '1', data: 'a' });
        await delay(5);
        send({ event: 'e', data: 'b' });
        send({ data: 'c' });
      },
      { keepAliveMs: 0 },
    );
    await until(() => client.ended);
    expect(client.text).toBe('id: 1\ndata: a\n\nevent: e\ndata: b\n\ndata: c\n\n');
    await stream.done;
    expect(stream.closed).toBe(true);
  });

  it('sends keep-alive comments while the producer is idle', async () => {
    const { client, stream } = await connect();
    await serveFunction(
      stream,
      async (send) => {
        await delay(230);
        send({ data: 'late' });
      },
      { keepAliveMs: 50 },
    );
    await until(() => client.ended);
    expect(client.text).toMatch(/^(:\n\n){2,6}data: late\n\n$/);
  });

  it('aborts the producer signal on disconnect and resolves (the abort is not an error)', async () => {
    const { client, stream } = await connect();
    let producerSignal: AbortSignal | undefined;
    let sentAfterAbort = 0;
    const served = serveFunction(
      stream,
      async (send, signal) => {
        producerSignal = signal;
        send({ data: 'hello' });
        try {
          await delay(10_000, undefined, { signal });
        } finally {
          // A send after the abort is silently ignored, not thrown.
          send({ data: 'ignored' });
          sentAfterAbort++;
        }
      },
      { keepAliveMs: 0 },
    );
    await until(() => client.text === 'data: hello\n\n');
    const disconnectedAt = Date.now();
    client.disconnect();
    await expect(served).resolves.toBeUndefined();
    expect(Date.now() - disconnectedAt).toBeLessThan(1000);
    expect(producerSignal?.aborted).toBe(true);
    expect(sentAfterAbort).toBe(1);
    expect(stream.closed).toBe(true);
  });

  it('rethrows a producer error and still closes the stream', async () => {
    const { client, stream } = await connect();
    const failure = new Error('producer failed');
    await expect(
      serveFunction(
        stream,
        (send) => {
          send({ data: 'before' });
          throw failure;
        },
        { keepAliveMs: 0 },
      ),
    ).rejects.toBe(failure);
    await until(() => client.ended);
    expect(client.text).toBe('data: before\n\n');
  });

  it('stops with options.signal', async () => {
    const { client, stream } = await connect();
    const controller = new AbortController();
    let stoppedBy: AbortSignal | undefined;
    const served = serveFunction(
      stream,
      async (send, signal) => {
        stoppedBy = signal;
        send({ data: 'x' });
        await delay(10_000, undefined, { signal });
      },
      { keepAliveMs: 0, signal: controller.signal },
    );
    await until(() => client.text === 'data: x\n\n');
    controller.abort();
    await served;
    expect(stoppedBy?.aborted).toBe(true);
    await until(() => client.ended);
    expect(stream.closed).toBe(true);
  });
});
