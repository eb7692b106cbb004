import { referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

test("a signed referral.received is stored and answered 200 after commit", async () => {
  const event = referralEvent({ chat: { id: "ch_a", platform: "instagram" }, ref: "summer_promo" });
  const response = await server.deliver(event);
  expect(response).toEqual({ status: 200, body: { id: event.id, status: "PROCESSED", duplicate: false } });
  const { body } = await server.graphql(`{ chat(id: "ch_a") { id platform metadata { referral { ref } } } }`);
  expect(body.data.chat).toEqual({ id: "ch_a", platform: "instagram", metadata: { referral: { ref: "summer_promo" } } });
});
