import { referralEvent } from "../helpers/events";
import { readyz, startServerBehindProxy, untilNotReady, untilReady } from "../helpers/fault-proxy";
import { fillDisk, freeDisk, pageCount } from "../helpers/full-disk";
import { startServer, TestServer } from "../helpers/server";

// Issue 12, item 4: /readyz said ready while every write failed (it ran SELECT 1). Ready now means a write can commit.

if (process.env.TEST_DATABASE_URL) {
  test("PostgreSQL refusing connections: /readyz answers 503 saying writes fail, and ready once connections pass again", async () => {
    const { server, proxy, close } = await startServerBehindProxy();
    try {
      expect((await readyz(server)).status).toBe(200);
      proxy.setMode("refuse");
      proxy.resetAll();
      await untilNotReady(server);
      const refused = await readyz(server);
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: "Writes fail: connection.", code: "SERVICE_UNAVAILABLE" });

      proxy.setMode("pass");
      await untilReady(server);
      expect((await server.deliver(referralEvent({ chat: "ch_after_refusal", ref: "r" }))).status).toBe(200);
    } finally {
      await close();
    }
  });
} else {
  describe("SQLite with a full disk", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer();
    });
    afterAll(() => server.close());

    test("/readyz answers 503 naming the full disk while the file cannot grow, though one small row would still fit, and ready once it can", async () => {
      expect((await server.deliver(referralEvent({ chat: "ch_before", ref: "r" }))).status).toBe(200);
      const pages = await fillDisk(server);

      await untilNotReady(server);
      const full = await readyz(server);
      expect(full.status).toBe(503);
      expect(full.body).toEqual({ error: "Writes fail: disk_full.", code: "SERVICE_UNAVAILABLE" });
      expect(await pageCount(server)).toBe(pages); // the probe's room check never grew the file
      // Rewriting a small row still fits in the pages the file has: a probe doing only that would have said ready.
      await server.store.writer.query("INSERT INTO readiness_probe (id, checked_at) VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at");

      await freeDisk(server);
      await untilReady(server);
      expect((await server.deliver(referralEvent({ chat: "ch_after", ref: "r" }))).status).toBe(200);
    });
  });
}
