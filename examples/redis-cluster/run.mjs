// Services publish to users anywhere: two hub processes share one Redis, a payments service
// that holds no connection publishes per-user `transaction` updates, and each user gets exactly
// its own, in order, whichever hub it is connected to. Stops by itself after a few seconds.
//   node examples/redis-cluster/run.mjs          (starts a redis-server of its own on a free port)
//   REDIS_URL=redis://127.0.0.1:6379 node examples/redis-cluster/run.mjs
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const children = [];
// Whatever happens, no child outlives the example.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

/** Resolves with the first match of `pattern` in the stdout of `child` (read on to its end). */
function lineOf(child, pattern) {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match === null) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve(match);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited (${code}) before printing ${pattern}: ${output}`)));
  });
}

async function freePort() {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Whether a Redis answers PING on `port`. */
function answers(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

async function startRedis() {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
  const redis = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(redis);
  redis.on('error', (error) => {
    console.error(`cannot start redis-server (${error.message}): install it, or set REDIS_URL`);
    process.exit(1);
  });
  while (!(await answers(port))) {
    if (redis.exitCode !== null) throw new Error(`redis-server exited with ${redis.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return `redis://127.0.0.1:${port}`;
}

/**
 * A browser stand-in: reads the user's event stream from `base`, prints each transaction, and
 * resolves `connected` once the hub has said hello.
 */
function subscribe(user, hubName, base) {
  const abort = new AbortController();
  let hello;
  const connected = new Promise((resolve) => {
    hello = resolve;
  });
  const done = (async () => {
    const response = await fetch(`${base}/events?user=${user}`, { signal: abort.signal });
    let buffer = '';
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const fields = Object.fromEntries(
          buffer
            .slice(0, end)
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
        );
        buffer = buffer.slice(end + 2);
        if (fields.event === 'connected') hello();
        if (fields.event === 'transaction') {
          const { id, status, amount } = JSON.parse(fields.data);
          console.log(`${user}@${hubName}: transaction ${id} ${status} ${amount}`);
        }
      }
    }
  })().catch((error) => {
    if (!abort.signal.aborted) throw error;
  });
  return { connected, done, close: () => abort.abort() };
}

const ownRedis = process.env.REDIS_URL === undefined;
const redisUrl = ownRedis ? await startRedis() : process.env.REDIS_URL;
// On a shared Redis, keys of this run's own: nothing left from another run is read back.
const prefix = ownRedis ? 'ssehub' : `example-${randomBytes(4).toString('hex')}`;
const env = { REDIS_URL: redisUrl, SSEHUB_PREFIX: prefix };

const hubs = {};
for (const name of ['hub-a', 'hub-b']) {
  const child = start(process.execPath, [`${here}hub.mjs`], { ...env, HUB_NAME: name, PORT: '0' });
  hubs[name] = { child, base: (await lineOf(child, /http:\/\/127\.0\.0\.1:\d+/))[0] };
}
console.log('hub-a and hub-b are up, on one Redis');

const subscribers = [subscribe('ada', 'hub-a', hubs['hub-a'].base), subscribe('grace', 'hub-b', hubs['hub-b'].base)];
await Promise.all(subscribers.map((s) => s.connected));
console.log('ada is connected to hub-a, grace to hub-b');

const publisher = start(process.execPath, [`${here}publisher.mjs`], env);
publisher.stdout.pipe(process.stdout);
const [code] = await once(publisher, 'exit');
if (code !== 0) throw new Error(`the publisher exited with ${code}`);

// Leave the last events a moment to arrive, then stop everything.
await new Promise((resolve) => setTimeout(resolve, 1000));
for (const s of subscribers) s.close();
await Promise.all(subscribers.map((s) => s.done));
for (const { child } of Object.values(hubs)) child.kill('SIGTERM');
await Promise.all(Object.values(hubs).map(({ child }) => (child.exitCode === null ? once(child, 'exit') : undefined)));
console.log('done');
process.exit(0);
