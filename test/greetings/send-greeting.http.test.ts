import { FakePostproxy } from "../../src/dev/fake-postproxy";
import { messageEvent, referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

// sendGreeting against the fake Postproxy: recorded before the call, sent once per key, never outside the window.

const NOW = Date.parse("2026-11-26T12:00:00Z");
const HOUR = 3_600_000;
const API_KEY = "pp_test_key_0123456789";
const GREETING = `id body status attempts error postproxyMessageId tag createdAt sentAt chat { id } referral { ref }`;

let fake: FakePostproxy;
let server: TestServer;
beforeAll(async () => {
  fake = new FakePostproxy({ apiKey: API_KEY });
  const baseUrl = await fake.start();
  server = await startServer({ POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: baseUrl }, { now: () => new Date(NOW) });
});
afterAll(async () => {
  await server.close();
  await fake.stop();
});

async function deliver(event: object) {
  expect((await server.deliver(event)).body.status).toBe("PROCESSED");
}
const referral = (chat: string, ref: string, hoursAgo: number) => deliver(referralEvent({ chat: { id: chat, platform: "instagram" }, ref, receivedAt: NOW - hoursAgo * HOUR }));

async function sendGreeting(input: Record<string, unknown>, target = server) {
  const { body } = await target.graphql(`mutation($input: SendGreetingInput!) { sendGreeting(input: $input) { ${GREETING} } }`, { input });
  return body;
}
const sentTo = (chat: string) => fake.requests.filter((request) => request.chatId === chat);

test("a greeting inside the window is recorded and sent at once: PENDING, with Postproxy's message id", async () => {
  await referral("ch_open", "c=summer--ch=bio", 1);
  const { data, errors } = await sendGreeting({ chatId: "ch_open", body: "Hi! Thanks for stopping by." });
  expect(errors).toBeUndefined();
  const greeting = data.sendGreeting;
  expect(greeting).toMatchObject({ body: "Hi! Thanks for stopping by.", status: "PENDING", attempts: 1, error: null, tag: null, chat: { id: "ch_open" }, referral: { ref: "c=summer--ch=bio" } });
  expect(greeting.createdAt).toBe(new Date(NOW).toISOString());
  expect(greeting.sentAt).toBe(new Date(NOW).toISOString());
  // The greeting's id is the Idempotency-Key; the message id is what Postproxy answered.
  expect(sentTo("ch_open")).toEqual([{ chatId: "ch_open", idempotencyKey: greeting.id, body: { body: "Hi! Thanks for stopping by." }, answer: 202 }]);
  expect(greeting.postproxyMessageId).toBe(fake.messages.get(greeting.id)?.id);
});

test("calling again for the same latest referral returns the same greeting and sends nothing; a new referral may be greeted", async () => {
  await referral("ch_again", "summer_promo", 2);
  const first = (await sendGreeting({ chatId: "ch_again", body: "Hello" })).data.sendGreeting;
  const secondAnswer = await sendGreeting({ chatId: "ch_again", body: "Hello again" });
  expect(secondAnswer.errors).toBeUndefined();
  const second = secondAnswer.data.sendGreeting;
  expect(second).toEqual(first);
  expect(sentTo("ch_again")).toHaveLength(1);

  await referral("ch_again", "winter_promo", 1);
  const third = (await sendGreeting({ chatId: "ch_again", body: "Welcome back" })).data.sendGreeting;
  expect(third.id).not.toBe(first.id);
  expect(third.referral).toEqual({ ref: "winter_promo" });
  expect(sentTo("ch_again")).toHaveLength(2);
});

test("20 concurrent calls with one idempotency key make one greeting and one send", async () => {
  await referral("ch_burst", "qr_berlin", 1);
  const answers = await Promise.all(Array.from({ length: 20 }, () => sendGreeting({ chatId: "ch_burst", body: "Hi", idempotencyKey: "burst-1" })));
  expect(answers.every((answer) => answer.errors === undefined)).toBe(true);
  expect(new Set(answers.map((answer) => answer.data.sendGreeting.id)).size).toBe(1);
  expect(sentTo("ch_burst")).toHaveLength(1);
});

test("outside the window: MESSAGING_WINDOW_CLOSED with expiresAt, and nothing is recorded or sent", async () => {
  await referral("ch_closed", "old_ad", 30);
  const { errors, data } = await sendGreeting({ chatId: "ch_closed", body: "Too late?" });
  expect(data).toBeNull();
  expect(errors[0].extensions).toMatchObject({ code: "MESSAGING_WINDOW_CLOSED", expiresAt: new Date(NOW - 6 * HOUR).toISOString() });
  expect(sentTo("ch_closed")).toEqual([]);
  const [row] = await server.store.reader.query("SELECT COUNT(*) AS n FROM greeting WHERE chat_id = 'ch_closed'");
  expect(Number(row.n)).toBe(0);
});

test("HUMAN_AGENT may answer up to 7 days after the person's last message, not later", async () => {
  await referral("ch_human", "bio", 80);
  await deliver(messageEvent({ chatId: "ch_human", postedAt: NOW - 72 * HOUR }));
  expect((await sendGreeting({ chatId: "ch_human", body: "Sorry for the wait" })).errors[0].extensions.code).toBe("MESSAGING_WINDOW_CLOSED");
  const { data } = await sendGreeting({ chatId: "ch_human", body: "Sorry for the wait", tag: "HUMAN_AGENT" });
  expect(data.sendGreeting).toMatchObject({ status: "PENDING", tag: "HUMAN_AGENT" });
  expect(sentTo("ch_human")[0].body).toEqual({ body: "Sorry for the wait", tag: "HUMAN_AGENT" });

  await referral("ch_stale", "bio", 200);
  await deliver(messageEvent({ chatId: "ch_stale", postedAt: NOW - 7 * 24 * HOUR - 1 }));
  expect((await sendGreeting({ chatId: "ch_stale", body: "Hello?", tag: "HUMAN_AGENT" })).errors[0].extensions.code).toBe("MESSAGING_WINDOW_CLOSED");
});

test("a transient failure leaves the greeting QUEUED with the error; a refusal makes it FAILED", async () => {
  await referral("ch_flaky", "story", 1);
  fake.failNext({ status: 503 });
  expect((await sendGreeting({ chatId: "ch_flaky", body: "Hi" })).data.sendGreeting).toMatchObject({ status: "QUEUED", attempts: 1, error: expect.stringContaining("503"), postproxyMessageId: null });

  await referral("ch_refused", "story", 1);
  fake.failNext({ status: 422, errors: ["Recipient is unavailable"] });
  expect((await sendGreeting({ chatId: "ch_refused", body: "Hi" })).data.sendGreeting).toMatchObject({ status: "FAILED", attempts: 1, error: expect.stringContaining("Recipient is unavailable") });
});

test("bad input names the argument; an unknown chat is NOT_FOUND", async () => {
  await referral("ch_input", "bio", 1);
  for (const body of ["", "   ", "x".repeat(1001)]) {
    const { errors } = await sendGreeting({ chatId: "ch_input", body });
    expect(errors[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" }, message: expect.stringContaining("input.body") });
  }
  expect((await sendGreeting({ chatId: "ch_input", body: "Hi", idempotencyKey: "" })).errors[0].message).toContain("input.idempotencyKey");
  expect((await sendGreeting({ chatId: "ch_nobody", body: "Hi" })).errors[0].extensions.code).toBe("NOT_FOUND");
  expect(sentTo("ch_input")).toEqual([]);
});

test("without POSTPROXY_API_KEY: POSTPROXY_NOT_CONFIGURED", async () => {
  const unconfigured = await startServer({}, { now: () => new Date(NOW) });
  try {
    expect((await sendGreeting({ chatId: "ch_open", body: "Hi" }, unconfigured)).errors[0].extensions.code).toBe("POSTPROXY_NOT_CONFIGURED");
  } finally {
    await unconfigured.close();
  }
});
