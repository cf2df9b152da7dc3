/**
 * better-sse 0.16, used as its documentation shows: `createSession` per request, one channel
 * for everyone, a channel per room and per user, `channel.broadcast`. better-sse serializes
 * the data object for each session (its default JSON serializer).
 *
 * Channels do not know about each other, so an event for two rooms would reach a member of both
 * twice; the second room's broadcast uses better-sse's `filter` option to skip the sessions the
 * first one reached (with the same event id), which is the library's own way to deduplicate.
 */
import { createServer } from 'node:http';
import { createChannel, createSession } from 'better-sse';
import { startControl } from './control.mjs';
import { connectionTargets } from './targets.mjs';

const everyone = createChannel();
const rooms = new Map();
const users = new Map();

function channelOf(index, key) {
  let channel = index.get(key);
  if (channel === undefined) {
    index.set(key, (channel = createChannel()));
    channel.on('session-deregistered', () => {
      if (channel.sessionCount === 0) index.delete(key);
    });
  }
  return channel;
}

const server = createServer(async (req, res) => {
  const { user, rooms: joined } = connectionTargets(req.url);
  const session = await createSession(req, res, { state: { rooms: new Set(joined) } });
  everyone.register(session);
  if (user !== undefined) channelOf(users, user).register(session);
  for (const room of joined) channelOf(rooms, room).register(session);
});

startControl(server, {
  all: (data) => everyone.broadcast(data, 'bench'),
  rooms: (names, data) => {
    const eventId = crypto.randomUUID();
    const reached = [];
    for (const name of names) {
      const channel = rooms.get(name);
      if (channel !== undefined) {
        const skip = reached.slice();
        channel.broadcast(
          data,
          'bench',
          skip.length === 0 ? { eventId } : { eventId, filter: (s) => !skip.some((r) => s.state.rooms.has(r)) },
        );
      }
      reached.push(name);
    }
  },
  user: (user, data) => users.get(user)?.broadcast(data, 'bench'),
  clients: () => everyone.sessionCount,
});
