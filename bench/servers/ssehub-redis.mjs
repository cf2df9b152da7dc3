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

const hub = createHub({
  backend: createRedisBackend({ redis: process.env.BENCH_REDIS_URL }),
  authenticate: (request) => {
    const query = request.query;
    const rooms = query.getAll('room');
    return rooms.length > 0 ? { userId: query.get('user') ?? undefined, rooms } : { userId: query.get('user') ?? undefined };
  },
});
// The port is printed once the backend is subscribed: a client that connects earlier is refused.
await hub.ready();

// hub.broadcast returns a promise that settles after Redis answered: the publisher keeps at most
// 256 unsettled (eight loop turns of 32) and counts the failures (see control.mjs).
startControl(
  createSseServer(hub),
  {
    all: (data) => hub.broadcast('bench', data),
    rooms: (rooms, data) => hub.toRoom(...rooms).send('bench', data),
    user: (user, data) => hub.toUser(user).send('bench', data),
    clients: () => hub.connectionCount(),
  },
  { maxInFlight: 256 },
);
