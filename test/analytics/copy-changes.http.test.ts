import { FakePostproxy } from "../../src/dev/fake-postproxy";
import { messageEvent, referralEvent } from "../helpers/events";
import { runCliWithEnv } from "../helpers/processes";
import { startServer, TestServer } from "../helpers/server";

// campaignStats answers from an in-memory copy that catches up on what changed (src/analytics/copy-changes.ts). For
// each kind of write, the running server's copy, caught up incrementally, must answer as a copy built fresh from the
// database does (a second server on the same database), and the write must have changed the answer.

const NOW = Date.parse("2026-11-20T12:00:00Z");
const HOUR = 3_600_000;
const API_KEY = "pp_test_key_0123456789";
const METRICS = "referrals uniqueChats newChats returningChats conversions silentReferrals medianSecondsToFirstMessage greetingsSent greetingReplies";
const QUERY = `{ campaignStats(range: ALL, groupBy: [REF, CAMPAIGN, CHANNEL, PLATFORM], first: 1000) {
  totals { ${METRICS} } rows { key { ref campaign channel platform } metrics { ${METRICS} } } } }`;

let fake: FakePostproxy;
let server: TestServer;
beforeAll(async () => {
  fake = new FakePostproxy({ apiKey: API_KEY });
  server = await startServer({ POSTPROXY_API_KEY: API_KEY, POSTPROXY_BASE_URL: await fake.start() }, { now: () => new Date(NOW) });
  await deliver(referralEvent({ chat: { id: "cc_a", platform: "instagram" }, ref: "summer--bio--a", receivedAt: NOW - 5 * HOUR }));
  await deliver(referralEvent({ chat: { id: "cc_b", platform: "facebook" }, ref: "c=winter--ch=qr", receivedAt: NOW - 4 * HOUR }));
});
afterAll(async () => {
  await server.close();
  await fake.stop();
});

async function deliver(event: object) {
  expect((await server.deliver(event)).body.status).toBe("PROCESSED");
}

async function stats(of: TestServer) {
  const { body } = await of.graphql(QUERY);
  expect(body.errors).toBeUndefined();
  return body.data.campaignStats;
}

/** What a copy built fresh from the database answers. */
async function freshStats() {
  const fresh = await startServer({}, { now: () => new Date(NOW) }, server.database);
  try {
    return await stats(fresh);
  } finally {
    await fresh.close();
  }
}

/** The running copy is caught up before `write`, and after it answers as a fresh copy, which `write` changed. */
async function expectCopyKeepsUp(write: () => Promise<void>) {
  const before = await stats(server);
  await write();
  const after = await stats(server);
  expect(after).toEqual(await freshStats());
  expect(after).not.toEqual(before);
}

test("a referral: new rows, and a stored first referral that is first no more", () =>
  expectCopyKeepsUp(() => deliver(referralEvent({ chat: "cc_a", ref: "summer--story--b", receivedAt: NOW - 6 * HOUR }))));

test("a message: the chat's latest referral converts", () => expectCopyKeepsUp(() => deliver(messageEvent({ chatId: "cc_b", postedAt: NOW - 3 * HOUR }))));

test("a greeting: published once Postproxy reports its message sent", async () => {
  await deliver(referralEvent({ chat: { id: "cc_g", platform: "instagram" }, ref: "summer--dm--a", receivedAt: NOW - HOUR }));
  const { body } = await server.graphql(`mutation { sendGreeting(input: { chatId: "cc_g", body: "Hi!" }) { status postproxyMessageId } }`);
  expect(body.data.sendGreeting.status).toBe("PENDING");
  await expectCopyKeepsUp(() => deliver(messageEvent({ type: "message.sent", chatId: "cc_g", messageId: body.data.sendGreeting.postproxyMessageId, postedAt: NOW })));
});

test("a reparse by the CLI: the refs' parts as another grammar reads them", () =>
  expectCopyKeepsUp(async () => {
    const run = await runCliWithEnv(server.database, { REF_GRAMMAR: "{campaign}--{channel}--{variant}" }, "reparse");
    expect(run.code).toBe(0);
  }));

test("a platform change: the chat's earlier referrals move to the platform it now names", () =>
  expectCopyKeepsUp(() => deliver(referralEvent({ chat: { id: "cc_b", platform: "instagram" }, ref: "c=winter--ch=qr", receivedAt: NOW - 2 * HOUR }))));
