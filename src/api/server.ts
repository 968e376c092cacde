/**
 * The API server of one flotillad: the router with /fleet/v1 and
 * /flotilla/v1, the places for /metrics and /flotilla/v1/events (handed in by
 * their owners, src/metrics and src/events), and the listeners.
 */
import type { Logger } from '../util/log.js';
import type { ApiConfig } from '../daemon/config-api.js';
import type { ApiContext } from './context.js';
import { addFleetRoutes } from './fleet-routes.js';
import { FLOTILLA_BASE, addFlotillaRoutes } from './flotilla-routes.js';
import { requestListener } from './http.js';
import { closeListening, listenSocket, listenTcp, type Listening } from './listeners.js';
import { Router, stream, type StreamHandler } from './router.js';

export interface StreamRoutes {
  /** GET /metrics: Prometheus text (src/metrics). */
  metrics?: StreamHandler;
  /** GET /flotilla/v1/events: the ndjson event stream (src/events). */
  events?: StreamHandler;
}

export function apiRouter(ctx: ApiContext, streams: StreamRoutes = {}): Router {
  const router = new Router();
  addFleetRoutes(router, ctx);
  addFlotillaRoutes(router, ctx);
  if (streams.metrics) router.add('/metrics', { GET: stream(streams.metrics) });
  if (streams.events) router.add(`${FLOTILLA_BASE}/events`, { GET: stream(streams.events) });
  return router;
}

export class ApiServer {
  private readonly listening: Listening[] = [];

  constructor(
    private readonly router: Router,
    private readonly log: Logger,
  ) {}

  /** Every configured listener, or none (the first failure closes those already open). */
  async start(config: ApiConfig): Promise<string[]> {
    const handler = requestListener(this.router, this.log);
    try {
      if (config.socket) this.listening.push(await listenSocket(config.socket, config.socketGid, handler));
      if (config.tcp) this.listening.push(await listenTcp(config.tcp, handler));
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this.listening.map((l) => l.address);
  }

  async stop(): Promise<void> {
    const all = this.listening.splice(0);
    await Promise.all(all.map(closeListening));
  }
}
