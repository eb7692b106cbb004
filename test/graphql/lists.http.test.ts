import { messageEvent, referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

const NOW = new Date("2026-11-20T12:00:00Z");
const hoursAgo = (h: number) => NOW.getTime() - h * 3600_000;
let server: TestServer;

beforeAll(async () => {
  server = await startServer({}, { now: () => NOW });
  const events = [
    referralEvent({ chat: { id: "ig_1", platform: "instagram" }, ref: "summer--ch=bio", receivedAt: hoursAgo(2) }),
    referralEvent({ chat: { id: "ig_1", platform: "instagram" }, ref: "winter", receivedAt: hoursAgo(30) }),
    referralEvent({ chat: { id: "ig_2", platform: "instagram" }, ref: "summer--ch=qr", receivedAt: hoursAgo(50), source: "ADS" }),
    referralEvent({ chat: { id: "fb_1", platform: "facebook" }, ref: "summer--ch=bio", receivedAt: hoursAgo(100), source: "SHORTLINK" }),
    messageEvent({ chatId: "fb_1", postedAt: hoursAgo(1) }),
    messageEvent({ chatId: "fb_quiet", postedAt: hoursAgo(72) }),
  ];
  for (const event of events) expect((await server.deliver(event)).status).toBe(200);
});
afterAll(() => server.close());

const ids = (connection: any) => connection.edges.map((e: any) => e.node.id);
const query = async (q: string, variables?: Record<string, unknown>) => {
  const { body } = await server.graphql(q, variables);
  return body;
};

describe("chats", () => {
  test("are listed newest activity first, a referral or an inbound message alike", async () => {
    const body = await query(`{ chats { totalCount edges { node { id } } } }`);
    expect(ids(body.data.chats)).toEqual(["fb_1", "ig_1", "ig_2", "fb_quiet"]);
    expect(body.data.chats.totalCount).toBe(4);
  });

  test.each([
    [{ platform: "instagram" }, ["ig_1", "ig_2"]],
    [{ ref: "winter" }, ["ig_1"]],
    [{ ref: "summer--ch=bio" }, ["fb_1", "ig_1"]],
    [{ hasReferral: false }, ["fb_quiet"]],
    [{ hasReferral: true }, ["fb_1", "ig_1", "ig_2"]],
    [{ windowOpen: true }, ["fb_1", "ig_1"]],
    [{ windowOpen: false }, ["ig_2", "fb_quiet"]],
    [{ referredFrom: new Date(hoursAgo(60)).toISOString() }, ["ig_1", "ig_2"]],
    [{ referredTo: new Date(hoursAgo(40)).toISOString() }, ["fb_1", "ig_2"]],
    [{ ref: "summer--ch=bio", referredFrom: new Date(hoursAgo(10)).toISOString() }, ["ig_1"]],
  ])("filter %j selects %j", async (filter, expected) => {
    const body = await query(`query($filter: ChatFilter) { chats(filter: $filter) { totalCount edges { node { id } } } }`, { filter });
    expect(ids(body.data.chats)).toEqual(expected);
    expect(body.data.chats.totalCount).toBe(expected.length);
  });

  test("the messaging window opens with the later of the last referral and the last inbound message", async () => {
    const body = await query(`{ ig_1: chat(id: "ig_1") { messagingWindow { isOpen expiresAt openedBy } }
      fb_1: chat(id: "fb_1") { messagingWindow { isOpen expiresAt openedBy } }
      ig_2: chat(id: "ig_2") { messagingWindow { isOpen expiresAt openedBy } } }`);
    expect(body.data.ig_1.messagingWindow).toEqual({ isOpen: true, expiresAt: new Date(hoursAgo(2 - 24)).toISOString(), openedBy: "REFERRAL" });
    expect(body.data.fb_1.messagingWindow).toEqual({ isOpen: true, expiresAt: new Date(hoursAgo(1 - 24)).toISOString(), openedBy: "INBOUND_MESSAGE" });
    expect(body.data.ig_2.messagingWindow).toEqual({ isOpen: false, expiresAt: new Date(hoursAgo(50 - 24)).toISOString(), openedBy: "REFERRAL" });
  });

  test("first and latest referral come from the full history; an unknown chat is null", async () => {
    const body = await query(`{ chat(id: "ig_1") { firstReferral { ref isNewChat } latestReferral { ref isNewChat } } missing: chat(id: "nope") { id } }`);
    expect(body.data.chat).toEqual({ firstReferral: { ref: "winter", isNewChat: true }, latestReferral: { ref: "summer--ch=bio", isNewChat: false } });
    expect(body.data.missing).toBeNull();
  });

  test("a referral after the chat's first inbound message is not a new chat", async () => {
    await server.deliver(messageEvent({ chatId: "late_ref", postedAt: hoursAgo(5) }));
    await server.deliver(referralEvent({ chat: "late_ref", ref: "after_message", receivedAt: hoursAgo(4) }));
    const body = await query(`{ chat(id: "late_ref") { firstReferral { ref isNewChat } } }`);
    expect(body.data.chat.firstReferral).toEqual({ ref: "after_message", isNewChat: false });
  });
});

describe("referrals", () => {
  test.each([
    [{}, ["summer--ch=bio", "winter", "summer--ch=qr", "summer--ch=bio"]],
    [{ ref: "winter" }, ["winter"]],
    [{ refPrefix: "summer" }, ["summer--ch=bio", "summer--ch=qr", "summer--ch=bio"]],
    [{ refPrefix: "Summer" }, []],
    [{ source: "ADS" }, ["summer--ch=qr"]],
    [{ platform: "facebook" }, ["summer--ch=bio"]],
    [{ chatId: "ig_1" }, ["summer--ch=bio", "winter"]],
    [{ from: new Date(hoursAgo(50)).toISOString(), to: new Date(hoursAgo(2)).toISOString() }, ["winter", "summer--ch=qr"]],
  ])("filter %j selects %j, newest receivedAt first", async (filter, expected) => {
    const body = await query(
      `query($filter: ReferralFilter) { referrals(filter: $filter, first: 100) { totalCount edges { node { ref } } } }`,
      { filter: { ...filter, chatId: (filter as any).chatId } },
    );
    const refs = body.data.referrals.edges.map((e: any) => e.node.ref).filter((ref: string) => ref !== "after_message");
    expect(refs).toEqual(expected);
  });

  test("each referral knows its chat and platform", async () => {
    const body = await query(`{ referrals(filter: { source: "ADS" }) { edges { node { platform chat { id } } } } }`);
    expect(body.data.referrals.edges[0].node).toEqual({ platform: "instagram", chat: { id: "ig_2" } });
  });

  test("from must be before to", async () => {
    const body = await query(`{ referrals(filter: { from: "2026-11-02T00:00:00Z", to: "2026-11-01T00:00:00Z" }) { totalCount } }`);
    expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(body.errors[0].message).toMatch(/filter.from/);
  });
});

describe("webhookEvents", () => {
  test("lists the inbox newest first with status and type filters", async () => {
    const all = await query(`{ webhookEvents(first: 100) { totalCount edges { node { id type status receivedAt deliveryId duplicates error } } } }`);
    expect(all.data.webhookEvents.totalCount).toBeGreaterThanOrEqual(6);
    const times = all.data.webhookEvents.edges.map((e: any) => e.node.receivedAt);
    expect([...times].sort().reverse()).toEqual(times);
    const messages = await query(`{ webhookEvents(filter: { type: "message.received", status: PROCESSED }) { totalCount } }`);
    expect(messages.data.webhookEvents.totalCount).toBe(3);
  });
});
