// A live dashboard: the server broadcasts its own figures every second to everyone watching.
// Figures are ephemeral: a reconnecting dashboard wants the newest, not a replay. Served by
// createSseServer: the hub answers /events itself; anything else gets node:http's 404.
//   node examples/live-dashboard.mjs
//   curl -N http://127.0.0.1:3005/events
import { createHub, createSseServer } from 'ssehub';

const hub = createHub({ ephemeralEvents: ['metrics'] });
setInterval(() => {
  const { heapUsed, rss } = process.memoryUsage();
  hub.toAll().send('metrics', { time: Date.now(), viewers: hub.connectionCount(), heapUsed, rss, load: process.cpuUsage() });
}, 1000).unref();

const server = createSseServer(hub, { path: '/events' });
server.listen(Number(process.env.PORT ?? 3005), '127.0.0.1', () =>
  console.log(`dashboard feed on http://127.0.0.1:${server.address().port}/events`),
);
