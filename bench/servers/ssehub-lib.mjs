/**
 * ssehub, the library: `createHub` + `hub.handler()` on node:http, with the defaults
 * (heartbeat every 15 s, resume history on). Users and rooms come from `?user=&room=`.
 */
import { createServer } from 'node:http';
import { startControl } from './control.mjs';

// The bench measures its own copy of the built library (bench/.build/ssehub, see run.mjs).
const { createHub } = await import(process.env.BENCH_SSEHUB ?? 'ssehub');

const hub = createHub({
  authenticate: (request) => {
    const query = request.query;
    const rooms = query.getAll('room');
    return rooms.length > 0 ? { userId: query.get('user') ?? undefined, rooms } : { userId: query.get('user') ?? undefined };
  },
});

startControl(createServer(hub.handler()), {
  all: (data) => hub.broadcast('bench', data),
  rooms: (rooms, data) => hub.toRoom(...rooms).send('bench', data),
  user: (user, data) => hub.toUser(user).send('bench', data),
  clients: () => hub.connectionCount(),
});
