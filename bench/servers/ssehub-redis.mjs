/**
 * ssehub on Redis: the same hub and server as ssehub-fast.mjs (createSseServer, users and rooms
 * from `?user=&room=`), with the Redis backend on the run's own redis-server (BENCH_REDIS_URL,
 * started by run.mjs). Every publish is a round trip to Redis (the Lua append), and every event
 * reaches the clients through the hub reading the log back (XREAD): the path a cluster takes.
 */
import { startControl } from './control.mjs';

// The bench measures its own copy of the built library (bench/.build/ssehub, see run.mjs); the
// Redis entry point sits next to it.
const ssehub = process.env.BENCH_SSEHUB ?? 'ssehub';
const { createHub, createSseServer } = await import(ssehub);
const { createRedisBackend } = await import(ssehub === 'ssehub' ? 'ssehub/redis' : new URL('redis.js', ssehub).href);

if (process.env.BENCH_REDIS_URL === undefined) throw new Error('BENCH_REDIS_URL is not set (run.mjs starts a redis-server)');

const backend = createRedisBackend({ redis: process.env.BENCH_REDIS_URL });

// The Redis leg: from the publish call (the payload's `t`) to the event read back from the log in
// this process, where the fan-out starts. The memory backend has none (its append delivers at
// once), so this is the latency Redis adds, without the fan-out's writes that dominate p99 at
// thousands of clients. A listener of its own on the hub's backend sees every event the hub
// sees; subscribed before the hub's, it runs first, so the hub's fan-out is not in the time.
let legs = [];
await backend.subscribe((message) => {
  const t = Number(/"t":(\d+)/.exec(message.data)?.[1]);
  if (t > 0) legs.push((Number(process.hrtime.bigint()) - t) / 1e6);
});
function redisLeg() {
  const sorted = legs.sort((a, b) => a - b);
  legs = [];
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return sorted.length === 0 ? {} : { redisLegP50Ms: at(0.5), redisLegP99Ms: at(0.99), redisLegMaxMs: sorted.at(-1) };
}

const hub = createHub({
  backend,
  authenticate: (request) => {
    const query = request.query;
    const rooms = query.getAll('room');
    return rooms.length > 0 ? { userId: query.get('user') ?? undefined, rooms } : { userId: query.get('user') ?? undefined };
  },
});
// The port is printed once the backend is subscribed: a client that connects earlier is refused.
await hub.ready();

// hub.broadcast returns a promise that settles once Redis answered. The publisher keeps at most 64
// unsettled (two loop turns of 32; the depth of the redis-publisher scenario) and counts the
// failures (see control.mjs): a deeper queue would only add its own wait to every event's latency.
startControl(
  createSseServer(hub),
  {
    all: (data) => hub.broadcast('bench', data),
    rooms: (rooms, data) => hub.toRoom(...rooms).send('bench', data),
    user: (user, data) => hub.toUser(user).send('bench', data),
    clients: () => hub.connectionCount(),
    extra: redisLeg,
  },
  { maxInFlight: 64 },
);
