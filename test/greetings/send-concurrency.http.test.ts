import { FakePostproxy } from "../../src/dev/fake-postproxy";
import { referralEvent } from "../helpers/events";
import { SECRET, startServer, TestServer } from "../helpers/server";

// The worker drains a backlog with several sends at once, never more than GREETING_SEND_CONCURRENCY, each greeting
// sent once, also with two instances on one database; a 429 pauses every send until Retry-After has passed.

const T0 = Date.parse("2026-11-26T12:00:00Z");
const API_KEY = "pp_test_key_0123456789";
const CONCURRENCY = 4;
let clock = T0;
const now = () => new Date(clock);

let fake: FakePostproxy;
let env: Record<string, string>;
beforeEach(async () => {
  fake = new FakePostproxy({ apiKey: API_KEY, webhookSecret: SECRET, deliveryDelayMs: 5 });
  env = { POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: await fake.start(), GREETING_SEND_CONCURRENCY: String(CONCURRENCY) };
});
afterEach(async () => {
  await fake.stop();
});

const start = (shared?: TestServer) => startServer(env, { now, greetingRetryIntervalMs: 20 }, shared?.database);

async function greetEveryReferral(server: TestServer) {
  const { body } = await server.graphql(`mutation { createGreetingRule(input: { name: "All", refPattern: "*", trigger: ON_REFERRAL, body: "Hi!" }) { id } }`);
  expect(body.errors).toBeUndefined();
}
async function refer(server: TestServer, chats: string[]) {
  for (const chat of chats)
    expect((await server.deliver(referralEvent({ chat: { id: chat, platform: "instagram" }, ref: "summer_promo", receivedAt: clock - 60_000 }))).body.status).toBe("PROCESSED");
}
async function statuses(server: TestServer): Promise<Record<string, string>> {
  const { body } = await server.graphql(`{ greetings(first: 100) { edges { node { status chat { id } } } } }`);
  return Object.fromEntries(body.data.greetings.edges.map(({ node }: any) => [node.chat.id, node.status]));
}
/** Waits (real time, bounded) until the condition holds. */
async function until(condition: () => boolean | Promise<boolean>, what: string) {
  for (let waited = 0; waited < 45_000; waited += 20) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting until ${what}`);
}
const accepted = (chats: string[]) => chats.every((chat) => fake.requests.filter((request) => request.chatId === chat && request.answer === 202).length === 1);
const sentOnce = (chats: string[]) => chats.every((chat) => fake.requests.filter((request) => request.chatId === chat).length === 1);

test(`a backlog drains ${CONCURRENCY} sends at a time, never more, and every greeting is sent exactly once`, async () => {
  const server = await start();
  fake.options.webhookUrl = `${server.url}/webhooks/postproxy`;
  try {
    await greetEveryReferral(server);
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    fake.failNext(...Array.from({ length: 40 }, () => ({ held: gate })));
    const chats = Array.from({ length: 40 }, (_, i) => `ch_backlog_${i}`);
    await refer(server, chats);
    await until(() => fake.requests.length >= CONCURRENCY, `${CONCURRENCY} sends are held`);
    // Every slot is taken: whole turns go by without another send.
    await server.greetingTurn();
    expect(fake.requests).toHaveLength(CONCURRENCY);
    expect(fake.mostAtOnce).toBe(CONCURRENCY);
    release();
    await until(async () => Object.values(await statuses(server)).filter((status) => status === "PUBLISHED").length === chats.length, "every greeting is PUBLISHED");
    expect(fake.mostAtOnce).toBe(CONCURRENCY);
    expect(accepted(chats) && sentOnce(chats)).toBe(true);
  } finally {
    await fake.settled();
    await server.close();
  }
});

test("two instances on one database drain one backlog: each greeting sent exactly once, each instance within its bound", async () => {
  const first = await start();
  const second = await start(first);
  fake.options.webhookUrl = `${first.url}/webhooks/postproxy`;
  try {
    await greetEveryReferral(first);
    const chats = Array.from({ length: 40 }, (_, i) => `ch_shared_${i}`);
    await refer(first, chats.slice(0, 20));
    await refer(second, chats.slice(20));
    await until(async () => Object.values(await statuses(first)).filter((status) => status === "PUBLISHED").length === chats.length, "every greeting is PUBLISHED");
    // message.sent webhooks were ingested (referrals, then greetings settled) while outcomes were being written
    // (referrals restamped, then greetings): in that order on both sides, PostgreSQL found no deadlock.
    expect(fake.deliveries.map((delivery) => delivery.status)).toEqual(chats.map(() => 200));
    expect(fake.mostAtOnce).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(accepted(chats) && sentOnce(chats)).toBe(true);
  } finally {
    await fake.settled();
    await second.close();
    await first.close();
  }
});

test("a 429 pauses every send until Retry-After has passed; sendGreeting meanwhile answers QUEUED without calling Postproxy", async () => {
  const server = await start();
  fake.options.webhookUrl = `${server.url}/webhooks/postproxy`;
  try {
    await greetEveryReferral(server);
    fake.failNext({ status: 429, retryAfterSeconds: 120 });
    await refer(server, ["ch_limited"]);
    await until(() => fake.requests.length === 1, "the first send is refused");
    await until(async () => (await statuses(server)).ch_limited === "QUEUED", "the refused greeting is QUEUED again");

    await refer(server, ["ch_waiting_1", "ch_waiting_2"]);
    expect(await statuses(server)).toMatchObject({ ch_waiting_1: "QUEUED", ch_waiting_2: "QUEUED" });
    await server.greetingTurn();
    await refer(server, ["ch_manual"]);
    const { body } = await server.graphql(`mutation { sendGreeting(input: { chatId: "ch_manual", body: "Hello", idempotencyKey: "manual" }) { status attempts } }`);
    expect(body.data.sendGreeting).toEqual({ status: "QUEUED", attempts: 0 });
    await server.greetingTurn();
    expect(fake.requests).toHaveLength(1);

    clock += 120_000;
    const chats = ["ch_limited", "ch_waiting_1", "ch_waiting_2", "ch_manual"];
    await until(async () => {
      const now = await statuses(server);
      return fake.requests.filter((request) => request.chatId === "ch_manual").length === 2 && chats.every((chat) => now[chat] === "PUBLISHED");
    }, "every greeting is PUBLISHED after the pause");
    expect(fake.requests.slice(1).every((request) => request.answer === 202)).toBe(true);
  } finally {
    clock = T0;
    await fake.settled();
    await server.close();
  }
});
