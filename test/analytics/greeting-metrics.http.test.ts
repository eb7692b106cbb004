import { once } from "node:events";
import { FakePostproxy } from "../../src/dev/fake-postproxy";
import { messageEvent, referralEvent } from "../helpers/events";
import { SECRET, startServer, TestServer } from "../helpers/server";

// campaignStats' greetingsSent (PUBLISHED greetings of the counted referrals) and greetingReplies (those answered by
// an inbound message within 24 h after the greeting was sent), kept current by the running server's copy whatever
// order the webhooks come in.

const NOW = Date.parse("2026-11-20T12:00:00Z");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const API_KEY = "pp_test_key_0123456789";

let fake: FakePostproxy;
let server: TestServer;
beforeAll(async () => {
  fake = new FakePostproxy({ apiKey: API_KEY });
  server = await startServer({ POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: await fake.start() }, { now: () => new Date(NOW) });
});
afterAll(async () => {
  await server.close();
  await fake.stop();
});

async function deliver(event: object) {
  expect((await server.deliver(event)).body.status).toBe("PROCESSED");
}

/** A chat that came through `ref` `hoursAgo` and was greeted at NOW: the greeting's Postproxy message id. */
async function greetedChat(chatId: string, ref: string, hoursAgo: number): Promise<string> {
  await deliver(referralEvent({ chat: { id: chatId, platform: "instagram" }, ref, receivedAt: NOW - hoursAgo * HOUR }));
  const { body } = await server.graphql(`mutation($input: SendGreetingInput!) { sendGreeting(input: $input) { status postproxyMessageId } }`, {
    input: { chatId, body: "Hi!" },
  });
  expect(body.data.sendGreeting.status).toBe("PENDING");
  return body.data.sendGreeting.postproxyMessageId;
}

const published = (chatId: string, messageId: string, at: number) => deliver(messageEvent({ type: "message.sent", chatId, messageId, postedAt: at }));
const inbound = (chatId: string, at: number) => deliver(messageEvent({ chatId, postedAt: at }));

async function greetingMetrics(chatId: string, args = "range: LAST_7D") {
  const { body } = await server.graphql(`{ campaignStats(${args}, filter: { chatId: "${chatId}" }) { totals { greetingsSent greetingReplies } } }`);
  expect(body.errors).toBeUndefined();
  return body.data.campaignStats.totals;
}

test("a greeting counts once published, and its reply once the person writes within 24 h", async () => {
  const message = await greetedChat("gm_plain", "c=spring--v=a", 3);
  expect(await greetingMetrics("gm_plain")).toEqual({ greetingsSent: 0, greetingReplies: 0 });
  await published("gm_plain", message, NOW + MINUTE);
  expect(await greetingMetrics("gm_plain")).toEqual({ greetingsSent: 1, greetingReplies: 0 });
  await inbound("gm_plain", NOW + 2 * HOUR);
  expect(await greetingMetrics("gm_plain")).toEqual({ greetingsSent: 1, greetingReplies: 1 });
  // A second message is the same reply.
  await inbound("gm_plain", NOW + 3 * HOUR);
  expect(await greetingMetrics("gm_plain")).toEqual({ greetingsSent: 1, greetingReplies: 1 });
});

test("a reply whose webhook comes before the greeting's message.sent still counts", async () => {
  const message = await greetedChat("gm_early", "c=spring--v=b", 2);
  await inbound("gm_early", NOW + 30 * MINUTE);
  expect(await greetingMetrics("gm_early")).toEqual({ greetingsSent: 0, greetingReplies: 0 });
  await published("gm_early", message, NOW + MINUTE);
  expect(await greetingMetrics("gm_early")).toEqual({ greetingsSent: 1, greetingReplies: 1 });
});

test("messages before the greeting was sent, or 24 h or more after, are not replies", async () => {
  const message = await greetedChat("gm_silent", "c=spring--v=c", 5);
  await inbound("gm_silent", NOW - 4 * HOUR);
  await published("gm_silent", message, NOW + MINUTE);
  await inbound("gm_silent", NOW + MINUTE + 24 * HOUR);
  expect(await greetingMetrics("gm_silent", "from: \"2026-11-19T00:00:00Z\", to: \"2026-11-23T00:00:00Z\"")).toEqual({ greetingsSent: 1, greetingReplies: 0 });
  await inbound("gm_silent", NOW + MINUTE + 24 * HOUR - 1);
  expect(await greetingMetrics("gm_silent", "from: \"2026-11-19T00:00:00Z\", to: \"2026-11-23T00:00:00Z\"")).toEqual({ greetingsSent: 1, greetingReplies: 1 });
});

test("a greeting Postproxy reports failed counts in neither metric", async () => {
  const message = await greetedChat("gm_failed", "c=spring--v=d", 1);
  await deliver(messageEvent({ type: "message.failed", chatId: "gm_failed", messageId: message, postedAt: NOW + MINUTE, extra: { error_message: "blocked" } }));
  await inbound("gm_failed", NOW + HOUR);
  expect(await greetingMetrics("gm_failed")).toEqual({ greetingsSent: 0, greetingReplies: 0 });
});

test("greetings count with their referral: per variant, in order, and only where the model counts the referral", async () => {
  // gm_touch came through two refs; the greeting belongs to the later referral, which FIRST_TOUCH does not count.
  await deliver(referralEvent({ chat: { id: "gm_touch", platform: "instagram" }, ref: "c=spring--v=a", receivedAt: NOW - 6 * HOUR }));
  const message = await greetedChat("gm_touch", "c=spring--v=e", 1);
  await published("gm_touch", message, NOW + MINUTE);
  await inbound("gm_touch", NOW + HOUR);
  expect(await greetingMetrics("gm_touch")).toEqual({ greetingsSent: 1, greetingReplies: 1 });
  expect(await greetingMetrics("gm_touch", "range: LAST_7D, attribution: FIRST_TOUCH")).toEqual({ greetingsSent: 0, greetingReplies: 0 });

  const { body } = await server.graphql(`{ campaignStats(groupBy: [VARIANT], range: LAST_7D, filter: { campaign: "spring" },
    orderBy: { field: GREETING_REPLIES, direction: DESC }) { rows { key { variant } metrics { referrals greetingsSent greetingReplies } } } }`);
  expect(body.errors).toBeUndefined();
  expect(body.data.campaignStats.rows).toEqual([
    { key: { variant: "a" }, metrics: { referrals: 2, greetingsSent: 1, greetingReplies: 1 } },
    { key: { variant: "b" }, metrics: { referrals: 1, greetingsSent: 1, greetingReplies: 1 } },
    { key: { variant: "c" }, metrics: { referrals: 1, greetingsSent: 1, greetingReplies: 1 } },
    { key: { variant: "e" }, metrics: { referrals: 1, greetingsSent: 1, greetingReplies: 1 } },
    { key: { variant: "d" }, metrics: { referrals: 1, greetingsSent: 0, greetingReplies: 0 } },
  ]);
});

test("with the fake Postproxy delivering message.sent itself, the greeting and its reply count", async () => {
  const live = new FakePostproxy({ apiKey: API_KEY });
  const other = await startServer({ POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: await live.start() });
  try {
    live.options.webhookUrl = `${other.url}/webhooks/postproxy`;
    live.options.webhookSecret = SECRET;
    const now = Date.now();
    await other.deliver(referralEvent({ chat: { id: "gm_live", platform: "facebook" }, ref: "live", receivedAt: now - HOUR }));
    const { body } = await other.graphql(`mutation { sendGreeting(input: { chatId: "gm_live", body: "Hello" }) { status } }`);
    // PUBLISHED when the fake's message.sent committed before the mutation answered.
    expect(["PENDING", "PUBLISHED"]).toContain(body.data.sendGreeting.status);
    await live.settled();
    expect(live.deliveries).toEqual([expect.objectContaining({ type: "message.sent", status: 200 })]);
    await other.deliver(messageEvent({ chatId: "gm_live", postedAt: Date.now() + MINUTE }));
    const stats = await other.graphql(`{ campaignStats(range: LAST_24H) { totals { greetingsSent greetingReplies } } }`);
    expect(stats.body.data.campaignStats.totals).toEqual({ greetingsSent: 1, greetingReplies: 1 });
  } finally {
    await other.close();
    await live.stop();
  }
});

test("a greeting whose message.sent overtook Postproxy's answer counts once the answer is recorded", async () => {
  let answer!: () => void;
  const answerAfterWebhook = new Promise<void>((resolve) => (answer = resolve));
  const live = new FakePostproxy({ apiKey: API_KEY, webhookSecret: SECRET, deliveryDelayMs: 0, answerAfterWebhook });
  const other = await startServer({ POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: await live.start() });
  try {
    live.options.webhookUrl = `${other.url}/webhooks/postproxy`;
    await other.deliver(referralEvent({ chat: { id: "gm_overtaken", platform: "facebook" }, ref: "overtaken", receivedAt: Date.now() - HOUR }));
    const totals = async () => (await other.graphql(`{ campaignStats(range: LAST_24H) { totals { greetingsSent } } }`)).body.data.campaignStats.totals;
    const arrived = once(live, "request");
    const sending = other.graphql(`mutation { sendGreeting(input: { chatId: "gm_overtaken", body: "Hello" }) { status } }`);
    await arrived;
    await live.settled();
    expect(live.deliveries).toEqual([expect.objectContaining({ type: "message.sent", status: 200 })]);
    // The copy reads the chat while its greeting waits for the answer: not published yet.
    expect(await totals()).toEqual({ greetingsSent: 0 });
    answer();
    expect((await sending).body.data.sendGreeting.status).toBe("PUBLISHED");
    expect(await totals()).toEqual({ greetingsSent: 1 });
  } finally {
    await other.close();
    await live.stop();
  }
});
