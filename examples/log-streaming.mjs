// Log streaming with a single stream: tails a generator of log lines into one connection,
// with keep-alive, stopping (and running the generator's finally) when the client leaves.
//   node examples/log-streaming.mjs
//   curl -N http://127.0.0.1:3003/logs
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNodeStream, serve } from 'ssehub';

async function* logLines() {
  let n = 0;
  try {
    for (;;) {
      await sleep(500);
      n++;
      yield { id: String(n), event: 'log', data: `${new Date().toISOString()} INFO request ${n} served\nstack line 1\nstack line 2` };
    }
  } finally {
    console.log(`log tail stopped after ${n} lines`);
  }
}

const server = http.createServer((req, res) => {
  if (req.url !== '/logs') return res.writeHead(404).end();
  serve(createNodeStream(req, res), logLines(), { keepAliveMs: 10_000 });
});
server.listen(Number(process.env.PORT ?? 3003), '127.0.0.1', () => console.log(`logs on http://127.0.0.1:${server.address().port}/logs`));
