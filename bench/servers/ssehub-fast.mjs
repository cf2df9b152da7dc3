/**
 * ssehub, the library with its own server: the same hub as ssehub-lib.mjs (defaults, users and
 * rooms from `?user=&room=`), served by `createSseServer(hub)` instead of node:http.
 */
import { startControl } from './control.mjs';

// The bench measures its own copy of the built library (bench/.build/ssehub, see run.mjs).
const { createHub, createSseServer } = await import(process.env.BENCH_SSEHUB ?? 'ssehub');

const hub = createHub({
  authenticate: (request) => {
    const query = request.query;
    const rooms = query.getAll('room');
    return rooms.length > 0 ? { userId: query.get('user') ?? undefined, rooms } : { userId: query.get('user') ?? undefined };
  },
});

startControl(createSseServer(hub), {
  all: (data) => hub.broadcast('bench', data),
  rooms: (rooms, data) => hub.toRoom(...rooms).send('bench', data),
  user: (user, data) => hub.toUser(user).send('bench', data),
  clients: () => hub.connectionCount(),
});
