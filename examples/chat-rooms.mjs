// Chat rooms: users join rooms with ?room=, messages are POSTed to a room.
//   node examples/chat-rooms.mjs
//   curl -N 'http://127.0.0.1:3001/events?user=ada&room=lobby'
//   curl -X POST 'http://127.0.0.1:3001/rooms/lobby?user=bob' -d 'hello lobby'
import http from 'node:http';
import { createHub, refuse } from 'ssehub';

const hub = createHub({
  authenticate(req) {
    const user = req.query.get('user');
    if (!user) return refuse(401, 'pass ?user=');
    return { userId: user, rooms: req.query.getAll('room') };
  },
  onConnect: (client) => void hub.toRoom(...client.rooms).send('joined', { user: client.userId }, { history: false }),
  ephemeralEvents: ['joined'],
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/events') return hub.handler()(req, res);
  const room = /^\/rooms\/([^/]+)$/.exec(url.pathname)?.[1];
  if (req.method === 'POST' && room) {
    let text = '';
    for await (const chunk of req) text += chunk;
    const id = await hub.toRoom(decodeURIComponent(room)).send('chat', { from: url.searchParams.get('user'), text });
    return res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
  }
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => console.log(`chat rooms on http://127.0.0.1:${server.address().port}`));
process.on('SIGINT', async () => {
  await hub.close();
  server.close();
});
