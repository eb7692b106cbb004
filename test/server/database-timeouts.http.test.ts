import { referralEvent } from "../helpers/events";
import { readyz, startServerBehindProxy, untilReady } from "../helpers/fault-proxy";
import { startServer } from "../helpers/server";

// Issue 12, item 3: with PostgreSQL silent every webhook waited until the network came back, and /readyz hung.
// Deadlines carry 2 s for a loaded machine beyond the bounds refgraph keeps.
const MARGIN_MS = 2000;
const WEBHOOK_BOUND_MS = 10_000;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await work();
  return { result, ms: performance.now() - start };
}

if (process.env.TEST_DATABASE_URL) {
  test("PostgreSQL gone silent, default timeouts: /readyz answers 503 within 2 s, a webhook and a query fail within 10 s; once it passes, ready and 200", async () => {
    const { server, proxy, close } = await startServerBehindProxy();
    try {
      proxy.setMode("silent");
      const notReady = await readyz(server);
      expect(notReady.status).toBe(503);
      expect(notReady.body).toEqual({ error: "The database did not answer within 1.5 s.", code: "SERVICE_UNAVAILABLE" });
      expect(notReady.ms).toBeLessThan(2000 + MARGIN_MS);

      const webhook = await timed(() => server.deliver(referralEvent({ chat: "ch_silent", ref: "r" })));
      expect(webhook.result.status).toBe(503);
      expect(webhook.result.body.code).toBe("SERVICE_UNAVAILABLE");
      expect(webhook.ms).toBeLessThan(WEBHOOK_BOUND_MS + MARGIN_MS);

      const query = await timed(() => server.graphql("{ webhookEvents(first: 1) { totalCount } }"));
      expect(query.result.body.errors).toHaveLength(1);
      expect(query.ms).toBeLessThan(WEBHOOK_BOUND_MS + MARGIN_MS);

      // Several at once share one probe, and each still answers within 2 s.
      const together = await Promise.all(Array.from({ length: 5 }, () => readyz(server)));
      for (const answer of together) {
        expect(answer.status).toBe(503);
        expect(answer.ms).toBeLessThan(2000 + MARGIN_MS);
      }

      proxy.setMode("pass");
      await untilReady(server);
      expect((await server.deliver(referralEvent({ chat: "ch_after_silence", ref: "r" }))).status).toBe(200);
    } finally {
      await close();
    }
  });
} else {
  test("SQLite locked by another connection: a webhook answers 503 once its retries would pass their bound, and 200 once the lock is gone", async () => {
    const server = await startServer({ DATABASE_STATEMENT_TIMEOUT_MS: "200" });
    const lock = server.store.reader.createQueryRunner();
    try {
      await lock.query("BEGIN IMMEDIATE");
      const webhook = await timed(() => server.deliver(referralEvent({ chat: "ch_locked", ref: "r" })));
      expect(webhook.result.status).toBe(503);
      expect(webhook.ms).toBeLessThan(WEBHOOK_BOUND_MS + MARGIN_MS);
      const notReady = await readyz(server);
      expect(notReady.status).toBe(503);
      expect(notReady.body.error).toBe("Writes fail: busy.");

      await lock.query("ROLLBACK");
      await untilReady(server);
      expect((await server.deliver(referralEvent({ chat: "ch_unlocked", ref: "r" }))).status).toBe(200);
    } finally {
      await lock.release();
      await server.close();
    }
  });
}
