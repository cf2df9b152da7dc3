// One hub process of the cluster: its own port, its own connections, and the Redis backend, so
// that an event published anywhere on the same Redis (and prefix) reaches its users too.
// Started by run.mjs; on its own:
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3006 HUB_NAME=hub-a node examples/redis-cluster/hub.mjs
//   curl -N 'http://127.0.0.1:3006/events?user=ada'
import { createHub, createSseServer, refuse } from 'ssehub';
import { createRedisBackend } from 'ssehub/redis';

const name = process.env.HUB_NAME ?? 'hub';

const backend = createRedisBackend({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.SSEHUB_PREFIX });
/** @type {import('ssehub').Hub<import('./events.mjs').Events>} */
const hub = createHub({
  backend,
  authenticate(req) {
    const user = req.query.get('user');
    return user ? { userId: user } : refuse(401, 'pass ?user=');
  },
});
// Listen once Redis has answered: until then the hub would refuse connections (503).
await hub.ready();

const server = createSseServer(hub, { path: '/events' });
server.listen(Number(process.env.PORT ?? 3006), '127.0.0.1', () => console.log(`${name} on http://127.0.0.1:${server.address().port}`));

process.on('SIGTERM', async () => {
  server.close();
  await hub.close();
  // A backend handed to the hub stays the caller's to close.
  await backend.close();
  process.exit(0);
});
