import { messageEvent, referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const REPLAY = `mutation($id: String!) { replayWebhookEvent(id: $id) { id status error duplicates } }`;

test("an event whose effects cannot be written is kept as FAILED, answered 200, and applied by replayWebhookEvent", async () => {
  // Break writes to the message table so applying message.received fails inside the database.
  await server.store.writer.query("ALTER TABLE message RENAME COLUMN tapped_action TO tapped_away");
  const failing = messageEvent({ chatId: "ch_fail", messageId: "msg_fail" });
  const healthy = referralEvent({ chat: "ch_ok", ref: "fine" });
  const [failed, ok] = await Promise.all([server.deliver(failing), server.deliver(healthy)]);
  expect(failed).toEqual({ status: 200, body: { id: failing.id, status: "FAILED", duplicate: false } });
  expect(ok.body.status).toBe("PROCESSED");

  const listed = await server.graphql(`{ webhookEvents(filter: { status: FAILED }) { totalCount edges { node { id error } } } }`);
  expect(listed.body.data.webhookEvents.totalCount).toBe(1);
  expect(listed.body.data.webhookEvents.edges[0].node.id).toBe(failing.id);
  expect(listed.body.data.webhookEvents.edges[0].node.error).toMatch(/^applying the event failed/);

  await server.store.writer.query("ALTER TABLE message RENAME COLUMN tapped_away TO tapped_action");
  const replayed = await server.graphql(REPLAY, { id: failing.id });
  expect(replayed.body.data.replayWebhookEvent).toEqual({ id: failing.id, status: "PROCESSED", error: null, duplicates: 0 });
  const chat = await server.graphql(`{ chat(id: "ch_fail") { lastInboundAt } }`);
  expect(chat.body.data.chat.lastInboundAt).not.toBeNull();
});

test("replaying an event that did not fail is refused with BAD_USER_INPUT, an unknown one with NOT_FOUND", async () => {
  const event = referralEvent({ chat: "ch_replay", ref: "r" });
  await server.deliver(event);
  const processed = await server.graphql(REPLAY, { id: event.id });
  expect(processed.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  expect(processed.body.errors[0].message).toMatch(/only FAILED events can be replayed/);
  const missing = await server.graphql(REPLAY, { id: "evt_nope" });
  expect(missing.body.errors[0].extensions.code).toBe("NOT_FOUND");
});
