/**
 * `GET /metrics`: Prometheus text exposition of the server's own registry.
 * @module
 */

import type { Route, ServerContext } from '../context.js';

/** The `/metrics` route. */
export function metricsRoute(ctx: ServerContext): Route {
  const { registry } = ctx.metrics;
  return {
    GET: async (_req, res) => {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
  };
}
