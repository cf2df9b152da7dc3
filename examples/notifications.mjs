// User notifications with replay of missed notifications: every tab and device of a user gets
// them; a browser that was offline receives what it missed when it reconnects (Last-Event-ID).
//   node examples/notifications.mjs
//   curl -N 'http://127.0.0.1:3002/events?user=grace'
//   curl -X POST 'http://127.0.0.1:3002/notify/grace' -d 'Ada follows you'
//   curl -N -H 'Last-Event-ID: <an id you saw>' 'http://127.0.0.1:3002/events?user=grace'
import http from 'node:http';
import { createHub, refuse } from 'ssehub';

const hub = createHub({
  authenticate(req) {
    const user = req.query.get('user');
    return user ? { userId: user } : refuse(401, 'pass ?user=');
  },
  maxClientsPerUser: 5,
  history: { maxEvents: 1000, maxAgeMs: 24 * 60 * 60 * 1000 },
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/events') return hub.handler()(req, res);
  const user = /^\/notify\/([^/]+)$/.exec(url.pathname)?.[1];
  if (req.method === 'POST' && user) {
    let message = '';
    for await (const chunk of req) message += chunk;
    const audience = hub.toUser(decodeURIComponent(user));
    const id = await audience.notify({ title: 'New follower', message, level: 'info' });
    await audience.updateBadge({ badge: 'notifications', count: 1 });
    return res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
  }
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 3002), '127.0.0.1', () =>
  console.log(`notifications on http://127.0.0.1:${server.address().port}`),
);
