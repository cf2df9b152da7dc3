/**
 * The plain node:http baseline: SSE headers, the responses kept in an array, and each event
 * encoded once into a Buffer that is `res.write`n to every response, ignoring backpressure.
 * Rooms are a Map<room, Set<res>> with a per-publish Set to deliver overlaps once; users a
 * Map<user, Set<res>>.
 */
import { createServer } from 'node:http';
import { startControl } from './control.mjs';
import { connectionTargets } from './targets.mjs';

const HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

const responses = [];
const rooms = new Map();
const users = new Map();
let seq = 0;

function addTo(index, key, res) {
  let members = index.get(key);
  if (members === undefined) index.set(key, (members = new Set()));
  members.add(res);
}

function removeFrom(index, key, res) {
  const members = index.get(key);
  members?.delete(res);
  if (members?.size === 0) index.delete(key);
}

const server = createServer((req, res) => {
  res.writeHead(200, HEADERS);
  res.flushHeaders();
  const { user, rooms: joined } = connectionTargets(req.url);
  responses.push(res);
  if (user !== undefined) addTo(users, user, res);
  for (const room of joined) addTo(rooms, room, res);
  res.on('close', () => {
    const index = responses.indexOf(res);
    responses[index] = responses[responses.length - 1];
    responses.pop();
    if (user !== undefined) removeFrom(users, user, res);
    for (const room of joined) removeFrom(rooms, room, res);
  });
});

const encode = (data) => Buffer.from(`id: ${++seq}\nevent: bench\ndata: ${JSON.stringify(data)}\n\n`);

startControl(server, {
  all: (data) => {
    const bytes = encode(data);
    for (const res of responses) res.write(bytes);
  },
  rooms: (names, data) => {
    const bytes = encode(data);
    const seen = new Set();
    for (const name of names) {
      const members = rooms.get(name);
      if (members === undefined) continue;
      for (const res of members) {
        if (seen.has(res)) continue;
        seen.add(res);
        res.write(bytes);
      }
    }
  },
  user: (user, data) => {
    const bytes = encode(data);
    const members = users.get(user);
    if (members !== undefined) for (const res of members) res.write(bytes);
  },
  clients: () => responses.length,
});
