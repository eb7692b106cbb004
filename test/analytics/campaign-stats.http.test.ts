import { messageEvent, referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

const NOW = Date.parse("2026-11-10T12:00:00Z");
const at = (iso: string) => Date.parse(iso);
const BIO = "c=summer--ch=bio--v=a";
const QR = "c=summer--ch=qr";
const PROMO = "summer_promo";

// Chat a wrote before its first referral (returning); b and c start with a referral (new chats).
// a: message 02:00, BIO 07:00, message 08:00 (BIO converts after 1 h), QR 09:00 (silent).
// b: BIO 10:00, QR 11:00, message 11:30 (LAST_TOUCH credits QR after 30 min; ALL_TOUCH also BIO after 90 min).
// c: PROMO on Nov 8 10:00, message 30 hours later (converts only with a window over 30 hours).
const events = [
  messageEvent({ chatId: "a", postedAt: at("2026-11-10T02:00:00Z") }),
  referralEvent({ chat: { id: "a", platform: "instagram" }, ref: BIO, receivedAt: at("2026-11-10T07:00:00Z") }),
  messageEvent({ chatId: "a", postedAt: at("2026-11-10T08:00:00Z") }),
  referralEvent({ chat: { id: "a", platform: "instagram" }, ref: QR, receivedAt: at("2026-11-10T09:00:00Z") }),
  referralEvent({ chat: { id: "b", platform: "facebook" }, ref: BIO, receivedAt: at("2026-11-10T10:00:00Z"), source: "ADS" }),
  referralEvent({ chat: { id: "b", platform: "facebook" }, ref: QR, receivedAt: at("2026-11-10T11:00:00Z") }),
  messageEvent({ chatId: "b", postedAt: at("2026-11-10T11:30:00Z") }),
  referralEvent({ chat: { id: "c", platform: "instagram" }, ref: PROMO, receivedAt: at("2026-11-08T10:00:00Z") }),
  messageEvent({ chatId: "c", postedAt: at("2026-11-09T16:00:00Z") }),
];

let server: TestServer;
beforeAll(async () => {
  server = await startServer({}, { now: () => new Date(NOW) });
  // Newest first: results must not depend on arrival order.
  for (const event of [...events].reverse()) expect((await server.deliver(event)).body.status).toBe("PROCESSED");
});
afterAll(() => server.close());

const METRICS = `referrals uniqueChats newChats returningChats conversions conversionRate silentReferrals medianSecondsToFirstMessage p90SecondsToFirstMessage`;

async function stats(args: string) {
  const { body } = await server.graphql(`{ campaignStats(${args}) {
    totals { ${METRICS} } rows { key { ref campaign channel variant source platform type bucket } metrics { ${METRICS} } } } }`);
  expect(body.errors).toBeUndefined();
  return body.data.campaignStats;
}

async function errorOf(args: string) {
  const { body } = await server.graphql(`{ campaignStats(${args}) { totals { referrals } } }`);
  expect(body.errors).toHaveLength(1);
  return { code: body.errors[0].extensions.code, message: body.errors[0].message as string };
}

const metrics = (m: Partial<Record<string, number | null>>) => ({
  referrals: 0,
  uniqueChats: 0,
  newChats: 0,
  returningChats: 0,
  conversions: 0,
  conversionRate: null,
  silentReferrals: 0,
  medianSecondsToFirstMessage: null,
  p90SecondsToFirstMessage: null,
  ...m,
});
const noKey = { ref: null, campaign: null, channel: null, variant: null, source: null, platform: null, type: null, bucket: null };

test("LAST_TOUCH by ref: each referral is credited with the message before the chat's next referral", async () => {
  const result = await stats("range: LAST_7D");
  expect(result.totals).toEqual(
    metrics({ referrals: 5, uniqueChats: 3, newChats: 2, returningChats: 1, conversions: 2, conversionRate: 0.4, silentReferrals: 3, medianSecondsToFirstMessage: 2700, p90SecondsToFirstMessage: 3420 }),
  );
  expect(result.rows).toEqual([
    {
      key: { ...noKey, ref: BIO },
      metrics: metrics({ referrals: 2, uniqueChats: 2, newChats: 1, returningChats: 1, conversions: 1, conversionRate: 0.5, silentReferrals: 1, medianSecondsToFirstMessage: 3600, p90SecondsToFirstMessage: 3600 }),
    },
    {
      key: { ...noKey, ref: QR },
      metrics: metrics({ referrals: 2, uniqueChats: 2, returningChats: 2, conversions: 1, conversionRate: 0.5, silentReferrals: 1, medianSecondsToFirstMessage: 1800, p90SecondsToFirstMessage: 1800 }),
    },
    { key: { ...noKey, ref: PROMO }, metrics: metrics({ referrals: 1, uniqueChats: 1, newChats: 1, conversionRate: 0, silentReferrals: 1 }) },
  ]);
});

test("ALL_TOUCH credits an earlier referral too; FIRST_TOUCH counts only each chat's first", async () => {
  const all = await stats("range: LAST_7D, attribution: ALL_TOUCH");
  expect(all.rows.map((r: any) => [r.key.ref, r.metrics.conversions, r.metrics.medianSecondsToFirstMessage, r.metrics.p90SecondsToFirstMessage])).toEqual([
    [BIO, 2, 4500, 5220],
    [QR, 1, 1800, 1800],
    [PROMO, 0, null, null],
  ]);
  expect(all.totals.conversions).toBe(3);

  const first = await stats("range: LAST_7D, attribution: FIRST_TOUCH");
  expect(first.totals).toEqual(
    metrics({ referrals: 3, uniqueChats: 3, newChats: 2, returningChats: 1, conversions: 2, conversionRate: 2 / 3, silentReferrals: 1, medianSecondsToFirstMessage: 4500, p90SecondsToFirstMessage: 5220 }),
  );
  expect(first.rows.map((r: any) => r.key.ref)).toEqual([BIO, PROMO]);
});

test("the conversion window is an argument", async () => {
  const wide = await stats("range: LAST_7D, conversionWindowHours: 48, groupBy: [CAMPAIGN]");
  expect(wide.rows.map((r: any) => [r.key.campaign, r.metrics.conversions, r.metrics.medianSecondsToFirstMessage])).toEqual([
    ["summer", 2, 2700],
    [PROMO, 1, 30 * 3600],
  ]);
  const narrow = await stats("range: LAST_7D, conversionWindowHours: 1, groupBy: []");
  // Exactly one hour is outside a one-hour window (half-open): only b's 30-minute reply converts.
  expect(narrow.rows).toEqual([{ key: noKey, metrics: narrow.totals }]);
  expect(narrow.totals.conversions).toBe(1);
});

test("groups by several dimensions; unused key fields are null; filters narrow", async () => {
  const result = await stats(`range: ALL, groupBy: [CAMPAIGN, PLATFORM], orderBy: { field: KEY, direction: ASC }`);
  expect(result.rows.map((r: any) => [r.key, r.metrics.referrals])).toEqual([
    [{ ...noKey, campaign: "summer", platform: "facebook" }, 2],
    [{ ...noKey, campaign: "summer", platform: "instagram" }, 2],
    [{ ...noKey, campaign: PROMO, platform: "instagram" }, 1],
  ]);
  const channels = await stats(`range: ALL, groupBy: [CHANNEL, VARIANT, SOURCE, TYPE], orderBy: { field: KEY }`);
  expect(channels.rows.map((r: any) => [r.key.channel, r.key.variant, r.key.source, r.key.type, r.metrics.referrals])).toEqual([
    ["qr", null, "SHORTLINKS", "OPEN_THREAD", 2],
    ["bio", "a", "SHORTLINKS", "OPEN_THREAD", 1],
    ["bio", "a", "ADS", "OPEN_THREAD", 1],
    [null, null, "SHORTLINKS", "OPEN_THREAD", 1],
  ]);
  const filtered = await stats(`range: ALL, filter: { platform: "instagram", channel: "bio" }`);
  expect(filtered.rows.map((r: any) => [r.key.ref, r.metrics.referrals])).toEqual([[BIO, 1]]);
  expect(filtered.totals.referrals).toBe(1);
});

test("orderBy a metric, nulls last, and first picks the top groups while totals cover all", async () => {
  const bySpeed = await stats(`range: LAST_7D, orderBy: { field: MEDIAN_SECONDS_TO_FIRST_MESSAGE, direction: ASC }`);
  expect(bySpeed.rows.map((r: any) => r.key.ref)).toEqual([QR, BIO, PROMO]);
  const top = await stats(`range: LAST_7D, orderBy: { field: SILENT_REFERRALS }, first: 1`);
  expect(top.rows.map((r: any) => r.key.ref)).toEqual([BIO]);
  expect(top.totals.referrals).toBe(5);
});

test("with an interval, every bucket of the range appears, empty ones as zeros, in the requested time zone", async () => {
  // Nov 8, 9 and 10 in Berlin (UTC+1).
  const range = `from: "2026-11-07T23:00:00.000Z", to: "2026-11-10T23:00:00.000Z", timezone: "Europe/Berlin", interval: DAY`;
  const days = ["2026-11-07T23:00:00.000Z", "2026-11-08T23:00:00.000Z", "2026-11-09T23:00:00.000Z"];
  const overall = await stats(`${range}, groupBy: []`);
  expect(overall.rows.map((r: any) => [r.key.bucket, r.metrics.referrals])).toEqual([
    [days[0], 1],
    [days[1], 0],
    [days[2], 4],
  ]);
  expect(overall.rows[1].metrics).toEqual(metrics({}));

  const top = await stats(`${range}, first: 2`);
  expect(top.rows.map((r: any) => [r.key.ref, r.key.bucket, r.metrics.referrals])).toEqual([
    [BIO, days[0], 0],
    [BIO, days[1], 0],
    [BIO, days[2], 2],
    [QR, days[0], 0],
    [QR, days[1], 0],
    [QR, days[2], 2],
  ]);
  const hours = await stats(`range: LAST_24H, interval: HOUR, groupBy: []`);
  expect(hours.rows).toHaveLength(24);
  expect(hours.rows.reduce((sum: number, r: any) => sum + r.metrics.referrals, 0)).toBe(4);
});

test("campaign(ref) gives a ref's metrics, parts and daily series", async () => {
  const { body } = await server.graphql(`{ campaign(ref: "${BIO}", range: LAST_7D) {
    ref parsed { campaign channel variant } metrics { referrals conversions } daily { start metrics { referrals } } } }`);
  expect(body.errors).toBeUndefined();
  const { ref, parsed, metrics: total, daily } = body.data.campaign;
  expect([ref, parsed, total]).toEqual([BIO, { campaign: "summer", channel: "bio", variant: "a" }, { referrals: 2, conversions: 1 }]);
  // Seven days back from noon: eight UTC days, the first and last partly.
  expect(daily.map((d: any) => d.start)).toEqual(Array.from({ length: 8 }, (_, i) => new Date(Date.UTC(2026, 10, 3 + i)).toISOString()));
  expect(daily.map((d: any) => d.metrics.referrals)).toEqual([0, 0, 0, 0, 0, 0, 0, 2]);
});

test.each([
  [`range: LAST_7D, timezone: "Mars/Olympus"`, "timezone"],
  [`from: "2026-11-10T00:00:00Z", to: "2026-11-10T00:00:00Z"`, "from"],
  [`range: ALL, from: "2026-11-01T00:00:00Z", to: "2026-11-10T00:00:00Z"`, "range"],
  [`groupBy: [REF]`, "from"],
  [`from: "2026-11-01T00:00:00Z"`, "to"],
  [`from: "2025-01-01T00:00:00Z", to: "2026-11-10T00:00:00Z", interval: HOUR`, "interval"],
  [`range: ALL, first: 1001`, "first"],
  [`range: ALL, first: 0`, "first"],
  [`range: ALL, conversionWindowHours: 0`, "conversionWindowHours"],
  [`range: ALL, conversionWindowHours: 169`, "conversionWindowHours"],
  [`range: ALL, groupBy: [REF, REF]`, "groupBy"],
  [`range: ALL, filter: { from: "2026-11-01T00:00:00Z" }`, "filter.from"],
  [`range: LAST_90D, interval: HOUR, first: 1000`, "first"],
])("%s → BAD_USER_INPUT naming %s", async (args, argument) => {
  const error = await errorOf(args);
  expect(error.code).toBe("BAD_USER_INPUT");
  expect(error.message).toContain(`'${argument}'`);
});
