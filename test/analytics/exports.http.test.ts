import { parse } from "csv-parse/sync";
import { ApiKeyService } from "../../src/auth/api-key.service";
import { REFERRAL_COLUMNS } from "../../src/analytics/exports.service";
import { iso, messageEvent, referralEvent } from "../helpers/events";
import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

const T = Date.parse("2026-10-01T00:00:00Z");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const HEADER = "id,received_at,chat_id,platform,ref,campaign,channel,variant,tags,source,type,ad_id,is_new_chat,converted,seconds_to_first_message";
// Free text from the webhook, so it can hold what CSV must quote: a comma, a quote, CRLF, and a lone CR and LF.
const AD_ID = 'ad "7", set 2\r\nline two\rthree\nfour';

async function download(server: TestServer, query = "", key: string | null = ADMIN_KEY, file = "referrals.csv") {
  const response = await fetch(`${server.url}/exports/${file}${query}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The file's rows below its header, each as { column: value }. */
async function rows(server: TestServer, query = ""): Promise<Record<string, string>[]> {
  const { status, text } = await download(server, query);
  expect(status).toBe(200);
  return parse(text, { columns: true });
}

async function deliverAll(server: TestServer, events: object[]) {
  for (const event of events) expect((await server.deliver(event)).body.status).toBe("PROCESSED");
}

describe("GET /exports/referrals.csv", () => {
  let server: TestServer;
  let ids: Record<string, string>;
  beforeAll(async () => {
    server = await startServer();
    // Delivered out of time order, so ids do not follow receivedAt.
    await deliverAll(server, [
      referralEvent({ chat: { id: "ch_b", platform: "facebook" }, ref: "c=winter--promo=x", receivedAt: T + 2 * HOUR, source: "ADS", extra: { ad_id: AD_ID } }),
      referralEvent({ chat: { id: "ch_a", platform: "instagram" }, ref: "summer_promo", receivedAt: T + HOUR }),
      referralEvent({ chat: { id: "ch_a", platform: "instagram" }, ref: "c=summer--ch=bio--v=a", receivedAt: T + 10 * MINUTE }),
      messageEvent({ chatId: "ch_a", postedAt: T + 10 * MINUTE + 90_500 }),
      // Exactly 24 h after ch_b's referral: outside the half-open window.
      messageEvent({ chatId: "ch_b", postedAt: T + 26 * HOUR }),
      messageEvent({ chatId: "ch_c", postedAt: T - MINUTE }),
      referralEvent({ chat: { id: "ch_c", platform: "instagram" }, ref: "c=summer--ch=qr", receivedAt: T }),
      messageEvent({ chatId: "ch_c", postedAt: T + 5_000 }),
    ]);
    const stored: { id: number; ref: string }[] = await server.store.reader.query("SELECT id, ref FROM referral");
    ids = Object.fromEntries(stored.map((r) => [r.ref, String(r.id)]));
  });
  afterAll(() => server.close());

  test("answers a CSV attachment: header row, CRLF line ends, quoted fields that come back intact", async () => {
    const { status, headers, text } = await download(server);
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(headers.get("content-disposition")).toBe('attachment; filename="referrals.csv"');
    expect(text.startsWith(HEADER + "\r\n")).toBe(true);
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text).toContain('"ad ""7"", set 2\r\nline two\rthree\nfour"');
    expect(text).toContain('"[{""key"":""promo"",""value"":""x""}]"');
    expect(HEADER.split(",")).toEqual(REFERRAL_COLUMNS);
  });

  test("each referral is one row, oldest first, with its parts and LAST_TOUCH conversion in 24 h", async () => {
    expect(await rows(server)).toEqual([
      {
        id: ids["c=summer--ch=qr"], received_at: iso(T), chat_id: "ch_c", platform: "instagram", ref: "c=summer--ch=qr",
        campaign: "summer", channel: "qr", variant: "", tags: "", source: "SHORTLINKS", type: "OPEN_THREAD", ad_id: "",
        is_new_chat: "false", converted: "true", seconds_to_first_message: "5",
      },
      {
        id: ids["c=summer--ch=bio--v=a"], received_at: iso(T + 10 * MINUTE), chat_id: "ch_a", platform: "instagram", ref: "c=summer--ch=bio--v=a",
        campaign: "summer", channel: "bio", variant: "a", tags: "", source: "SHORTLINKS", type: "OPEN_THREAD", ad_id: "",
        is_new_chat: "true", converted: "true", seconds_to_first_message: "90.5",
      },
      {
        id: ids["summer_promo"], received_at: iso(T + HOUR), chat_id: "ch_a", platform: "instagram", ref: "summer_promo",
        campaign: "summer_promo", channel: "", variant: "", tags: "", source: "SHORTLINKS", type: "OPEN_THREAD", ad_id: "",
        is_new_chat: "false", converted: "false", seconds_to_first_message: "",
      },
      {
        id: ids["c=winter--promo=x"], received_at: iso(T + 2 * HOUR), chat_id: "ch_b", platform: "facebook", ref: "c=winter--promo=x",
        campaign: "winter", channel: "", variant: "", tags: '[{"key":"promo","value":"x"}]', source: "ADS", type: "OPEN_THREAD", ad_id: AD_ID,
        is_new_chat: "true", converted: "false", seconds_to_first_message: "",
      },
    ]);
  });

  test.each([
    ["from is inclusive", `?from=${iso(T + HOUR)}`, ["summer_promo", "c=winter--promo=x"]],
    ["to is exclusive", `?to=${iso(T + HOUR)}`, ["c=summer--ch=qr", "c=summer--ch=bio--v=a"]],
    ["from and to together", `?from=${iso(T + MINUTE)}&to=${iso(T + 2 * HOUR)}`, ["c=summer--ch=bio--v=a", "summer_promo"]],
    ["a time with an offset", `?from=${encodeURIComponent("2026-10-01T02:10:00+02:00")}`, ["c=summer--ch=bio--v=a", "summer_promo", "c=winter--promo=x"]],
    ["ref", "?ref=summer_promo", ["summer_promo"]],
    ["campaign", "?campaign=summer", ["c=summer--ch=qr", "c=summer--ch=bio--v=a"]],
    ["campaign and to", `?campaign=summer&to=${iso(T + MINUTE)}`, ["c=summer--ch=qr"]],
    ["a ref that matches nothing", "?ref=nothing", []],
  ])("filters: %s", async (_name, query, refs) => {
    expect((await rows(server, query)).map((row) => row.ref)).toEqual(refs);
  });

  test("a filter that matches nothing still answers the header row", async () => {
    expect((await download(server, "?ref=nothing")).text).toBe(HEADER + "\r\n");
  });

  test.each([
    ["an unparseable from", "?from=yesterday", "from"],
    ["a date without a time", "?to=2026-10-01", "to"],
    ["an impossible date", "?from=2026-02-30T00:00:00Z", "from"],
    ["from equal to to", `?from=${iso(T)}&to=${iso(T)}`, "from"],
    ["from after to", `?from=${iso(T + HOUR)}&to=${iso(T)}`, "from"],
    ["an unknown parameter", "?limit=10", "limit"],
    ["a parameter given twice", "?ref=a&ref=b", "ref"],
  ])("%s is refused with 400 BAD_USER_INPUT naming the parameter", async (_name, query, parameter) => {
    const { status, headers, text } = await download(server, query);
    expect(status).toBe(400);
    expect(headers.get("content-type")).toMatch(/^application\/json/);
    const body = JSON.parse(text);
    expect(body.code).toBe("BAD_USER_INPUT");
    expect(body.error).toMatch(new RegExp(`^Parameter '${parameter}' `));
  });

  test("without a key, or with an unknown one, it is refused with 401 UNAUTHENTICATED before parameters are read", async () => {
    for (const [query, key] of [["", null], ["?from=yesterday", null], ["", "rg_not-a-real-key"]]) {
      const { status, text } = await download(server, query as string, key);
      expect(status).toBe(401);
      expect(JSON.parse(text)).toEqual({ error: "Send a valid API key as 'Authorization: Bearer <key>'.", code: "UNAUTHENTICATED" });
    }
  });

  test("an issued key of scope read may download", async () => {
    const key = await new ApiKeyService(server.store.writer, server.store.reader, undefined).create("bi", "read", new Date());
    const { status, text } = await download(server, "?ref=summer_promo", key);
    expect(status).toBe(200);
    expect(parse(text, { columns: true })).toHaveLength(1);
  });
});

describe("GET /exports/campaign-stats.csv", () => {
  const STATS_HEADER =
    "ref,campaign,channel,variant,source,platform,type,bucket,referrals,unique_chats,new_chats,returning_chats,conversions," +
    "conversion_rate,silent_referrals,median_seconds_to_first_message,p90_seconds_to_first_message,greetings_sent,greeting_replies";
  const DAY = 24 * HOUR;
  let server: TestServer;
  const stats = async (query: string) => {
    const { status, text } = await download(server, query, ADMIN_KEY, "campaign-stats.csv");
    expect(status).toBe(200);
    expect(text.startsWith(STATS_HEADER + "\r\n")).toBe(true);
    return parse(text, { columns: true }) as Record<string, string>[];
  };
  beforeAll(async () => {
    server = await startServer();
    await deliverAll(server, [
      referralEvent({ chat: { id: "ch_a", platform: "instagram" }, ref: "c=summer--ch=bio--v=a", receivedAt: T }),
      messageEvent({ chatId: "ch_a", postedAt: T + 30_000 }),
      referralEvent({ chat: { id: "ch_b", platform: "instagram" }, ref: "c=summer--ch=bio--v=b", receivedAt: T + HOUR }),
      referralEvent({ chat: { id: "ch_c", platform: "facebook" }, ref: "c=summer--ch=qr", receivedAt: T + DAY + HOUR }),
      messageEvent({ chatId: "ch_c", postedAt: T + DAY + 2 * HOUR }),
      referralEvent({ chat: { id: "ch_a", platform: "instagram" }, ref: "c=winter--ch=bio", receivedAt: T + 2 * DAY }),
    ]);
  });
  afterAll(() => server.close());

  test("the default (groupBy REF) gives one row per ref, key fields not grouped by left empty", async () => {
    const rows = await stats(`?from=${iso(T)}&to=${iso(T + 3 * DAY)}`);
    expect(rows.map((row) => row.ref)).toEqual(["c=summer--ch=bio--v=a", "c=summer--ch=bio--v=b", "c=summer--ch=qr", "c=winter--ch=bio"]);
    expect(rows[0]).toEqual({
      ref: "c=summer--ch=bio--v=a", campaign: "", channel: "", variant: "", source: "", platform: "", type: "", bucket: "",
      referrals: "1", unique_chats: "1", new_chats: "1", returning_chats: "0", conversions: "1", conversion_rate: "1",
      silent_referrals: "0", median_seconds_to_first_message: "30", p90_seconds_to_first_message: "30", greetings_sent: "0", greeting_replies: "0",
    });
  });

  test("takes every campaignStats argument, and answers the rows GraphQL answers", async () => {
    const query =
      `?groupBy=CAMPAIGN,CHANNEL&interval=DAY&timezone=Europe/Berlin&from=${iso(T)}&to=${iso(T + 2 * DAY)}` +
      "&attribution=ALL_TOUCH&conversionWindowHours=48&filter.platform=instagram&orderBy.field=KEY&orderBy.direction=ASC&first=5";
    const rows = await stats(query);
    // Instagram only (ch_c is facebook), winter is after `to`: summer/bio over three Berlin days, empty ones included.
    expect(rows.map((row) => [row.campaign, row.channel, row.bucket, row.referrals, row.conversions])).toEqual([
      ["summer", "bio", "2026-09-30T22:00:00.000Z", "2", "1"],
      ["summer", "bio", "2026-10-01T22:00:00.000Z", "0", "0"],
      ["summer", "bio", "2026-10-02T22:00:00.000Z", "0", "0"],
    ]);
    const { body } = await server.graphql(`{ campaignStats(groupBy: [CAMPAIGN, CHANNEL], interval: DAY, timezone: "Europe/Berlin",
      from: "${iso(T)}", to: "${iso(T + 2 * DAY)}", attribution: ALL_TOUCH, conversionWindowHours: 48, filter: { platform: "instagram" },
      orderBy: { field: KEY, direction: ASC }, first: 5) { rows { key { campaign channel bucket } metrics { referrals conversions silentReferrals } } } }`);
    expect(rows.map((row) => [row.campaign, row.channel, row.bucket, row.referrals, row.conversions, row.silent_referrals])).toEqual(
      body.data.campaignStats.rows.map(({ key, metrics }: any) => [key.campaign, key.channel, key.bucket, ...[metrics.referrals, metrics.conversions, metrics.silentReferrals].map(String)]),
    );
  });

  test("groupBy empty gives the totals as one row", async () => {
    expect(await stats(`?groupBy=&range=ALL`)).toMatchObject([{ ref: "", campaign: "", referrals: "4", unique_chats: "3", conversions: "2" }]);
  });

  test.each([
    ["an unknown enum value", "?range=LAST_YEAR", "range"],
    ["an unknown dimension", "?groupBy=REF,COLOUR&range=ALL", "groupBy"],
    ["first over 1000", "?range=ALL&first=5000", "first"],
    ["first that is not a number", "?range=ALL&first=ten", "first"],
    ["a window out of bounds", "?range=ALL&conversionWindowHours=0", "conversionWindowHours"],
    ["an unknown timezone", "?range=ALL&timezone=Mars/Olympus", "timezone"],
    ["neither range nor from/to", "", "from"],
    ["an unknown parameter", "?range=ALL&limit=10", "limit"],
    ["an unknown filter field", "?range=ALL&filter.colour=red", "filter.colour"],
    ["an input object without a field", "?range=ALL&orderBy=REFERRALS", "orderBy"],
    ["a parameter given twice", "?range=ALL&range=LAST_7D", "range"],
  ])("%s is refused with 400 BAD_USER_INPUT naming it", async (_name, query, parameter) => {
    const { status, text } = await download(server, query, ADMIN_KEY, "campaign-stats.csv");
    expect(status).toBe(400);
    const body = JSON.parse(text);
    expect(body.code).toBe("BAD_USER_INPUT");
    expect(body.error).toContain(parameter);
  });

  test("without a valid key it is refused with 401", async () => {
    expect((await download(server, "?range=ALL", null, "campaign-stats.csv")).status).toBe(401);
  });
});

describe("formula escaping (OWASP CSV injection)", () => {
  // Text a spreadsheet would run as a formula, in every kind of cell a webhook fills: refs (and the parts the
  // grammar takes from them) are typed by whoever crafts a link; chat ids, platforms, sources, types and ad ids
  // come from the same payload.
  const RAW = {
    ref: "=1--ch=-2",
    campaign: "=1",
    channel: "-2",
    platform: "+ig",
    chat_id: "@ch",
    source: "\tSRC",
    ad_id: "\rad",
    type: "\uff0bT",
  };
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    await deliverAll(server, [
      referralEvent({ chat: { id: RAW.chat_id, platform: RAW.platform }, ref: RAW.ref, receivedAt: T, source: RAW.source, extra: { ad_id: RAW.ad_id, type: RAW.type } }),
      messageEvent({ chatId: RAW.chat_id, postedAt: T + 5_000 }),
    ]);
  });
  afterAll(() => server.close());

  test.each([
    ["=", "ref"],
    ["=", "campaign"],
    ["-", "channel"],
    ["+", "platform"],
    ["@", "chat_id"],
    ["a tab", "source"],
    ["a carriage return", "ad_id"],
    ["a full-width +", "type"],
  ] as const)("referrals.csv: a cell beginning with %s (%s) gets a leading '", async (_char, column) => {
    const [row] = await rows(server);
    expect(row[column]).toBe(`'${RAW[column]}`);
    // Numbers and booleans are ours, never altered.
    expect(row).toMatchObject({ is_new_chat: "true", converted: "true", seconds_to_first_message: "5", received_at: iso(T) });
  });

  test("campaign-stats.csv escapes its text cells the same way, and leaves its numbers as they are", async () => {
    const { status, text } = await download(server, "?groupBy=REF,CAMPAIGN,CHANNEL,PLATFORM,SOURCE,TYPE&range=ALL", ADMIN_KEY, "campaign-stats.csv");
    expect(status).toBe(200);
    expect(parse(text, { columns: true })).toMatchObject([
      { ref: "'=1--ch=-2", campaign: "'=1", channel: "'-2", platform: "'+ig", source: "'\tSRC", type: "'\uff0bT", referrals: "1", conversions: "1" },
    ]);
  });

  test("escapeFormulas=false gives machine readers the raw values, in both files", async () => {
    const [row] = parse((await download(server, "?escapeFormulas=false")).text, { columns: true });
    expect(row).toMatchObject(RAW);
    const { text } = await download(server, "?groupBy=REF,CHANNEL&range=ALL&escapeFormulas=false", ADMIN_KEY, "campaign-stats.csv");
    expect(parse(text, { columns: true })).toMatchObject([{ ref: RAW.ref, channel: RAW.channel, referrals: "1" }]);
    expect((await rows(server, "?escapeFormulas=true"))[0].ref).toBe(`'${RAW.ref}`);
  });

  test.each([
    ["referrals.csv", "?escapeFormulas=no", "must be true or false"],
    ["referrals.csv", "?escapeFormulas=false&escapeFormulas=true", "is given more than once"],
    ["campaign-stats.csv", "?range=ALL&escapeFormulas=0", "must be true or false"],
    ["campaign-stats.csv", "?range=ALL&escapeFormulas=", "must be true or false"],
  ])("%s%s is refused with 400 BAD_USER_INPUT naming escapeFormulas", async (file, query, problem) => {
    const { status, text } = await download(server, query, ADMIN_KEY, file);
    expect(status).toBe(400);
    expect(JSON.parse(text)).toEqual({ error: `Parameter 'escapeFormulas' ${problem}.`, code: "BAD_USER_INPUT" });
  });
});

describe("with more referrals than one chunk", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    // 2,500 referrals over 7 instants, so chunks of 1,000 end inside runs of equal times.
    const events = Array.from({ length: 2500 }, (_, i) => referralEvent({ chat: `bulk_${i}`, ref: "bulk", receivedAt: T + (i % 7) * 1000 }));
    for (let i = 0; i < events.length; i += 100)
      await Promise.all(events.slice(i, i + 100).map(async (event) => expect((await server.deliver(event)).status).toBe(200)));
  });
  afterAll(() => server.close());

  test("every referral comes back exactly once, ordered by time then id", async () => {
    const exported = (await rows(server)).map((row) => ({ at: Date.parse(row.received_at), id: Number(row.id) }));
    const stored: { id: number; received_at: string | number }[] = await server.store.reader.query("SELECT id, received_at FROM referral");
    const expected = stored.map((r) => ({ at: Number(r.received_at), id: Number(r.id) })).sort((a, b) => a.at - b.at || a.id - b.id);
    expect(expected).toHaveLength(2500);
    expect(exported).toEqual(expected);
  });
});

describe("in open mode (REFGRAPH_ADMIN_KEY unset)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ REFGRAPH_ADMIN_KEY: "" });
  });
  afterAll(() => server.close());

  test("a request without an Authorization header may download, one with an unknown key may not", async () => {
    expect(await download(server, "", null)).toMatchObject({ status: 200, text: HEADER + "\r\n" });
    expect((await download(server, "", "rg_not-a-real-key")).status).toBe(401);
  });

  test("a failing query answers 500 INTERNAL_SERVER_ERROR, without the SQL or its error", async () => {
    await server.store.writer.query("DROP VIEW referral_facts");
    const { status, text } = await download(server, "", null);
    expect(status).toBe(500);
    expect(JSON.parse(text)).toEqual({ error: "Internal server error.", code: "INTERNAL_SERVER_ERROR" });
  });
});
