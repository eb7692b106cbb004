import { FaultProxy } from "../../src/dev/fault-proxy";
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
  // On SQLite the reader's connection was closed under it: closing it again fails.
  await server.store.close().catch(() => undefined);
  await proxy?.close();
  await database.drop();
});

/** The database stops answering: PostgreSQL's connections are reset and new ones refused; SQLite's reader is closed. */
function breakDatabase(): string {
  if (proxy) {
    proxy.setMode("refuse");
    proxy.resetAll();
    return "connection";
  }
  (server.store.reader.driver as unknown as { databaseConnection: { close(): void } }).databaseConnection.close();
  return "unavailable";
}

test("while the database fails, /readyz's 503 counts a database error by class and /metrics still answers", async () => {
  let text = (await scrape(server.url, ADMIN_KEY)).text;
  expect(sampleValue(text, "refgraph_database_errors_total")).toBe(0);
  expect(sampleValue(text, "refgraph_greeting_outbox_depth", { status: "QUEUED" })).toBe(0);
  expect(text).toContain("refgraph_greeting_outbox_depth{");

  const errorClass = breakDatabase();
  expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
  // The admin key is checked without the database.
  const { status, text: after } = await scrape(server.url, ADMIN_KEY);
  expect(status).toBe(200);
  text = after;
  // /readyz and the scrape's own read.
  expect(sampleValue(text, "refgraph_database_errors_total", { class: errorClass })).toBeGreaterThanOrEqual(2);
  expect(text).not.toContain("refgraph_greeting_outbox_depth{");
  expect(sampleValue(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
});
