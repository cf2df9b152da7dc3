/**
 * Who gets which event: pure functions of the event's seq, shared with the C load client
 * (bench/client/sseload.c), which uses them to know exactly what each connection should get.
 *
 * Connection i is user `u(i % users)` and in rooms `r(i % R)`, `r((i + R/3) % R)`,
 * `r((i + 2R/3) % R)`; event `seq` goes to two distinct rooms, or to one user.
 */

/** A 32-bit integer hash (lowbias32); the C client has the same. */
export function mix32(x) {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The two rooms event `seq` is sent to. */
export function roomsOf(seq, rooms) {
  const a = mix32(seq) % rooms;
  const b = (a + 1 + (mix32((seq ^ 0x9e3779b9) >>> 0) % (rooms - 1))) % rooms;
  return [`r${a}`, `r${b}`];
}

/** The user event `seq` is sent to. */
export function userOf(seq, users) {
  return `u${mix32(seq) % users}`;
}

/** The user and rooms of a connection, read from `?user=&room=` as the C client sends them. */
export function connectionTargets(url) {
  const query = new URL(url ?? '/', 'http://localhost').searchParams;
  return { user: query.get('user') ?? undefined, rooms: query.getAll('room') };
}
