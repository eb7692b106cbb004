import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateBy, validateSync } from "class-validator";
import { DatabaseTimeouts } from "../db/timeouts";
import { DEFAULT_POSTPROXY_BASE_URL } from "../postproxy/postproxy.client";
import { refGrammar, RefGrammar } from "../referrals/ref-grammar";
import { trustProxy, TrustProxy } from "./trust-proxy";

/** Every environment variable refgraph reads, with the one-line description README repeats. */
export const CONFIG_VARIABLES = {
  PORT: "HTTP port to listen on (default 4000).",
  METRICS_PORT: "Serve GET /metrics on this port only, without an API key (default unset: /metrics is on PORT and needs an API key).",
  HOST: "Interface to bind (default 127.0.0.1; 0.0.0.0 serves beyond this machine).",
  DATABASE_URL: "sqlite:<path> (default sqlite:./data/refgraph.sqlite), sqlite::memory:, or postgres://user@host:port/db.",
  DATABASE_CONNECT_TIMEOUT_MS: "Longest wait for a PostgreSQL connection, new or from the pool, in milliseconds (default 2000).",
  DATABASE_STATEMENT_TIMEOUT_MS: "Longest a statement may run (PostgreSQL statement_timeout; refgraph stops waiting 1 s later), and how long SQLite waits for the write lock, in milliseconds (default 3000).",
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "PostgreSQL ends a session idle this long inside a transaction, in milliseconds (default 10000).",
  POSTPROXY_WEBHOOK_SECRET: "Webhook signing secret(s) from Postproxy, comma-separated to rotate; required in production.",
  REFGRAPH_ADMIN_KEY: "Bootstrap API key with every right (at least 16 characters); required in production.",
  STORE_MESSAGE_BODIES: "true to keep the text of inbound messages (default false: only metadata is stored).",
  WEBHOOK_TOLERANCE_SECONDS: "Reject webhooks whose signed timestamp is further than this from now (default off).",
  CORS_ORIGINS: "Comma-separated browser origins allowed to call /graphql (default none).",
  NODE_ENV: "production refuses to start without POSTPROXY_WEBHOOK_SECRET and REFGRAPH_ADMIN_KEY.",
  LOG_LEVEL: "fatal, error, warn, info (default), debug, trace or silent.",
  POSTPROXY_API_KEY: "Postproxy API key, for sending greetings (unset: sendGreeting answers POSTPROXY_NOT_CONFIGURED).",
  POSTPROXY_BASE_URL: "Postproxy's API (default https://api.postproxy.dev).",
  GREETING_SEND_CONCURRENCY: "Most greetings the background worker sends at once, per instance (1 to 64, default 8).",
  RATE_LIMIT_PER_KEY: "Requests per window per API key to /graphql and /exports, per instance (default 100; 0 for no limit).",
  RATE_LIMIT_PER_ADDRESS: "Requests per window per client address without a valid API key, and webhooks with a bad signature, per instance (default 10; 0 for no limit).",
  RATE_LIMIT_WINDOW_SECONDS: "The window the rate limits count in, in seconds (default 10: short windows keep a burst short).",
  TRUST_PROXY: "Reverse proxies whose X-Forwarded-For names the client: true (any), a hop count, or comma-separated addresses or CIDR ranges (default off: X-Forwarded-For is ignored).",
  GRAPHQL_MAX_DOCUMENT_LENGTH: "Longest GraphQL document, in characters (UTF-16 code units, as graphql-js counts them) (default 100000).",
  GRAPHQL_MAX_TOKENS: "Most lexical tokens in a GraphQL document (default 2000).",
  GRAPHQL_MAX_DEPTH: "Deepest nesting of fields in a GraphQL operation (default 10).",
  GRAPHQL_MAX_COST: "Highest cost of one GraphQL operation (default 2500000; see Limits).",
  GRAPHQL_COST_BUDGET: "Query cost an API key (or, with open access, an address) may spend at once; at least GRAPHQL_MAX_COST (default 10000000).",
  GRAPHQL_COST_RESTORE_PER_SECOND: "Query cost restored to each budget every second (default 50000).",
  REF_GRAMMAR: "How refs are parsed into campaign, channel and variant: unset for key=value segments (c=summer--ch=bio--v=b), or a template such as {campaign}--{channel}--{variant}.",
} as const;

export type ConfigVariable = keyof typeof CONFIG_VARIABLES;
const SENSITIVE: ReadonlySet<ConfigVariable> = new Set(["POSTPROXY_WEBHOOK_SECRET", "REFGRAPH_ADMIN_KEY", "POSTPROXY_API_KEY"]);

export class ConfigError extends Error {}

export class Config {
  @IsInt() @Min(0) @Max(65535)
  port: number;

  @IsOptional() @IsInt() @Min(0) @Max(65535)
  metricsPort?: number;

  @IsString() @MinLength(1)
  host: string;

  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: "must be sqlite:<path>, sqlite::memory: or postgres://…",
  })
  databaseUrl: string;

  @IsInt() @Min(1)
  databaseConnectTimeoutMs: number;

  @IsInt() @Min(1)
  databaseStatementTimeoutMs: number;

  @IsInt() @Min(1)
  databaseIdleInTransactionTimeoutMs: number;

  get databaseTimeouts(): DatabaseTimeouts {
    return { connectMs: this.databaseConnectTimeoutMs, statementMs: this.databaseStatementTimeoutMs, idleInTransactionMs: this.databaseIdleInTransactionTimeoutMs };
  }

  @IsString({ each: true })
  @MinLength(1, { each: true, message: "must not contain an empty secret" })
  webhookSecrets: string[];

  @IsOptional() @IsString()
  @MinLength(16, { message: "must be at least 16 characters" })
  adminKey?: string;

  @IsBoolean({ message: "must be true or false" })
  storeMessageBodies: boolean;

  @IsOptional() @IsInt({ message: "must be a whole number of seconds" })
  @Min(1)
  webhookToleranceSeconds?: number;

  @Matches(/^https?:\/\/[^/\s,]+$/, { each: true, message: "each origin must look like https://app.example.com" })
  corsOrigins: string[];

  @IsIn(["production", "development", "test"])
  nodeEnv: string;

  @IsIn(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
  logLevel: string;

  @IsOptional() @IsString() @MinLength(1)
  postproxyApiKey?: string;

  @Matches(/^https?:\/\/[^\s]+$/, { message: "must be an http(s) URL such as https://api.postproxy.dev" })
  postproxyBaseUrl: string;

  @IsInt({ message: "must be a whole number of sends" }) @Min(1) @Max(64)
  greetingSendConcurrency: number;

  @IsOptional()
  @ValidateBy({
    name: "refGrammar",
    validator: {
      validate: (value: string) => typeof refGrammar(value) === "function",
      defaultMessage: (args) => `must be a template like {campaign}--{channel}--{variant}: it ${refGrammar(args?.value) as string}`,
    },
  })
  refGrammar?: string;

  @Min(0) @IsInt({ message: "must be a whole number of requests per window" })
  rateLimitPerKey: number;

  @Min(0) @IsInt({ message: "must be a whole number of requests per window" })
  rateLimitPerAddress: number;

  @Min(1) @IsInt({ message: "must be a whole number of seconds" })
  rateLimitWindowSeconds: number;

  @IsOptional()
  @ValidateBy({
    name: "trustProxy",
    validator: {
      validate: (value: string) => typeof trustProxy(value) !== "string",
      defaultMessage: (args) => `must be true, a hop count, or comma-separated addresses or CIDR ranges of your proxies: ${trustProxy(args?.value) as string}`,
    },
  })
  trustProxy?: string;

  /** Fastify's trustProxy as TRUST_PROXY sets it (valid once loadConfig has returned). */
  get trustedProxies(): TrustProxy {
    return trustProxy(this.trustProxy) as TrustProxy;
  }

  @IsInt() @Min(1)
  graphqlMaxDocumentLength: number;

  @IsInt() @Min(1)
  graphqlMaxTokens: number;

  @IsInt() @Min(1)
  graphqlMaxDepth: number;

  @IsInt() @Min(1)
  graphqlMaxCost: number;

  @IsInt() @Min(1)
  graphqlCostBudget: number;

  @IsInt() @Min(1)
  graphqlCostRestorePerSecond: number;

  /** The parser REF_GRAMMAR selects (valid once loadConfig has returned). */
  get grammar(): RefGrammar {
    return refGrammar(this.refGrammar) as RefGrammar;
  }

  get isProduction(): boolean {
    return this.nodeEnv === "production";
  }
}

const VARIABLE_OF = {
  port: "PORT",
  metricsPort: "METRICS_PORT",
  host: "HOST",
  databaseUrl: "DATABASE_URL",
  databaseConnectTimeoutMs: "DATABASE_CONNECT_TIMEOUT_MS",
  databaseStatementTimeoutMs: "DATABASE_STATEMENT_TIMEOUT_MS",
  databaseIdleInTransactionTimeoutMs: "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS",
  webhookSecrets: "POSTPROXY_WEBHOOK_SECRET",
  adminKey: "REFGRAPH_ADMIN_KEY",
  storeMessageBodies: "STORE_MESSAGE_BODIES",
  webhookToleranceSeconds: "WEBHOOK_TOLERANCE_SECONDS",
  corsOrigins: "CORS_ORIGINS",
  nodeEnv: "NODE_ENV",
  logLevel: "LOG_LEVEL",
  refGrammar: "REF_GRAMMAR",
  rateLimitPerKey: "RATE_LIMIT_PER_KEY",
  rateLimitPerAddress: "RATE_LIMIT_PER_ADDRESS",
  rateLimitWindowSeconds: "RATE_LIMIT_WINDOW_SECONDS",
  trustProxy: "TRUST_PROXY",
  postproxyApiKey: "POSTPROXY_API_KEY",
  postproxyBaseUrl: "POSTPROXY_BASE_URL",
  greetingSendConcurrency: "GREETING_SEND_CONCURRENCY",
  graphqlMaxDocumentLength: "GRAPHQL_MAX_DOCUMENT_LENGTH",
  graphqlMaxTokens: "GRAPHQL_MAX_TOKENS",
  graphqlMaxDepth: "GRAPHQL_MAX_DEPTH",
  graphqlMaxCost: "GRAPHQL_MAX_COST",
  graphqlCostBudget: "GRAPHQL_COST_BUDGET",
  graphqlCostRestorePerSecond: "GRAPHQL_COST_RESTORE_PER_SECOND",
} as const satisfies Partial<Record<keyof Config, ConfigVariable>>;

const list = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? [] : value.split(",").map((item) => item.trim());
const integer = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : Number(value));
const boolean = (value: string | undefined): unknown =>
  value === undefined || value === "" ? false : ({ true: true, "1": true, false: false, "0": false } as Record<string, boolean>)[value.toLowerCase()] ?? value;

/** Reads and validates the environment once; the result is frozen and passed down. */
export function loadConfig(env: Record<string, string | undefined>): Readonly<Config> {
  const config = Object.assign(new Config(), {
    port: integer(env.PORT) ?? 4000,
    metricsPort: integer(env.METRICS_PORT),
    host: env.HOST || "127.0.0.1",
    databaseUrl: env.DATABASE_URL || "sqlite:./data/refgraph.sqlite",
    databaseConnectTimeoutMs: integer(env.DATABASE_CONNECT_TIMEOUT_MS) ?? 2000,
    databaseStatementTimeoutMs: integer(env.DATABASE_STATEMENT_TIMEOUT_MS) ?? 3000,
    databaseIdleInTransactionTimeoutMs: integer(env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS) ?? 10_000,
    webhookSecrets: list(env.POSTPROXY_WEBHOOK_SECRET),
    adminKey: env.REFGRAPH_ADMIN_KEY || undefined,
    storeMessageBodies: boolean(env.STORE_MESSAGE_BODIES),
    webhookToleranceSeconds: integer(env.WEBHOOK_TOLERANCE_SECONDS),
    corsOrigins: list(env.CORS_ORIGINS),
    nodeEnv: env.NODE_ENV || "development",
    logLevel: env.LOG_LEVEL || "info",
    refGrammar: env.REF_GRAMMAR || undefined,
    rateLimitPerKey: integer(env.RATE_LIMIT_PER_KEY) ?? 100,
    rateLimitPerAddress: integer(env.RATE_LIMIT_PER_ADDRESS) ?? 10,
    rateLimitWindowSeconds: integer(env.RATE_LIMIT_WINDOW_SECONDS) ?? 10,
    trustProxy: env.TRUST_PROXY || undefined,
    postproxyApiKey: env.POSTPROXY_API_KEY || undefined,
    postproxyBaseUrl: env.POSTPROXY_BASE_URL || DEFAULT_POSTPROXY_BASE_URL,
    greetingSendConcurrency: integer(env.GREETING_SEND_CONCURRENCY) ?? 8,
    graphqlMaxDocumentLength: integer(env.GRAPHQL_MAX_DOCUMENT_LENGTH) ?? 100_000,
    graphqlMaxTokens: integer(env.GRAPHQL_MAX_TOKENS) ?? 2000,
    graphqlMaxDepth: integer(env.GRAPHQL_MAX_DEPTH) ?? 10,
    graphqlMaxCost: integer(env.GRAPHQL_MAX_COST) ?? 2_500_000,
    graphqlCostBudget: integer(env.GRAPHQL_COST_BUDGET) ?? 10_000_000,
    graphqlCostRestorePerSecond: integer(env.GRAPHQL_COST_RESTORE_PER_SECOND) ?? 50_000,
  });
  const problems = validateSync(config).map((error) => {
    const variable = VARIABLE_OF[error.property as keyof typeof VARIABLE_OF];
    const problem = Object.values(error.constraints ?? {})[0].replace(`${error.property} `, "");
    const shown = SENSITIVE.has(variable) ? "" : ` (got ${JSON.stringify(env[variable])})`;
    return `${variable}: ${problem}${shown}`;
  });
  // A query the budget could never hold would be refused forever.
  if (problems.length === 0 && config.graphqlCostBudget < config.graphqlMaxCost)
    problems.push(`GRAPHQL_COST_BUDGET: must be at least GRAPHQL_MAX_COST (${config.graphqlMaxCost}) (got ${JSON.stringify(env.GRAPHQL_COST_BUDGET)})`);
  if (config.isProduction) {
    if (config.webhookSecrets.length === 0) problems.push("POSTPROXY_WEBHOOK_SECRET: is required when NODE_ENV=production");
    if (!config.adminKey) problems.push("REFGRAPH_ADMIN_KEY: is required when NODE_ENV=production");
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  return Object.freeze(config);
}

/** Warnings printed at startup for the open doors development mode leaves. */
export function startupWarnings(config: Readonly<Config>): string[] {
  const warnings: string[] = [];
  if (config.webhookSecrets.length === 0)
    warnings.push("POSTPROXY_WEBHOOK_SECRET is not set: UNSIGNED WEBHOOKS ARE ACCEPTED. Set it before exposing refgraph.");
  if (!config.adminKey)
    warnings.push("REFGRAPH_ADMIN_KEY is not set: GRAPHQL IS OPEN TO ANYONE WHO CAN REACH IT. Set it before exposing refgraph.");
  return warnings;
}
