import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FastifyInstance } from "fastify";
import { Client } from "pg";
import { Logger } from "typeorm";
import { buildApp, AppOptions } from "../../src/app";
import { loadConfig } from "../../src/config/config";
import { openStore, Store } from "../../src/db/data-source";
import { entities } from "../../src/entities";
import { signatureHeader } from "../../src/webhooks/signature";

export const SECRET = "whsec_test_secret_0123456789";
export const ADMIN_KEY = "admin-key-for-tests-0123456789";

/** Counts the SQL statements the reader runs, to hold list queries to a bounded number. */
export class QueryCounter implements Logger {
  count = 0;
  logQuery() {
    this.count += 1;
  }
  logQueryError() {}
  logQuerySlow() {}
  logSchemaBuild() {}
  logMigration() {}
  log() {}
}

export interface TestDatabase {
  url: string;
  schema?: string;
  drop(): Promise<void>;
}

/** A temporary SQLite file, or a fresh PostgreSQL schema when TEST_DATABASE_URL is set, so runs never collide. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const postgres = process.env.TEST_DATABASE_URL;
  if (postgres) {
    const schema = `refgraph_test_${process.pid}_${randomBytes(4).toString("hex")}`;
    await withPg(postgres, (client) => client.query(`CREATE SCHEMA "${schema}"`));
    return { url: postgres, schema, drop: () => withPg(postgres, (client) => client.query(`DROP SCHEMA "${schema}" CASCADE`)) };
  }
  const dir = mkdtempSync(join(tmpdir(), "refgraph-test-"));
  return { url: `sqlite:${join(dir, "refgraph.sqlite")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function withPg(url: string, run: (client: Client) => Promise<unknown>) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

export interface TestServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  database: TestDatabase;
  queries: QueryCounter;
  /** POSTs a body to the webhook route, signed with SECRET unless headers say otherwise. */
  deliver(event: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  postRaw(body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: any }>;
  graphql(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<{ status: number; body: any }>;
  /** Resolves once a whole turn of the greeting worker has run after the call (the end of the second turn from now). */
  greetingTurn(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the real server on an ephemeral port, on its own database, or on `shared` (another server's, for several
 * instances or a restart): close() then leaves that database for its owner to drop.
 */
export async function startServer(env: Record<string, string> = {}, options: AppOptions = {}, shared?: TestDatabase): Promise<TestServer> {
  const database = shared ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: database.url,
    POSTPROXY_WEBHOOK_SECRET: SECRET,
    REFGRAPH_ADMIN_KEY: ADMIN_KEY,
    // Rate limits are off unless a test sets them (tests poll), and a window never ends in the middle of one.
    RATE_LIMIT_PER_KEY: "0",
    RATE_LIMIT_PER_ADDRESS: "0",
    RATE_LIMIT_WINDOW_SECONDS: "3600",
    ...env,
  });
  const queries = new QueryCounter();
  const store = await openStore(config.databaseUrl, { entities, schema: database.schema, logger: queries, timeouts: config.databaseTimeouts });
  // The greeting worker's background queries would count in tests that count a request's queries: tests that
  // need it set the interval themselves.
  const turnWaiters: (() => void)[] = [];
  const onGreetingTurn = () => {
    options.onGreetingTurn?.();
    for (const resolve of turnWaiters.splice(0)) resolve();
  };
  const app = await buildApp(config, store, { greetingRetryIntervalMs: 3_600_000, ...options, onGreetingTurn });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  const request = async (path: string, init: RequestInit) => {
    const response = await fetch(url + path, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: body as any };
  };
  const postRaw = (body: string | Buffer, headers: Record<string, string>) =>
    request("/webhooks/postproxy", { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

  return {
    url,
    app,
    store,
    database,
    queries,
    postRaw,
    deliver(event, headers) {
      const body = JSON.stringify(event);
      const signature = signatureHeader(SECRET, body, Math.floor(Date.now() / 1000));
      return postRaw(body, { "x-postproxy-signature": signature, ...headers });
    },
    graphql(query, variables, key = ADMIN_KEY) {
      return request("/graphql", {
        method: "POST",
        body: JSON.stringify({ query, variables }),
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      });
    },
    async greetingTurn() {
      // The turn under way when called may have looked before the caller's change: wait for the next one too.
      for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => turnWaiters.push(resolve));
    },
    async close() {
      await app.close();
      await store.close();
      if (!shared) await database.drop();
    },
  };
}
