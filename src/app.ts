import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import cors from "@fastify/cors";
import Fastify, { FastifyInstance, FastifyRequest } from "fastify";
import { GraphQLError, GraphQLFormattedError } from "graphql";
import { CampaignStatsService } from "./analytics/campaign-stats.service";
import { exportRoutes } from "./analytics/exports.route";
import { ExportService } from "./analytics/exports.service";
import { ReferralIndex } from "./analytics/referral-index";
import { authPlugin } from "./auth/auth.plugin";
import { ApiKeyService, Caller } from "./auth/api-key.service";
import { ChatService } from "./chats/chat.service";
import { Config } from "./config/config";
import { Store } from "./db/data-source";
import { loggableError, RefgraphError } from "./errors";
import { Context, createLoaders, Services } from "./graphql/context";
import { GreetingService } from "./greetings/greeting.service";
import { GreetingRuleService } from "./greetings/greeting-rule.service";
import { GreetingWorker } from "./greetings/greeting.worker";
import { PostproxyClient } from "./postproxy/postproxy.client";
import { graphqlBodyLimit, queryLimitsPlugin, refuseBeforeValidation } from "./graphql/limits";
import { buildRefgraphSchema } from "./graphql/schema";
import { Metrics } from "./metrics/metrics";
import { metricsRoutes, observeRequests, serveMetricsApart } from "./metrics/metrics.route";
import { ReferralService } from "./referrals/referral.service";
import { answerClientError, errorAnswers } from "./server/error-answers";
import { rateLimits } from "./server/rate-limits";
import { ReadinessCheck } from "./server/readiness";
import { IngestService } from "./webhooks/ingest.service";
import { sendError, webhookRoutes } from "./webhooks/webhook.route";
import { WebhookEventService } from "./webhooks/webhook-event.service";

export interface AppOptions {
  /** The clock GraphQL and the greeting worker go by (messaging windows, retries); tests may set it. */
  now?: () => Date;
  /** How often the greeting worker looks for greetings to retry (default 1 s). */
  greetingRetryIntervalMs?: number;
  /** Called after each turn of the greeting worker: tests wait for one instead of sleeping. */
  onGreetingTurn?: () => void;
  /** Where the JSON log lines go (default stdout); tests read them. */
  logStream?: NodeJS.WritableStream;
}

const OPEN_ACCESS: Caller = { name: "anonymous (REFGRAPH_ADMIN_KEY unset)", scope: "admin" };

/** Request logs without keys or signatures, and errors without the data they were carrying. */
export const loggerOptions = (level: string) => ({
  level,
  redact: ["req.headers.authorization", 'req.headers["x-postproxy-signature"]'],
  serializers: { err: loggableError },
});

/** Builds the whole server without listening: main.ts listens, tests listen on port 0. */
export async function buildApp(config: Readonly<Config>, store: Store, options: AppOptions = {}): Promise<FastifyInstance> {
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    logger: { ...loggerOptions(config.logLevel), ...(options.logStream && { stream: options.logStream }) },
    forceCloseConnections: "idle",
    trustProxy: config.trustedProxies,
    // errorAnswers answers the requests that arrive while closing, and answerClientError Node's parse errors.
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
  });
  errorAnswers(app);
  const referralIndex = new ReferralIndex(store.reader, now);
  const metrics = new Metrics({ reader: store.reader, referralIndex, now });
  const onIngest = observeRequests(app, metrics);
  const ingest = new IngestService(store.writer, {
    storeMessageBodies: config.storeMessageBodies,
    grammar: config.grammar,
    clock: now,
    onFailure: (eventId, error) => {
      metrics.databaseError(error);
      app.log.error({ err: error, eventId }, "webhook event FAILED; kept for replayWebhookEvent");
    },
    onCommit: (size, seconds, outcome) => metrics.commit(size, seconds, outcome),
  });
  // Read the referrals now, rather than on the first campaignStats query.
  referralIndex.current().catch((error) => app.log.error({ err: error }, "loading referrals for campaignStats failed; the next query retries"));
  const chats = new ChatService(store.reader);
  const referrals = new ReferralService(store.reader);
  const postproxy = config.postproxyApiKey ? new PostproxyClient({ baseUrl: config.postproxyBaseUrl, apiKey: config.postproxyApiKey }) : null;
  const services: Services = {
    chats,
    referrals,
    campaignStats: new CampaignStatsService(referralIndex, config.grammar),
    webhookEvents: new WebhookEventService(store.reader, ingest),
    apiKeys: new ApiKeyService(store.writer, store.reader, config.adminKey),
    greetings: new GreetingService(store.writer, store.reader, postproxy, chats, referrals),
    greetingRules: new GreetingRuleService(store.writer, store.reader),
  };
  const authenticate = async (authorization: string | undefined) =>
    !config.adminKey && !authorization ? OPEN_ACCESS : await services.apiKeys.authenticate(authorization);
  // The rate limits, GraphQL and the exports all ask who is calling: one lookup per request.
  const callers = new WeakMap<FastifyRequest, Promise<Caller | null>>();
  const callerOf = (request: FastifyRequest) => {
    const caller = callers.get(request) ?? authenticate(request.headers.authorization);
    callers.set(request, caller);
    return caller;
  };

  const requestLimits = await rateLimits(app, { perKey: config.rateLimitPerKey, perAddress: config.rateLimitPerAddress, windowSeconds: config.rateLimitWindowSeconds, callerOf });
  const greetingWorker = new GreetingWorker(services.greetings, {
    clock: now,
    intervalMs: options.greetingRetryIntervalMs ?? 1000,
    concurrency: config.greetingSendConcurrency,
    onError: (error) => {
      metrics.databaseError(error);
      app.log.error({ err: error }, "sending greetings failed; the next turn tries again");
    },
    onTurn: options.onGreetingTurn,
  });
  const readiness = new ReadinessCheck(store.writer, (error) => metrics.databaseError(error));
  app.addHook("onReady", async () => greetingWorker.start());
  app.addHook("onClose", () => Promise.all([ingest.drain(), referralIndex.settled(), greetingWorker.stop(), readiness.settled()]));

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (request, reply) => {
    const state = await readiness.check();
    if (state.ready) return { status: "ready" };
    request.log.warn({ reason: state.reason }, "not ready");
    return sendError(reply, "SERVICE_UNAVAILABLE", state.reason);
  });
  await app.register(webhookRoutes, { config, ingest, limitBadSignatures: requestLimits.byAddress, onIngest });
  if (config.metricsPort === undefined) await app.register(metricsRoutes, { metrics, callerOf });
  else await serveMetricsApart(app, metrics, { host: config.host, port: config.metricsPort });

  const schema = await buildRefgraphSchema();
  const queryLimits = {
    maxDepth: config.graphqlMaxDepth,
    maxCost: config.graphqlMaxCost,
    budget: { capacity: config.graphqlCostBudget, restorePerSecond: config.graphqlCostRestorePerSecond },
  };
  const introspection = !config.isProduction;
  const apollo = new ApolloServer<Context>({
    schema,
    // Over either, the document is not parsed: 400 GRAPHQL_PARSE_FAILED, the message naming the limit.
    parseOptions: { maxTokens: config.graphqlMaxTokens, maxSourceLength: config.graphqlMaxDocumentLength },
    validationRules: [refuseBeforeValidation],
    introspection,
    // Without introspection, "Did you mean …?" would still spell out the schema.
    hideSchemaDetailsFromClientErrors: !introspection,
    // No cache hints are given, and Apollo's cache-control plugin would otherwise wrap every field's resolver.
    plugins: [
      fastifyApolloDrainPlugin(app),
      authPlugin,
      queryLimitsPlugin(schema, queryLimits),
      ApolloServerPluginCacheControlDisabled(),
    ],
    // Apollo's own log lines (failures outside any resolver) as JSON lines with the rest, not on the console.
    logger: app.log,
    // main.ts and the demo close everything in order on SIGINT/SIGTERM; Apollo's own handler would end the process first.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatError(formatted, error, app),
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();
  // With open access every client is the same caller: budgets go by address instead.
  const costKeyOf = (caller: Caller | null, address: string) =>
    !caller ? null : caller === OPEN_ACCESS ? `address ${address}` : caller.scope === "admin" ? "admin" : `key ${caller.name}`;
  const contextFor = (caller: Caller | null, address: string): Context => ({
    caller,
    costKey: costKeyOf(caller, address),
    now: now(),
    services,
    loaders: createLoaders(services),
  });
  // The API browsers and keyed clients call: only these routes carry CORS and the per-caller rate limits, so that
  // webhooks, probes and /metrics run neither hook.
  await app.register(async (api) => {
    // Before the exports' own 401, so requests without a valid key count against their address.
    api.addHook("onRequest", async (request, reply) => {
      if (request.method !== "OPTIONS") await requestLimits.byCaller(request, reply);
    });
    await api.register(cors, { origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false });
    api.route({
      method: ["GET", "POST", "OPTIONS"],
      url: "/graphql",
      // A body longer than any document allowed is refused from its Content-Length, before it is read.
      bodyLimit: graphqlBodyLimit(config.graphqlMaxDocumentLength),
      handler: fastifyApolloHandler(apollo, { context: async (request) => contextFor(await callerOf(request), request.ip) }),
    });
    await api.register(exportRoutes, {
      exports: new ExportService(store.reader),
      authenticate: callerOf,
      schema,
      execute: async (query, variables, caller, address) => {
        const { body } = await apollo.executeOperation({ query, variables }, { contextValue: contextFor(caller, address) });
        if (body.kind !== "single") throw new Error("an export query answered incrementally");
        return body.singleResult;
      },
    });
  });
  return app;
}

/**
 * refgraph's own errors and Apollo's request errors (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED…) pass through;
 * anything else is logged and answered without detail, so no SQL or secret leaks.
 */
function formatError(formatted: GraphQLFormattedError, error: unknown, app: FastifyInstance): GraphQLFormattedError {
  // A refusal made before validation reaches here wrapped as a validation error (GRAPHQL_VALIDATION_FAILED): it keeps its own code.
  const refused = error instanceof GraphQLError && error.originalError instanceof RefgraphError ? error.originalError : null;
  if (refused) return { ...formatted, extensions: { ...formatted.extensions, code: refused.code } };
  const code = formatted.extensions?.code;
  if (code && code !== "INTERNAL_SERVER_ERROR") return formatted;
  app.log.error({ err: error }, "GraphQL resolver failed");
  return { message: "Internal server error.", path: formatted.path, locations: formatted.locations, extensions: { code: "INTERNAL_SERVER_ERROR" } };
}
