import { messageEvent, referralEvent } from "../helpers/events";
import { runCli } from "../helpers/processes";
import { startServer, TestServer } from "../helpers/server";

// campaignStats answers from an in-memory copy of the referrals (ReferralIndex): it must keep up with every write,
// whichever process makes it, as a query on the database would.

const NOW = Date.parse("2026-11-10T12:00:00Z");
let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { now: () => new Date(NOW) });
});
afterAll(() => server.close());

async function stats(args: string) {
  const { body } = await server.graphql(`{ campaignStats(${args}) {
    totals { referrals uniqueChats conversions } rows { key { platform } metrics { referrals } } } }`);
  expect(body.errors).toBeUndefined();
  return body.data.campaignStats;
}

async function deliver(event: object) {
  expect((await server.deliver(event)).body.status).toBe("PROCESSED");
}

test("a message that converts a referral the copy already holds counts in the next answer", async () => {
  await deliver(referralEvent({ chat: { id: "convert", platform: "instagram" }, ref: "spring", receivedAt: NOW - 3_600_000 }));
  expect((await stats(`range: LAST_24H, filter: { chatId: "convert" }`)).totals).toEqual({ referrals: 1, uniqueChats: 1, conversions: 0 });
  await deliver(messageEvent({ chatId: "convert", postedAt: NOW - 600_000 }));
  expect((await stats(`range: LAST_24H, filter: { chatId: "convert" }`)).totals).toEqual({ referrals: 1, uniqueChats: 1, conversions: 1 });
});

test("when a chat's platform becomes known, its earlier referrals move to that platform", async () => {
  // Postproxy may name the chat by id only; a later event brings the whole chat.
  await deliver(referralEvent({ chat: "later", ref: "bio", receivedAt: NOW - 7_200_000 }));
  expect((await stats(`groupBy: [PLATFORM], range: LAST_24H, filter: { chatId: "later" }`)).rows).toEqual([{ key: { platform: null }, metrics: { referrals: 1 } }]);
  await deliver(referralEvent({ chat: { id: "later", platform: "facebook" }, ref: "qr", receivedAt: NOW - 3_600_000 }));
  expect((await stats(`groupBy: [PLATFORM], range: LAST_24H, filter: { chatId: "later" }`)).rows).toEqual([{ key: { platform: "facebook" }, metrics: { referrals: 2 } }]);
});

test("referrals another process writes after the copy was read count in the next answer", async () => {
  const before = (await stats("range: ALL")).totals.referrals;
  const run = await runCli(server.database, "seed", "--referrals", "300", "--chats", "80", "--refs", "12", "--days", "30", "--end", "2026-11-01T00:00:00Z");
  expect(run.code).toBe(0);
  const [stored] = await server.store.reader.query(
    `SELECT COUNT(*) AS referrals, COUNT(DISTINCT chat_id) AS chats,
       SUM(CASE WHEN last_touch_reply_at < received_at + 86400000 THEN 1 ELSE 0 END) AS conversions FROM referral`,
  );
  expect(Number(stored.referrals)).toBe(before + 300);
  expect((await stats("range: ALL")).totals).toEqual({ referrals: before + 300, uniqueChats: Number(stored.chats), conversions: Number(stored.conversions) });
});
