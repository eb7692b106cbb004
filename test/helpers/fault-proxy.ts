import { FaultProxy } from "../../src/dev/fault-proxy";
import { createTestDatabase, startServer, TestServer } from "./server";

export interface ProxiedServer {
  server: TestServer;
  proxy: FaultProxy;
  close(): Promise<void>;
}

/** A server on a fresh PostgreSQL schema (TEST_DATABASE_URL) reached through a FaultProxy. */
export async function startServerBehindProxy(env: Record<string, string> = {}): Promise<ProxiedServer> {
  const database = await createTestDatabase();
  const target = new URL(database.url);
  const proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const address = await proxy.listen();
  const proxied = new URL(database.url);
  proxied.host = `${address.host}:${address.port}`;
  const server = await startServer(env, {}, { ...database, url: proxied.toString() });
  return {
    server,
    proxy,
    async close() {
      proxy.setMode("pass");
      await server.close();
      await proxy.close();
      await database.drop();
    },
  };
}

/** GET /readyz, with how long it took to answer. */
export async function readyz(server: TestServer): Promise<{ status: number; body: any; ms: number }> {
  const start = performance.now();
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: await response.json(), ms: performance.now() - start };
}

/** Polls /readyz until it answers ready; fails after 30 s, a bound for a loaded machine only. */
export async function untilReady(server: TestServer): Promise<void> {
  let last: unknown;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const answer = await readyz(server);
    if (answer.status === 200) return;
    last = answer.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/readyz still not ready after 30 s: ${JSON.stringify(last)}`);
}

/** A write that succeeded may speak for the database for up to a second: polls until /readyz says not ready (30 s at most). */
export async function untilNotReady(server: TestServer): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if ((await readyz(server)).status === 503) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("/readyz still ready after 30 s");
}
