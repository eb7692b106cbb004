import { FaultProxy } from "../../src/dev/fault-proxy";
import { referralEvent } from "../helpers/events";
import { sampleValue, scrape } from "../helpers/metrics";
import { ADMIN_KEY, createTestDatabase, startServer, TestDatabase, TestServer } from "../helpers/server";

// Database errors are counted by class where refgraph handles them; a scrape still answers while the database does not.

const postgres = process.env.TEST_DATABASE_URL;
let database: TestDatabase;
let proxy: FaultProxy | null = null;
let server: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
  if (postgres) {
    const target = new URL(postgres);
    proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const { host, port } = await proxy.listen();
    target.host = `${host}:${port}`;
    server = await startServer({ DATABASE_URL: target.toString() }, {}, database);
  } else {
    server = await startServer({}, {}, database);
  }
});
afterAll(async () => {
  await server.app.close();
  // On SQLite the connections were closed under it: closing them again fails.
  await server.store.close().catch(() => undefined);
  await proxy?.close();
  await database.drop();
});

/** The database stops answering: PostgreSQL's connections are reset and new ones refused; SQLite's connections are closed. */
function breakDatabase(): string {
  if (proxy) {
    proxy.setMode("refuse");
    proxy.resetAll();
    return "connection";
  }
  for (const dataSource of [server.store.reader, server.store.writer])
    (dataSource.driver as unknown as { databaseConnection: { close(): void } }).databaseConnection.close();
  return "unavailable";
}

test("while the database fails, the webhook's and /readyz's 503s count database errors by class, and /metrics still answers", async () => {
  let text = (await scrape(server.url, ADMIN_KEY)).text;
  expect(sampleValue(text, "refgraph_database_errors_total")).toBe(0);
  expect(sampleValue(text, "refgraph_greeting_outbox_depth", { status: "QUEUED" })).toBe(0);
  expect(text).toContain("refgraph_greeting_outbox_depth{");

  const errorClass = breakDatabase();
  expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
  expect((await server.deliver(referralEvent({ chat: "ch_unstored", ref: "lost" }))).status).toBe(503);
  // The admin key is checked without the database.
  const { status, text: after } = await scrape(server.url, ADMIN_KEY);
  expect(status).toBe(200);
  text = after;
  // /readyz, the webhook and the scrape's own read.
  expect(sampleValue(text, "refgraph_database_errors_total", { class: errorClass })).toBeGreaterThanOrEqual(3);
  expect(sampleValue(text, "refgraph_webhook_deliveries_total", { status: "503", inbox_status: "none", duplicate: "false" })).toBe(1);
  expect(sampleValue(text, "refgraph_ingest_commit_seconds_count", { outcome: "failed" })).toBe(1);
  expect(text).not.toContain("refgraph_greeting_outbox_depth{");
  expect(sampleValue(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
});
