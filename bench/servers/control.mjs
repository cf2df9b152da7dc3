/**
 * The control channel every measured server runs in its own process: the orchestrator writes
 * one JSON command per line on stdin and reads one JSON answer per line on stdout. The
 * publisher lives here, so it runs inside the server process and the same way for every server;
 * each server only says how it sends one event to everyone, to two rooms, or to one user.
 *
 * Commands:
 *   {"cmd":"stats"}      memory after two full GCs (needs --expose-gc) and the connection count
 *   {"cmd":"publish", "mode":"all"|"rooms"|"users", "durationMs", "batch", "rate", "bytes", "rooms", "users"}
 *     rate 0: `batch` events per loop turn (setImmediate) for `durationMs`, as fast as the loop turns;
 *     rate > 0: one event every 1000/rate ms. Answers when done with the count, the publish
 *     window (CLOCK_MONOTONIC ns, the clock the client reads) and the peak RSS seen meanwhile.
 *     A server whose publishes complete later (a hub on Redis: each is a round trip) sets
 *     `maxInFlight`: the loop then waits for the count of unsettled publishes to fall under it
 *     before the next batch, and answers with how many failed.
 *   {"cmd":"extra"}      what the server measures of its own (`send.extra()`), or {}
 *   {"cmd":"exit"}
 */
import { createInterface } from 'node:readline';
import { roomsOf, userOf } from './targets.mjs';

const nowNs = () => Number(process.hrtime.bigint());

/** Padding so that the JSON of an event is `bytes` long; cached per length. */
const pads = new Map();
function pad(length) {
  let value = pads.get(length);
  if (value === undefined) pads.set(length, (value = 'x'.repeat(Math.max(0, length))));
  return value;
}

/**
 * The event payload, as an object (each server serializes it its own idiomatic way): the seq and
 * publish time the client checks, padded to `bytes` of JSON.
 */
export function payload(seq, bytes) {
  const t = nowNs();
  // `{"s":` + seq + `,"t":` + t + `,"p":""}`
  const head = 18 + String(seq).length + String(t).length;
  return { s: seq, t, p: pad(bytes - head) };
}

function memory() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  return process.memoryUsage();
}

function publishLoop(command, publishOne, maxInFlight) {
  return new Promise((resolve) => {
    let seq = 0;
    // Only for servers that ask for it (see startControl): the others' loop stays as it was.
    let inFlight = 0;
    let failed = 0;
    let resume;
    const settled = () => {
      inFlight--;
      if (resume !== undefined && inFlight < maxInFlight) {
        const next = resume;
        resume = undefined;
        setImmediate(next);
      }
    };
    const rejected = () => {
      failed++;
      settled();
    };
    const publish =
      maxInFlight === undefined
        ? publishOne
        : (n) => {
            inFlight++;
            publishOne(n).then(settled, rejected);
          };
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 50);
    const startNs = nowNs();
    const endNs = startNs + command.durationMs * 1e6;
    const finish = () => {
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      resolve({ count: seq, startNs, endNs: nowNs(), peakRss, ...(maxInFlight === undefined ? {} : { failed }) });
    };
    if (command.rate > 0) {
      const timer = setInterval(() => {
        publish(seq++);
        if (nowNs() >= endNs) {
          clearInterval(timer);
          finish();
        }
      }, 1000 / command.rate);
      return;
    }
    const step = () => {
      for (let i = 0; i < command.batch; i++) publish(seq++);
      if (nowNs() >= endNs)
        setImmediate(finish); // after the last batch's flush
      // Unbounded, a publisher faster than Redis would queue events in ioredis for as long as it
      // runs, and the log (trimmed to its history) would drop them before the hub reads them.
      else if (maxInFlight !== undefined && inFlight >= maxInFlight) resume = step;
      else setImmediate(step);
    };
    step();
  });
}

/**
 * Listens on 127.0.0.1 (a free port), prints `{"port":…}`, then serves commands.
 * `server` is a listening server (node:http, or the net server of createSseServer); `send` has `all(data)`, `rooms(names, data)`, `user(id, data)`
 * (data is the payload object) and `clients()`; `options.maxInFlight` bounds the publishes not
 * settled yet (each send then returns a promise).
 */
export function startControl(server, send, options = {}) {
  server.listen(0, '127.0.0.1', 4096, () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`);
  });
  const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const command = JSON.parse(line);
    if (command.cmd === 'stats') {
      answer({ clients: send.clients(), ...memory() });
    } else if (command.cmd === 'publish') {
      const bytes = command.bytes ?? 100;
      const one =
        command.mode === 'rooms'
          ? (seq) => send.rooms(roomsOf(seq, command.rooms), payload(seq, bytes))
          : command.mode === 'users'
            ? (seq) => send.user(userOf(seq, command.users), payload(seq, bytes))
            : (seq) => send.all(payload(seq, bytes));
      answer({ ...(await publishLoop(command, one, options.maxInFlight)), clients: send.clients() });
    } else if (command.cmd === 'extra') {
      answer(send.extra?.() ?? {});
    } else if (command.cmd === 'exit') {
      process.exit(0);
    }
  });
  // The orchestrator went away: stop.
  lines.on('close', () => process.exit(0));
}
