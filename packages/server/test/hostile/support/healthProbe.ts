/**
 * A monitoring probe: `GET /healthz` every 50 ms on a fresh connection, as a load balancer
 * checks a backend, timing each answer. Under attack the server must keep answering it
 * quickly: a hub too busy to answer its health check is down for every other client too.
 */
import http from 'node:http';
import { sleep } from './rawConnection.js';

/**
 * The bound asserted on the probe's p99 and maximum latency during attacks, in ms. Generous on
 * purpose: the attacker, the probe and the server share one process, on a 2-core machine other
 * work shares too (the probe's worst case was about 750 ms at a load average of 8). A stalled
 * server, or one whose work grows faster than the attack, shows up as many seconds.
 */
export const PROBE_LATENCY_BOUND_MS = 1500;

export interface LatencySummary {
  readonly probes: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function healthz(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
  });
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

export class HealthProbe {
  readonly #latencies: number[] = [];
  #failures = 0;
  #running = true;
  readonly #loop: Promise<void>;

  private constructor(url: string, everyMs: number) {
    this.#loop = this.#run(url, everyMs);
  }

  /** Starts probing `url` every `everyMs`. */
  static start(url: string, everyMs = 50): HealthProbe {
    return new HealthProbe(url, everyMs);
  }

  async #run(url: string, everyMs: number): Promise<void> {
    while (this.#running) {
      const started = performance.now();
      try {
        await healthz(url);
        this.#latencies.push(performance.now() - started);
      } catch {
        this.#failures++;
      }
      const spent = performance.now() - started;
      if (this.#running) await sleep(Math.max(0, everyMs - spent));
    }
  }

  /** Stops after the probe in flight and summarises every probe. */
  async stop(): Promise<LatencySummary> {
    this.#running = false;
    await this.#loop;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    return {
      probes: sorted.length + this.#failures,
      failures: this.#failures,
      p50Ms: round(percentile(sorted, 0.5)),
      p99Ms: round(percentile(sorted, 0.99)),
      maxMs: round(sorted.at(-1) ?? 0),
    };
  }
}
