import Fastify, { FastifyInstance, FastifyRequest } from "fastify";
import { Caller } from "../auth/api-key.service";
import { unauthenticated } from "../errors";
import { errorAnswers } from "../server/error-answers";
import { IngestOutcome } from "../webhooks/webhook-event.ingest";
import { IngestResult, WEBHOOK_PATH } from "../webhooks/webhook.route";
import { routeLabel, statusClass } from "./labels";
import { Metrics } from "./metrics";

declare module "fastify" {
  interface FastifyInstance {
    /** The listener METRICS_PORT opens; unset when /metrics is on the main port. */
    metricsServer?: FastifyInstance;
  }
}

/**
 * Times every answered request and counts each answered webhook delivery, whatever answered it (the route, a
 * rate limit, a body over the limit). Returns what the webhook route calls with each ingest's result.
 */
export function observeRequests(app: FastifyInstance, metrics: Metrics): (request: FastifyRequest, result: IngestResult) => void {
  const outcomes = new WeakMap<FastifyRequest, IngestOutcome>();
  // Callback style: on every request, an async hook would cost a promise.
  app.addHook("onResponse", (request, reply, done) => {
    const route = routeLabel(request.routeOptions.url);
    metrics.request(route, request.method, statusClass(reply.statusCode), reply.elapsedTime / 1000);
    if (route === WEBHOOK_PATH && request.method === "POST") metrics.delivery(reply.statusCode, outcomes.get(request) ?? null);
    done();
  });
  return (request, result) => {
    if ("outcome" in result) outcomes.set(request, result.outcome);
    else metrics.databaseError(result.error);
  };
}

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** Who is calling; null when no key is asked (the METRICS_PORT listener). */
  callerOf: ((request: FastifyRequest) => Promise<Caller | null>) | null;
}

/** GET /metrics in Prometheus's text format. Not rate limited: a scraper calls it every few seconds. */
export async function metricsRoutes(app: FastifyInstance, { metrics, callerOf }: MetricsRouteOptions) {
  app.get("/metrics", async (request, reply) => {
    if (callerOf && !(await callerOf(request))) throw unauthenticated();
    return reply.type(metrics.contentType).send(await metrics.scrape());
  });
}

/**
 * With METRICS_PORT, /metrics is served on a listener of its own without a key (for a port only the scraper can
 * reach), opened when the app is ready and closed with it.
 */
export async function serveMetricsApart(app: FastifyInstance, metrics: Metrics, listen: { host: string; port: number }): Promise<void> {
  const server = Fastify({ loggerInstance: app.log.child({ listener: "metrics" }), forceCloseConnections: true, return503OnClosing: false });
  errorAnswers(server);
  await server.register(metricsRoutes, { metrics, callerOf: null });
  app.decorate("metricsServer", server);
  app.addHook("onReady", async () => {
    await server.listen(listen);
  });
  app.addHook("onClose", () => server.close());
}
