import { FakePostproxy } from "../../src/dev/fake-postproxy";
import { messageEvent, referralEvent } from "../helpers/events";
import { SECRET, startServer, TestServer } from "../helpers/server";

// Greeting rules at work: referrals and first messages arriving as webhooks queue greetings that the worker sends.

const T0 = Date.parse("2026-11-26T12:00:00Z");
const HOUR = 3_600_000;
const API_KEY = "pp_test_key_0123456789";
let fake: FakePostproxy;
let server: TestServer;

beforeAll(async () => {
  fake = new FakePostproxy({ apiKey: API_KEY, webhookSecret: SECRET, deliveryDelayMs: 5 });
  const baseUrl = await fake.start();
  server = await startServer({ POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: baseUrl }, { now: () => new Date(T0), greetingRetryIntervalMs: 20 });
  fake.options.webhookUrl = `${server.url}/webhooks/postproxy`;
  const rule = (input: Record<string, unknown>) =>
    server.graphql(`mutation($input: CreateGreetingRuleInput!) { createGreetingRule(input: $input) { id } }`, { input }).then(({ body }) => expect(body.errors).toBeUndefined());
  await rule({ name: "Summer", refPattern: "summer_*", trigger: "ON_REFERRAL", body: "Hi {{participant.name}}! Welcome from {{campaign}} ({{ref}})." });
  await rule({ name: "Summer on Instagram", refPattern: "SUMMER_*", platform: "instagram", priority: 10, trigger: "ON_REFERRAL", body: "Hey {{participant.name}} from Instagram!" });
  await rule({ name: "Paused", refPattern: "*", priority: 1000, enabled: false, trigger: "ON_REFERRAL", body: "never sent" });
  await rule({ name: "QR, after the first message", refPattern: "c=qr*", trigger: "ON_FIRST_MESSAGE", body: "Thanks for writing, {{participant.name}}! ({{channel}})" });
});
afterAll(async () => {
  await server.close();
  await fake.stop();
});

const chat = (id: string, platform = "facebook") => ({ id, platform, participant_name: "Jane Doe" });
async function deliver(event: object) {
  expect((await server.deliver(event)).body.status).toBe("PROCESSED");
}
async function greetingsOf(chatId: string) {
  const { body } = await server.graphql(`query($chatId: String) { greetings(filter: { chatId: $chatId }) { edges { node { status body error referral { ref } } } } }`, { chatId });
  return body.data.greetings.edges.map((edge: any) => edge.node);
}
async function until(chatId: string, status: string) {
  for (let waited = 0; waited < 5_000; waited += 20) {
    const [greeting] = await greetingsOf(chatId);
    if (greeting?.status === status) return greeting;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${chatId}: ${JSON.stringify(await greetingsOf(chatId))}`);
}
const sentTo = (chatId: string) => fake.requests.filter((request) => request.chatId === chatId);

test("ON_REFERRAL: a matching referral is greeted with the template filled in, once, and the greeting is PUBLISHED", async () => {
  const event = referralEvent({ chat: chat("ch_summer"), ref: "summer_promo", receivedAt: T0 - 60_000 });
  await deliver(event);
  await deliver(referralEvent({ chat: chat("ch_summer"), ref: "summer_promo", receivedAt: T0 - 60_000 })); // reported again
  expect(await until("ch_summer", "PUBLISHED")).toEqual({
    status: "PUBLISHED",
    body: "Hi Jane Doe! Welcome from summer_promo (summer_promo).",
    error: null,
    referral: { ref: "summer_promo" },
  });
  expect(sentTo("ch_summer")).toHaveLength(1);
});

test("the highest-priority matching rule wins, with its platform; a disabled rule never applies", async () => {
  await deliver(referralEvent({ chat: chat("ch_ig", "instagram"), ref: "summer_reel", receivedAt: T0 - 60_000 }));
  expect((await until("ch_ig", "PUBLISHED")).body).toBe("Hey Jane Doe from Instagram!");
});

test("a referral no rule matches gets no greeting", async () => {
  await deliver(referralEvent({ chat: chat("ch_winter"), ref: "winter_promo", receivedAt: T0 - 60_000 }));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await greetingsOf("ch_winter")).toEqual([]);
});

test("outside the messaging window the greeting is recorded SKIPPED with the reason, and not sent", async () => {
  await deliver(referralEvent({ chat: chat("ch_late"), ref: "summer_old", receivedAt: T0 - 30 * HOUR }));
  const [greeting] = await greetingsOf("ch_late");
  expect(greeting).toMatchObject({ status: "SKIPPED", error: `rule 'Summer': the messaging window closed at ${new Date(T0 - 6 * HOUR).toISOString()}` });
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(sentTo("ch_late")).toEqual([]);
});

test("ON_FIRST_MESSAGE waits for the person's first message after the referral, then greets once", async () => {
  await deliver(referralEvent({ chat: chat("ch_qr"), ref: "c=qr--ch=berlin", receivedAt: T0 - 30 * 60_000 }));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await greetingsOf("ch_qr")).toEqual([]);
  await deliver(messageEvent({ chatId: "ch_qr", postedAt: T0 - 20 * 60_000 }));
  await deliver(messageEvent({ chatId: "ch_qr", postedAt: T0 - 10 * 60_000 }));
  expect(await until("ch_qr", "PUBLISHED")).toMatchObject({ body: "Thanks for writing, Jane Doe! (berlin)", referral: { ref: "c=qr--ch=berlin" } });
  expect(sentTo("ch_qr")).toHaveLength(1);
});

test("a many-star rule against a ref crafted to backtrack: that referral is stored ungreeted, and a matching one is greeted", async () => {
  // As a backtracking regex, this rule on 2,083 `a` froze the process: the delivery never answered.
  const { body } = await server.graphql(`mutation($input: CreateGreetingRuleInput!) { createGreetingRule(input: $input) { refPattern } }`, {
    input: { name: "Many stars", refPattern: "*a*a*a*a*a*a*b", trigger: "ON_REFERRAL", body: "Hi from {{ref}}" },
  });
  expect(body.data).toEqual({ createGreetingRule: { refPattern: "*a*a*a*a*a*a*b" } });
  const hostile = await server.deliver(referralEvent({ chat: chat("ch_hostile"), ref: "a".repeat(2083), receivedAt: T0 - 60_000 }));
  const matching = await server.deliver(referralEvent({ chat: chat("ch_stars"), ref: "a-a-a-a-a-a-b", receivedAt: T0 - 60_000 }));
  expect([hostile, matching]).toMatchObject([
    { status: 200, body: { status: "PROCESSED" } },
    { status: 200, body: { status: "PROCESSED" } },
  ]);
  expect(await until("ch_stars", "PUBLISHED")).toMatchObject({ body: "Hi from a-a-a-a-a-a-b" });
  const { body: stored } = await server.graphql(`{ referrals(filter: { chatId: "ch_hostile" }) { edges { node { ref } } } }`);
  expect(stored.data.referrals.edges).toEqual([{ node: { ref: "a".repeat(2083) } }]);
  expect(await greetingsOf("ch_hostile")).toEqual([]);
});
