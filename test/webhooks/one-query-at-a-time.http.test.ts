import { referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

// Ingestion used to send a transaction's reads (and then its writes) together on one connection. node-postgres
// queues them but warns that pg 9 removes this ("Calling client.query() when the client is already executing a
// query is deprecated"). No warning of any kind may come out of ingesting a batch, on either database.

let server: TestServer;
const warnings: string[] = [];
const collect = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
beforeAll(async () => {
  process.on("warning", collect);
  server = await startServer();
});
afterAll(async () => {
  process.off("warning", collect);
  await server.close();
});

test("a batch of deliveries, repeats and late referrals among them, is ingested without a warning", async () => {
  const events = Array.from({ length: 60 }, (_, i) => referralEvent({ chat: { id: `one_at_a_time_${i % 7}`, platform: "instagram" }, ref: `ref_${i % 5}`, receivedAt: Date.now() - (i % 11) * 60_000 }));
  const answers = await Promise.all([...events, ...events.slice(0, 10)].map((event) => server.deliver(event)));
  expect(answers.map((answer) => answer.status).filter((status) => status !== 200)).toEqual([]);
  const { body } = await server.graphql(`{ webhookEvents(filter: { status: PROCESSED }) { totalCount } }`);
  expect(body.data.webhookEvents.totalCount).toBe(60);
  // Warnings are emitted on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  expect(warnings).toEqual([]);
});
