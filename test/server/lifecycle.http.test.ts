import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/db/data-source";
import { entities } from "../../src/entities";
import { signatureHeader } from "../../src/webhooks/signature";
import { referralEvent } from "../helpers/events";
import { freePort, processDatabaseUrl } from "../helpers/processes";
import { createTestDatabase, SECRET, startServer, TestServer } from "../helpers/server";

const MAIN = join(__dirname, "../../dist/src/main.js");

describe("health and readiness", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test("GET /healthz answers 200 with status ok", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  test("GET /readyz answers 200 while a write can commit", async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready" });
  });
});

test("GET /readyz answers 503 with an error once the database is gone, while /healthz still answers 200", async () => {
  const server = await startServer();
  try {
    await server.store.close();
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ error: expect.stringMatching(/^Writes fail: /), code: "SERVICE_UNAVAILABLE" });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  } finally {
    // server.close() would close the store a second time.
    await server.app.close();
    await server.database.drop();
  }
});

/** Signs and posts one delivery; status 0 when the connection was refused or cut. */
async function deliver(url: string, event: { id: string }) {
  const body = JSON.stringify(event);
  const signature = signatureHeader(SECRET, body, Math.floor(Date.now() / 1000));
  try {
    const response = await fetch(`${url}/webhooks/postproxy`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-postproxy-signature": signature },
      body,
    });
    return { id: event.id, status: response.status };
  } catch {
    return { id: event.id, status: 0 };
  }
}

/** Polls until check() holds; fails after 45 s, a bound for a loaded machine only. */
async function until(what: string, check: () => boolean | Promise<boolean>) {
  for (const deadline = Date.now() + 45_000; Date.now() < deadline; ) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

test("on SIGTERM the server answers the deliveries in flight, refuses new ones, exits 0, and stored every one it acknowledged", async () => {
  const database = await createTestDatabase();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const databaseUrl = processDatabaseUrl(database);
  // Opened (and migrated) before the server starts, so the two never migrate at once. Its second connection holds the
  // write lock below, keeping the deliveries in flight (received, waiting to commit) for as long as the test decides:
  // SQLite writers wait on it (busy timeout), PostgreSQL inserts wait on the table lock.
  const store = await openStore(database.url, { entities, schema: database.schema });
  const lock = store.writer.createQueryRunner();
  const child = spawn(process.execPath, [MAIN], {
    cwd: tmpdir(),
    // Statements may wait on the lock for as long as the test holds it, on a loaded machine longer than the default 3 s.
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: String(port), DATABASE_URL: databaseUrl, POSTPROXY_WEBHOOK_SECRET: SECRET, DATABASE_STATEMENT_TIMEOUT_MS: "60000" },
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve((exitCode = code))));
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  const logged = (message: string) => log.split(`"msg":"${message}"`).length - 1;

  try {
    await until("the server answers", () => fetch(`${url}/healthz`).then((response) => response.ok, () => false));
    if (database.schema) {
      await lock.startTransaction();
      await lock.query("LOCK TABLE webhook_event IN EXCLUSIVE MODE");
    } else {
      await lock.query("BEGIN IMMEDIATE");
    }

    const events = Array.from({ length: 50 }, (_, i) => referralEvent({ chat: `ch_shutdown_${i}`, ref: `ref_${i}` }));
    const inFlight = events.map((event) => deliver(url, event));
    await until("every delivery reached the server", () => logged("incoming request") >= 1 + events.length);
    expect(logged("request completed")).toBe(1); // only /healthz: the deliveries are all still waiting

    child.kill("SIGTERM");
    await until("the server stops answering", () => fetch(`${url}/healthz`).then((response) => !response.ok, () => true));
    const lateEvents = [referralEvent({ chat: "ch_late_1", ref: "late" }), referralEvent({ chat: "ch_late_2", ref: "late" })];
    const late = await Promise.all(lateEvents.map((event) => deliver(url, event)));
    expect(exitCode).toBeUndefined(); // still finishing the deliveries in flight

    if (database.schema) await lock.commitTransaction();
    else await lock.query("ROLLBACK");
    const answered = await Promise.all(inFlight);

    expect(await exited).toBe(0);
    expect(answered.filter((result) => result.status !== 200)).toEqual([]);
    for (const { status } of late) expect([0, 503]).toContain(status); // refused, or cut off while closing
    const rows: { id: string }[] = await store.reader.query(`SELECT id FROM webhook_event`);
    expect(rows.map((row) => row.id).sort()).toEqual(events.map((event) => event.id).sort());
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- server output ---\n${log}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await lock.release();
    await store.close();
    await database.drop();
  }
});
