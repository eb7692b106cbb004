import { FakePostproxy } from "../../src/dev/fake-postproxy";
import { MAX_ATTEMPTS } from "../../src/greetings/retry-policy";
import { referralEvent } from "../helpers/events";
import { SECRET, startServer, TestServer } from "../helpers/server";

// The outbox over time: retries by the background worker, outcomes from Postproxy's webhooks, a restart in the
// middle of retries, and two instances sharing one outbox. The clock is the test's, moved by hand.

const T0 = Date.parse("2026-11-26T12:00:00Z");
const API_KEY = "pp_test_key_0123456789";
let clock = T0;
const now = () => new Date(clock);
const FAST = { now, greetingRetryIntervalMs: 20 };

let fake: FakePostproxy;
let env: Record<string, string>;
let server: TestServer;
beforeAll(async () => {
  fake = new FakePostproxy({ apiKey: API_KEY, webhookSecret: SECRET, deliveryDelayMs: 5 });
  env = { POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: await fake.start() };
  server = await startServer(env, FAST);
  fake.options.webhookUrl = `${server.url}/webhooks/postproxy`;
});
afterAll(async () => {
  // Closing while the fake's message.sent deliveries are still in flight has hung close() for up to a minute on
  // SQLite (seen once in CI; not yet understood, issue 12): let them land first.
  await fake.settled();
  await server.close();
  await fake.stop();
});

const GREETING = "id status attempts error postproxyMessageId";

async function greet(chatId: string, target = server) {
  await target.deliver(referralEvent({ chat: { id: chatId, platform: "instagram" }, ref: "summer_promo", receivedAt: clock - 60_000 }));
  const { body } = await target.graphql(`mutation($chatId: ID!) { sendGreeting(input: { chatId: $chatId, body: "Hi there" }) { ${GREETING} } }`, { chatId });
  expect(body.errors).toBeUndefined();
  return body.data.sendGreeting;
}

async function greetingOf(chatId: string, target = server) {
  const { body } = await target.graphql(`query($chatId: String) { greetings(filter: { chatId: $chatId }) { edges { node { ${GREETING} } } } }`, { chatId });
  return body.data.greetings.edges[0]?.node;
}

/** Waits (real time) until the chat's greeting has one of these statuses. */
async function until(chatId: string, statuses: string[], target = server) {
  for (let waited = 0; waited < 5_000; waited += 20) {
    const greeting = await greetingOf(chatId, target);
    if (statuses.includes(greeting?.status)) return greeting;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the greeting of ${chatId} never became ${statuses.join(" or ")}: ${JSON.stringify(await greetingOf(chatId, target))}`);
}

async function waitFor(condition: () => boolean) {
  for (let waited = 0; waited < 5_000 && !condition(); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(condition()).toBe(true);
}

const attemptsOn = (chatId: string) => fake.requests.filter((request) => request.chatId === chatId);

test("message.sent makes an accepted greeting PUBLISHED; message.failed makes it FAILED with Postproxy's reason", async () => {
  // The worker's sweep would settle them too: with it idle for the test, the webhooks alone must.
  const webhooksOnly = await startServer(env, { now, greetingRetryIntervalMs: 3_600_000 });
  fake.options.webhookUrl = `${webhooksOnly.url}/webhooks/postproxy`;
  try {
    // Accepted by Postproxy; its message.sent may already have landed before the mutation answers.
    const accepted = await greet("ch_sent", webhooksOnly);
    expect(["PENDING", "PUBLISHED"]).toContain(accepted.status);
    expect(await until("ch_sent", ["PUBLISHED"], webhooksOnly)).toMatchObject({ status: "PUBLISHED", error: null });
    expect(fake.deliveries).toContainEqual({ type: "message.sent", messageId: accepted.postproxyMessageId, status: 200 });

    fake.failingChats.set("ch_blocked", "This person isn't available right now");
    await greet("ch_blocked", webhooksOnly);
    expect(await until("ch_blocked", ["FAILED"], webhooksOnly)).toMatchObject({ error: "This person isn't available right now" });
  } finally {
    await fake.settled();
    fake.options.webhookUrl = `${server.url}/webhooks/postproxy`;
    await webhooksOnly.close();
  }
});

test("after a transient failure the worker retries when the backoff has passed, with the same Idempotency-Key", async () => {
  fake.failNext({ status: 503 });
  const first = await greet("ch_retry");
  expect(first).toMatchObject({ status: "QUEUED", attempts: 1 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(attemptsOn("ch_retry")).toHaveLength(1); // not before the backoff
  clock += 30_000;
  expect(await until("ch_retry", ["PUBLISHED"])).toMatchObject({ attempts: 2, error: null });
  expect(attemptsOn("ch_retry").map((request) => request.idempotencyKey)).toEqual([first.id, first.id]);
  expect([...fake.messages.values()].filter((message) => message.chat_id === "ch_retry")).toHaveLength(1);
});

test(`after ${MAX_ATTEMPTS} failed attempts the greeting is FAILED, and nothing more is sent`, async () => {
  fake.failNext(...Array.from({ length: MAX_ATTEMPTS }, () => ({ status: 500 as const })));
  await greet("ch_down");
  for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
    clock += 60 * 60_000;
    await waitFor(() => attemptsOn("ch_down").length >= attempt);
  }
  expect(await until("ch_down", ["FAILED"])).toMatchObject({ attempts: MAX_ATTEMPTS, error: expect.stringContaining(`gave up after ${MAX_ATTEMPTS} attempts`) });
  clock += 60 * 60_000;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(attemptsOn("ch_down")).toHaveLength(MAX_ATTEMPTS);
});

test("a restart in the middle of retries loses nothing and sends once", async () => {
  const own = await startServer(env, FAST);
  fake.failNext({ status: 503 });
  const queued = await greet("ch_restart", own);
  expect(queued.status).toBe("QUEUED");
  await own.app.close();
  await own.store.close();

  clock += 30_000;
  const restarted = await startServer(env, FAST, own.database);
  fake.options.webhookUrl = `${restarted.url}/webhooks/postproxy`;
  try {
    expect(await until("ch_restart", ["PUBLISHED"], restarted)).toMatchObject({ id: queued.id, attempts: 2 });
    expect([...fake.messages.values()].filter((message) => message.chat_id === "ch_restart")).toHaveLength(1);
  } finally {
    await fake.settled();
    fake.options.webhookUrl = `${server.url}/webhooks/postproxy`;
    await restarted.close();
    await own.database.drop();
  }
});

test("two instances on one database share the outbox: every greeting is sent exactly once", async () => {
  const first = await startServer(env, FAST);
  const second = await startServer(env, FAST, first.database);
  try {
    const chats = Array.from({ length: 12 }, (_, i) => `ch_shared_${i}`);
    fake.failNext(...chats.map(() => ({ status: 503 as const })));
    for (const [i, chat] of chats.entries()) expect((await greet(chat, i % 2 === 0 ? first : second)).status).toBe("QUEUED");
    clock += 30_000;
    for (const chat of chats) await until(chat, ["PENDING", "PUBLISHED"], first);
    for (const chat of chats) {
      const accepted = attemptsOn(chat).filter((request) => request.answer === 202);
      expect(accepted).toHaveLength(1);
    }
    expect(new Set([...fake.messages.values()].filter((message) => chats.includes(message.chat_id)).map((message) => message.chat_id)).size).toBe(chats.length);
    expect([...fake.messages.values()].filter((message) => chats.includes(message.chat_id))).toHaveLength(chats.length);
  } finally {
    await fake.settled();
    await second.close();
    await first.close();
  }
});
