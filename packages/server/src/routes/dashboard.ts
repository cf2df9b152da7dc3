/**
 * `GET /dashboard/stream`: a `stats` event every second for the dashboard page. It is served
 * by a small hub of its own, so dashboard viewers never appear in the main hub's clients,
 * counters, metrics or history, and a publisher can never reach them. Once publishers are
 * authenticated it takes their credential, in `Authorization: Bearer` or `?token=`.
 * @module
 */

import { type ClientInit, type ConnectRequest, createHub, type Hub, type Refusal, refuse } from 'ssehub';
import type { Route, ServerContext } from '../context.js';
import { errorBody, HttpError, JSON_ANSWER_HEADERS } from '../errors.js';
import { largestRooms, type RoomSize } from '../largestRooms.js';

/** How often `stats` is sent, in ms. */
export const DASHBOARD_INTERVAL_MS = 1000;
/** Most rooms listed in `roomSizes`. */
export const DASHBOARD_ROOM_LIMIT = 50;
/** Most dashboard viewers at once. */
export const DASHBOARD_MAX_VIEWERS = 100;

/** The data of one `stats` event. Field names are a contract with the dashboard page. */
export interface DashboardStats {
  /** When the figures were taken, in ms since the epoch. */
  readonly time: number;
  readonly clients: number;
  readonly users: number;
  /** Rooms with at least one member. */
  readonly rooms: number;
  /** The largest rooms, largest first (at most {@link DASHBOARD_ROOM_LIMIT}). */
  readonly roomSizes: readonly RoomSize[];
  /** Events published per second over the last interval. */
  readonly eventsPerSecond: number;
  /** Event copies queued for connections per second over the last interval. */
  readonly deliveredPerSecond: number;
  readonly history: {
    readonly size: number;
    readonly maxEvents: number;
    readonly bytes: number;
    readonly oldestId: string | null;
    readonly headId: string;
  };
  /** Running totals since the start. */
  readonly slowDisconnects: number;
  readonly dropped: number;
}

type DashboardEvents = { stats: DashboardStats };

const round2 = (value: number): number => Math.round(value * 100) / 100;

/** The once-a-second stats feed and its own hub. */
export class DashboardFeed {
  readonly hub: Hub<DashboardEvents>;
  readonly #ctx: ServerContext;
  #timer: NodeJS.Timeout | undefined;
  #lastAt: number;
  #lastPublished: number;
  #lastDelivered: number;
  #eventsPerSecond = 0;
  #deliveredPerSecond = 0;

  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    this.hub = createHub<DashboardEvents>({
      history: false,
      maxClients: DASHBOARD_MAX_VIEWERS,
      heartbeatMs: ctx.config.heartbeatMs,
      authenticate: (request) => this.#admitViewer(request),
      logger: ctx.logger.child({ component: 'dashboard' }),
    });
    this.#lastAt = Date.now();
    this.#lastPublished = ctx.hub.counters.published;
    this.#lastDelivered = ctx.hub.counters.delivered;
  }

  /** Starts the ticker. */
  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), DASHBOARD_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops the ticker and ends every viewer's stream. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.hub.close({ timeoutMs });
  }

  /** The figures now, with the rates of the last interval. */
  snapshot(): DashboardStats {
    const stats = this.#ctx.hub.stats();
    return {
      time: Date.now(),
      clients: stats.clients,
      users: stats.users,
      rooms: stats.rooms,
      roomSizes: largestRooms(this.#ctx.hub, DASHBOARD_ROOM_LIMIT),
      eventsPerSecond: this.#eventsPerSecond,
      deliveredPerSecond: this.#deliveredPerSecond,
      history: {
        size: stats.history.size,
        maxEvents: this.#ctx.config.historySize,
        bytes: stats.history.bytes,
        oldestId: stats.history.oldestId ?? null,
        headId: stats.history.headId,
      },
      slowDisconnects: stats.counters.slowDisconnects,
      dropped: stats.counters.dropped,
    };
  }

  // Rates are measured every tick, viewers or not; the snapshot is built only for viewers.
  #tick(): void {
    const now = Date.now();
    const counters = this.#ctx.hub.counters;
    const seconds = Math.max(0.001, (now - this.#lastAt) / 1000);
    this.#eventsPerSecond = round2((counters.published - this.#lastPublished) / seconds);
    this.#deliveredPerSecond = round2((counters.delivered - this.#lastDelivered) / seconds);
    this.#lastAt = now;
    this.#lastPublished = counters.published;
    this.#lastDelivered = counters.delivered;
    if (this.hub.clients.size === 0 || this.hub.closed) return;
    this.hub
      .broadcast('stats', this.snapshot())
      .catch((error: unknown) => this.#ctx.logger.error({ err: error }, 'dashboard: stats failed'));
  }

  /**
   * The figures name rooms: a viewer takes the publishing credential, also as `?token=` for
   * EventSource. Decided in the hub's `authenticate`, like every stream of `/events`: the hub
   * seals the connection before this runs, so nothing pipelined behind the request can run
   * while the credential is checked.
   */
  async #admitViewer(request: ConnectRequest): Promise<ClientInit<Record<string, unknown>> | Refusal> {
    try {
      await this.#ctx.auth.viewer({ headers: { authorization: request.header('authorization') } }, request.url);
      return {};
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return refuse(error.status, error.message, { headers: { ...JSON_ANSWER_HEADERS, ...error.headers }, body: errorBody(error) });
    }
  }

  /** The `/dashboard/stream` route. */
  route(): Route {
    return {
      GET: async (req, res) => {
        if (this.#ctx.state.draining || this.hub.closed) {
          throw new HttpError(503, 'shutting_down', 'the hub is shutting down', { 'retry-after': '5' });
        }
        // Synchronously, before any await: connecting seals the connection (see #admitViewer).
        const client = await this.hub.connect(req, res);
        // The first figures at once, not a second later.
        if (client === undefined || client.closed) return;
        client
          .send('stats', this.snapshot())
          .catch((error: unknown) => this.#ctx.logger.debug({ err: error }, 'dashboard: first stats failed'));
      },
    };
  }
}
