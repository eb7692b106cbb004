import { messageEvent, referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

const T0 = Date.parse("2026-09-01T12:00:00Z");
const minutesLater = (m: number) => T0 + m * 60_000;

const LIST = `query($filter: ReferralFilter) {
  referrals(filter: $filter, first: 100) { totalCount edges { node { ref parsed { campaign channel variant tags { key value } } } } }
}`;

/** Delivers one referral per ref, each in its own chat, a minute apart in list order. */
async function deliverAll(server: TestServer, refs: string[]) {
  for (const [i, ref] of refs.entries()) {
    const { status } = await server.deliver(referralEvent({ chat: `chat_${i}`, ref, receivedAt: minutesLater(i) }));
    expect(status).toBe(200);
  }
}

/** Each listed referral's ref and parts, newest first. */
async function listed(server: TestServer, filter?: Record<string, unknown>) {
  const { body } = await server.graphql(LIST, { filter });
  expect(body.errors).toBeUndefined();
  const refs = body.data.referrals.edges.map((edge: any) => edge.node);
  expect(body.data.referrals.totalCount).toBe(refs.length);
  return refs as { ref: string; parsed: unknown }[];
}

const parsedOf = async (server: TestServer, ref: string) => (await listed(server, { ref }))[0]?.parsed;
const refsOf = async (server: TestServer, filter: Record<string, unknown>) => (await listed(server, filter)).map((node) => node.ref);

describe("under the default key=value grammar", () => {
  let server: TestServer;
  const REFS = ["c=summer--ch=bio--v=b", "summer_promo", "summer--ch=qr", "c=winter--ch=bio--v=a--city=berlin", "c=summer--ch=bio--v=a", "c=summer--qr"];
  beforeAll(async () => {
    server = await startServer();
    await deliverAll(server, REFS);
  });
  afterAll(() => server.close());

  test("each delivered referral comes back with its ref's parts", async () => {
    const byRef = Object.fromEntries((await listed(server)).map((node) => [node.ref, node.parsed]));
    expect(byRef).toEqual({
      "c=summer--ch=bio--v=b": { campaign: "summer", channel: "bio", variant: "b", tags: [] },
      summer_promo: { campaign: "summer_promo", channel: null, variant: null, tags: [] },
      "summer--ch=qr": { campaign: "summer", channel: "qr", variant: null, tags: [] },
      "c=winter--ch=bio--v=a--city=berlin": { campaign: "winter", channel: "bio", variant: "a", tags: [{ key: "city", value: "berlin" }] },
      "c=summer--ch=bio--v=a": { campaign: "summer", channel: "bio", variant: "a", tags: [] },
      "c=summer--qr": { campaign: "summer", channel: null, variant: null, tags: [{ key: "segment", value: "qr" }] },
    });
  });

  test.each([
    [{ campaign: "summer" }, ["c=summer--qr", "c=summer--ch=bio--v=a", "summer--ch=qr", "c=summer--ch=bio--v=b"]],
    [{ campaign: "summer_promo" }, ["summer_promo"]],
    [{ campaign: "c=summer" }, []],
    [{ campaign: "Summer" }, []],
    [{ channel: "bio" }, ["c=summer--ch=bio--v=a", "c=winter--ch=bio--v=a--city=berlin", "c=summer--ch=bio--v=b"]],
    [{ channel: "qr" }, ["summer--ch=qr"]],
    [{ variant: "a" }, ["c=summer--ch=bio--v=a", "c=winter--ch=bio--v=a--city=berlin"]],
    [{ campaign: "summer", channel: "bio" }, ["c=summer--ch=bio--v=a", "c=summer--ch=bio--v=b"]],
    [{ campaign: "summer", channel: "bio", variant: "b" }, ["c=summer--ch=bio--v=b"]],
    [{ campaign: "winter", variant: "b" }, []],
  ])("the filter %j returns exactly %j", async (filter, expected) => {
    expect(await refsOf(server, filter)).toEqual(expected);
  });

  test("a referral keeps its parts when later deliveries rewrite its chat's history", async () => {
    const chat = "chat_later";
    const deliveries = [
      referralEvent({ chat, ref: "c=autumn--ch=story--v=a", receivedAt: minutesLater(60) }),
      messageEvent({ chatId: chat, postedAt: minutesLater(61) }),
      referralEvent({ chat, ref: "c=autumn--ch=story--v=b", receivedAt: minutesLater(62) }),
      // The same referral again, under a new event id.
      referralEvent({ chat, ref: "c=autumn--ch=story--v=a", receivedAt: minutesLater(60) }),
    ];
    for (const event of deliveries) expect((await server.deliver(event)).status).toBe(200);
    expect(await parsedOf(server, "c=autumn--ch=story--v=a")).toEqual({ campaign: "autumn", channel: "story", variant: "a", tags: [] });
    expect(await refsOf(server, { campaign: "autumn", channel: "story" })).toEqual(["c=autumn--ch=story--v=b", "c=autumn--ch=story--v=a"]);
  });
});

describe("under REF_GRAMMAR={campaign}--{channel}--{variant}", () => {
  let server: TestServer;
  const REFS = ["summer--qr-berlin--a", "summer_promo", "summer--bio--b", "winter--qr-berlin--a", "c=summer--ch=bio--v=b"];
  beforeAll(async () => {
    server = await startServer({ REF_GRAMMAR: "{campaign}--{channel}--{variant}" });
    await deliverAll(server, REFS);
  });
  afterAll(() => server.close());

  test("each delivered referral comes back with the template's reading, or all campaign when it does not fit", async () => {
    const byRef = Object.fromEntries((await listed(server)).map((node) => [node.ref, node.parsed]));
    expect(byRef).toEqual({
      "summer--qr-berlin--a": { campaign: "summer", channel: "qr-berlin", variant: "a", tags: [] },
      summer_promo: { campaign: "summer_promo", channel: null, variant: null, tags: [] },
      "summer--bio--b": { campaign: "summer", channel: "bio", variant: "b", tags: [] },
      "winter--qr-berlin--a": { campaign: "winter", channel: "qr-berlin", variant: "a", tags: [] },
      "c=summer--ch=bio--v=b": { campaign: "c=summer", channel: "ch=bio", variant: "v=b", tags: [] },
    });
  });

  test.each([
    [{ campaign: "summer" }, ["summer--bio--b", "summer--qr-berlin--a"]],
    [{ channel: "qr-berlin" }, ["winter--qr-berlin--a", "summer--qr-berlin--a"]],
    [{ variant: "a" }, ["winter--qr-berlin--a", "summer--qr-berlin--a"]],
    [{ campaign: "summer", variant: "a" }, ["summer--qr-berlin--a"]],
    [{ channel: "bio" }, ["summer--bio--b"]],
    [{ campaign: "summer_promo" }, ["summer_promo"]],
  ])("the filter %j returns exactly %j", async (filter, expected) => {
    expect(await refsOf(server, filter)).toEqual(expected);
  });
});
