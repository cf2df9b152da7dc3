// Job progress with a producer function: one stream per job, closed when the job completes.
//   node examples/job-progress.mjs
//   curl -N http://127.0.0.1:3004/jobs/42
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNodeStream, serveFunction } from 'ssehub';

const server = http.createServer((req, res) => {
  const job = /^\/jobs\/(\w+)$/.exec(req.url ?? '')?.[1];
  if (!job) return res.writeHead(404).end();
  const stream = createNodeStream(req, res);
  serveFunction(stream, async (send, signal) => {
    for (let percent = 0; percent <= 100; percent += 10) {
      send({ event: 'progress', data: JSON.stringify({ job, percent }) });
      await sleep(300, undefined, { signal });
    }
    send({ event: 'done', data: JSON.stringify({ job, result: 'ok' }) });
  });
});
server.listen(Number(process.env.PORT ?? 3004), '127.0.0.1', () =>
  console.log(`jobs on http://127.0.0.1:${server.address().port}/jobs/42`),
);
