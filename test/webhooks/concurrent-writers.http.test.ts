import { retryWhenBusy } from "../../src/db/busy";
import { referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

// On SQLite the greetings (and the CLI) write through another connection while ingestion writes its batches. A
// batch that read before such a write committed used to be refused at its first write, and after a few quick
// retries the delivery was recorded FAILED. Every delivery must be applied however busy the other connection is.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

test("deliveries are all applied while another connection keeps writing", async () => {
  let writing = true;
  const otherWriter = (async () => {
    for (let i = 0; writing; i++) {
      // A disabled rule: ingestion reads only enabled ones, so these writes change nothing it does. Like every
      // writer on another connection (API keys, the CLI), it retries when ingestion's batches keep the lock past the
      // busy timeout on a loaded machine.
      await retryWhenBusy(() =>
        server.store.reader.query(
          `INSERT INTO greeting_rule (id, name, ref_pattern, platform, trigger, body, priority, enabled, created_at, updated_at)
           VALUES ('busy_${i}', 'busy', '*', NULL, 'ON_REFERRAL', 'hi', 0, false, 0, 0)`,
        ),
      );
      await retryWhenBusy(() => server.store.reader.query(`DELETE FROM greeting_rule WHERE id = 'busy_${i}'`));
    }
  })();
  try {
    const events = Array.from({ length: 400 }, (_, i) => referralEvent({ chat: { id: `busy_${i % 50}`, platform: "instagram" }, ref: `ref_${i % 9}`, receivedAt: Date.now() - i * 1000 }));
    const answers = await Promise.all(events.map((event) => server.deliver(event)));
    expect(answers.map((answer) => answer.body.status).filter((status) => status !== "PROCESSED")).toEqual([]);
  } finally {
    writing = false;
    await otherWriter;
  }
  const { body } = await server.graphql(`{ webhookEvents(filter: { status: FAILED }) { totalCount } }`);
  expect(body.data.webhookEvents.totalCount).toBe(0);
});
