/**
 * `npm run bench`: builds the library (and the standalone server when it can), compiles the C
 * load client, runs every scenario against every server — alternating servers within each
 * repetition (A B C D A B C D …) — and writes bench/results/latest.json, docs/benchmarks.md
 * and docs/benchmarks-fanout.svg. With redis-server on the PATH it also starts one of its own for
 * the Redis rows (the hub on Redis, `ssehub-redis`, and the `redis-publisher` scenario).
 *
 *   node bench/run.mjs [--quick] [--reps N] [--only idle,fanout-1000,…] [--servers ssehub,baseline,…]
 *                      [--duration MS] [--batch N] [--clients N] [--no-docs] [--no-build]
 *   node bench/run.mjs --report-only   (regenerates the docs from bench/results/latest.json)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildClient, CLIENT_BINARY } from './lib/buildClient.mjs';
import { LineProcess } from './lib/lineProcess.mjs';
import { describeMachine } from './lib/machine.mjs';
import { BenchRedis, redisServerPath } from './lib/redis.mjs';
import { writeReport } from './lib/report.mjs';
import { plan, runPublisher, runScenario } from './lib/scenarios.mjs';
import { available, freePort, SERVERS, startServer } from './lib/servers.mjs';
import { summarize } from './lib/summary.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    only: { type: 'string' },
    servers: { type: 'string' },
    duration: { type: 'string' },
    batch: { type: 'string', default: '32' },
    clients: { type: 'string', default: '9000' },
    'no-docs': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
  },
});

const reps = Number(args.reps ?? (args.quick ? 1 : 3));
const options = {
  quick: args.quick,
  durationMs: args.duration === undefined ? undefined : Number(args.duration),
  batch: Number(args.batch),
  clients: Number(args.clients),
};
const scenarios = plan(options).filter((s) => args.only === undefined || args.only.split(',').includes(s.id));
const wanted = args.servers?.split(',');

function build() {
  execFileSync('npm', ['run', 'build', '--workspace', 'ssehub', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  // The measured library is a private copy: a test run elsewhere rebuilding dist/ mid-bench
  // must not pull it from under the servers.
  rmSync(`${ROOT}bench/.build/ssehub`, { recursive: true, force: true });
  cpSync(`${ROOT}packages/ssehub/dist`, `${ROOT}bench/.build/ssehub`, { recursive: true });
  try {
    execFileSync('npm', ['run', 'build', '--workspace', '@ssehub/server', '--if-present', '--silent'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch {
    console.log('bench: the standalone server does not build; it is left out');
  }
  buildClient();
}

async function runOnce(server, scenario, redis) {
  let started;
  let client;
  try {
    // Every run on Redis starts from an empty one (a new sequence, no log left over).
    if (server.redis) await redis.flush();
    if (server.publisher !== undefined) return await runPublisher(server, scenario, redis.url);
    started = await startServer(server, redis?.url);
    if (server.redis) started.redis = redis;
    client = new LineProcess('sseload', CLIENT_BINARY, [String(started.port), started.path]);
    return await runScenario(started, client, scenario);
  } catch (error) {
    return { error: String(error?.message ?? error) };
  } finally {
    await client?.stop();
    await started?.proc.stop();
    // Let the closed sockets settle before the next server starts.
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Whether `server` runs `scenario`: its `only` list, and publishers run the publisher scenario only. */
function runsOn(server, scenario) {
  return (
    (server.only === undefined || server.only.includes(scenario.id)) &&
    (server.publisher === undefined) === (scenario.kind !== 'redisPublisher')
  );
}

/** Every repetition of every scenario on every server that runs it, in turn (A B C A B C …). */
async function measure(servers, runs, redis) {
  for (let rep = 1; rep <= reps; rep++) {
    for (const scenario of scenarios) {
      for (const server of servers) {
        if (!runsOn(server, scenario)) continue;
        const t0 = Date.now();
        const result = await runOnce(server, scenario, redis);
        runs.push({ rep, scenario: scenario.id, server: server.id, ...result });
        const seconds = ((Date.now() - t0) / 1000).toFixed(1);
        console.log(
          `bench: rep ${rep} ${scenario.id.padEnd(12)} ${server.id.padEnd(14)} ${seconds.padStart(5)} s ${JSON.stringify(result)}`,
        );
      }
    }
  }
}

async function main() {
  if (args['report-only']) {
    // Regenerates the docs from the last results, without measuring (summarized anew, so a
    // change to the summary or the report applies to the stored runs).
    const results = JSON.parse(readFileSync(`${ROOT}bench/results/latest.json`, 'utf8'));
    results.summary = summarize(results.runs, results.scenarios, results.servers);
    writeReport(results, ROOT);
    console.log('bench: wrote docs/benchmarks.md and docs/benchmarks-fanout.svg');
    return;
  }
  if (!args['no-build']) build();
  let servers = SERVERS.filter(
    (s) => (wanted === undefined || wanted.includes(s.id)) && available(s) && scenarios.some((scenario) => runsOn(s, scenario)),
  );
  // One redis-server of the run's own, on a free port (never the system's), for the Redis rows.
  let redis;
  if (servers.some((s) => s.redis)) {
    const binary = redisServerPath();
    if (binary === undefined) {
      console.log('bench: redis-server is not installed (apt-get install redis-server): the Redis rows are skipped');
      servers = servers.filter((s) => !s.redis);
    } else {
      redis = await BenchRedis.start(binary, await freePort());
      console.log(`bench: redis-server on port ${redis.port}`);
    }
  }
  const machine = describeMachine();
  const runs = [];
  const started = Date.now();
  try {
    await measure(servers, runs, redis);
  } finally {
    await redis?.stop();
  }
  machine.loadAverageAtEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const results = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine,
    options: { reps, ...options },
    servers: servers.map(({ id, label }) => ({ id, label })),
    scenarios: scenarios.filter((scenario) => servers.some((server) => runsOn(server, scenario))),
    summary: summarize(runs, scenarios, servers),
    runs,
  };
  // Only a complete run replaces the published results and docs; a partial or development run
  // (--quick, --only, --servers, --no-docs) goes to bench/.build/partial-results.json.
  const partial = args.quick || args.only !== undefined || args.servers !== undefined || args['no-docs'];
  const file = partial ? 'bench/.build/partial-results.json' : 'bench/results/latest.json';
  mkdirSync(`${ROOT}${file.slice(0, file.lastIndexOf('/'))}`, { recursive: true });
  writeFileSync(`${ROOT}${file}`, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`bench: wrote ${file}`);
  if (!partial) {
    writeReport(results, ROOT);
    console.log('bench: wrote docs/benchmarks.md and docs/benchmarks-fanout.svg');
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
