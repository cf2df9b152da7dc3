/**
 * Prometheus metrics of a server, in a registry of its own (two servers in one process never
 * share series). Hub figures are read from `hub.counters` when scraped, so the hot path of
 * publishing pays nothing for them.
 * @module
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from 'ssehub';
import type { RedisBackend } from 'ssehub/redis';

/** The metrics of one server. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Time to handle one `POST /publish`, from the first byte read to the answer. */
  readonly publishDuration: Histogram;
  /** `POST /publish` answers, by status. */
  readonly publishRequests: Counter<'status'>;
}

/** A counter mirroring a running total kept elsewhere. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function mirroredGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** Creates the registry with the default process metrics and every ssehub series. */
export function createMetrics(hub: Hub, redis?: RedisBackend): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counters = hub.counters;

  mirroredGauge(registry, 'ssehub_connections', 'Open event streams.', () => hub.clients.size);
  mirroredGauge(registry, 'ssehub_users', 'Users with at least one open event stream.', () => hub.users.size);
  mirroredGauge(registry, 'ssehub_rooms', 'Rooms with at least one member.', () => hub.rooms.size);
  mirroredGauge(registry, 'ssehub_history_events', 'Events kept for resume.', () => hub.stats().history.size);
  mirroredGauge(registry, 'ssehub_history_bytes', 'Encoded bytes of the events kept for resume.', () => hub.stats().history.bytes);

  mirroredCounter(registry, 'ssehub_connections_total', 'Event streams accepted.', () => counters.connections);
  mirroredCounter(registry, 'ssehub_connections_refused_total', 'Event streams refused (auth, limits, shutdown).', () => counters.refused);
  mirroredCounter(registry, 'ssehub_events_published_total', 'Events published.', () => counters.published);
  mirroredCounter(registry, 'ssehub_events_delivered_total', 'Event copies queued for connections.', () => counters.delivered);
  mirroredCounter(registry, 'ssehub_events_dropped_total', 'Events dropped for slow connections.', () => counters.dropped);
  mirroredCounter(
    registry,
    'ssehub_bytes_sent_total',
    'Event bytes queued for connections (heartbeats and replays excluded).',
    () => counters.deliveredBytes,
  );
  mirroredCounter(
    registry,
    'ssehub_slow_client_disconnects_total',
    'Connections cut because they could not keep up.',
    () => counters.slowDisconnects,
  );
  mirroredCounter(registry, 'ssehub_replays_total', 'Resumes served from history (Last-Event-ID).', () => counters.replays);
  mirroredCounter(registry, 'ssehub_replayed_events_total', 'Events written by resumes.', () => counters.replayedEvents);
  mirroredCounter(registry, 'ssehub_resets_total', 'Resets sent because a Last-Event-ID could not be resumed from.', () => counters.resets);

  mirroredCounter(
    registry,
    'ssehub_gaps_total',
    'Events the backend failed to deliver that its log no longer had, and restarts of its sequence.',
    () => counters.gaps,
  );
  if (redis !== undefined) {
    mirroredGauge(registry, 'ssehub_backend_connected', 'Whether the Redis backend can take publishes now (1) or not (0).', () =>
      redis.available ? 1 : 0,
    );
    mirroredGauge(registry, 'ssehub_backend_lag_events', 'Events in the Redis log this process has not delivered yet.', () => redis.lag);
  }

  const publishDuration = new Histogram({
    name: 'ssehub_publish_duration_seconds',
    help: 'Time to handle a POST /publish request.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const publishRequests = new Counter({
    name: 'ssehub_publish_requests_total',
    help: 'POST /publish requests, by answer status.',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  return { registry, publishDuration, publishRequests };
}
