import fc from "fast-check";
import { attribute, Attribution, percentile } from "../../src/analytics/attribution";
import { referralTimelines } from "../../src/referrals/referral-timeline";
import { bucketStart, Interval } from "../../src/analytics/buckets";
import { parseKeyValueRef } from "../../src/referrals/ref-grammar";
import { Step, step, stepEvent } from "../helpers/histories";
import { startServer, TestServer } from "../helpers/server";

// campaignStats, answered from the columns ingestion keeps, must equal the definitions applied to the raw events,
// whatever order the webhooks arrived in. Each run has its own chats and its own three days, queried by from/to.
const BASE = Date.parse("2026-03-25T00:00:00Z");
const DAY = 86_400_000;
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const DIMENSIONS = { REF: "ref", CAMPAIGN: "campaign", CHANNEL: "channel", VARIANT: "variant" } as const;
type Dimension = keyof typeof DIMENSIONS;

const ORDER_METRICS = {
  REFERRALS: "referrals",
  UNIQUE_CHATS: "uniqueChats",
  NEW_CHATS: "newChats",
  RETURNING_CHATS: "returningChats",
  CONVERSIONS: "conversions",
  CONVERSION_RATE: "conversionRate",
  SILENT_REFERRALS: "silentReferrals",
  MEDIAN_SECONDS_TO_FIRST_MESSAGE: "medianSecondsToFirstMessage",
  P90_SECONDS_TO_FIRST_MESSAGE: "p90SecondsToFirstMessage",
} as const;
type OrderField = keyof typeof ORDER_METRICS | "KEY";

interface Query {
  attribution: Attribution;
  windowHours: number;
  groupBy: Dimension[];
  interval: Interval | null;
  timeZone: string;
  orderBy: { field: OrderField; direction: "ASC" | "DESC" };
  first: number;
}

const query = fc.record({
  attribution: fc.constantFrom(Attribution.LAST_TOUCH, Attribution.FIRST_TOUCH, Attribution.ALL_TOUCH),
  windowHours: fc.integer({ min: 1, max: 30 }),
  groupBy: fc.subarray(Object.keys(DIMENSIONS) as Dimension[]),
  interval: fc.constantFrom(null, "HOUR", "DAY"),
  timeZone: fc.constantFrom("UTC", "Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kolkata"),
  orderBy: fc.record({ field: fc.constantFrom("KEY", ...Object.keys(ORDER_METRICS)), direction: fc.constantFrom("ASC", "DESC") }),
  first: fc.integer({ min: 1, max: 4 }),
}) as fc.Arbitrary<Query>;

type Metrics = Record<string, number | null>;

/** Whether group a comes strictly before group b in the query's order (nulls last; keys compare nulls first). */
function before(q: Query, a: { key: string; metrics: Metrics }, b: { key: string; metrics: Metrics }): boolean {
  const sign = q.orderBy.direction === "ASC" ? 1 : -1;
  if (q.orderBy.field === "KEY") {
    const [x, y] = [Object.values(JSON.parse(a.key)) as (string | null)[], Object.values(JSON.parse(b.key)) as (string | null)[]];
    const differs = x.findIndex((value, i) => value !== y[i]);
    if (differs < 0) return false;
    const order = x[differs] === null ? -1 : y[differs] === null ? 1 : (x[differs] as string) < (y[differs] as string) ? -1 : 1;
    return sign * order < 0;
  }
  const metric = ORDER_METRICS[q.orderBy.field];
  const [x, y] = [a.metrics[metric], b.metrics[metric]];
  if (x === y || x === null) return false;
  return y === null || sign * (x - (y as number)) < 0;
}

/** The expected rows (without buckets' zero rows), by the pure definitions over the run's steps. */
function expected(steps: Step[], now: number, q: Query) {
  type History = { referrals: Map<string, { ref: string; receivedAt: Date }>; inbound: number[] };
  const chats = new Map<number, History>();
  for (const s of steps) {
    const chat: History = chats.get(s.chat) ?? { referrals: new Map(), inbound: [] };
    chats.set(s.chat, chat);
    const at = now - s.minutesAgo * 60_000;
    if (s.kind !== "referral") chat.inbound.push(at);
    if (s.kind !== "message") chat.referrals.set(`${s.ref} ${at}`, { ref: s.ref, receivedAt: new Date(at) });
  }
  const groups = new Map<string, { key: Record<string, unknown>; chats: Set<number>; newChats: Set<number>; referrals: number; seconds: number[] }>();
  for (const [chatId, chat] of chats) {
    const referrals = [...chat.referrals.values()];
    referralTimelines(referrals, chat.inbound).forEach((timeline, i) => {
      const touch = attribute(timeline, q.attribution, q.windowHours * 3_600_000);
      if (!touch.counted) return;
      const { campaign, channel, variant } = parseKeyValueRef(referrals[i].ref);
      const parts: Record<string, string | null> = { ref: referrals[i].ref, campaign, channel, variant };
      const key: Record<string, unknown> = Object.fromEntries(q.groupBy.map((d) => [DIMENSIONS[d], parts[DIMENSIONS[d]]]));
      if (q.interval) key.bucket = bucketStart(q.interval, q.timeZone, referrals[i].receivedAt).toISOString();
      const id = JSON.stringify(key);
      const group = groups.get(id) ?? { key, chats: new Set(), newChats: new Set(), referrals: 0, seconds: [] };
      groups.set(id, group);
      group.referrals += 1;
      group.chats.add(chatId);
      if (timeline.isNewChat) group.newChats.add(chatId);
      if (touch.secondsToFirstMessage !== null) group.seconds.push(touch.secondsToFirstMessage);
    });
  }
  return [...groups.values()].map((g) => {
    const seconds = [...g.seconds].sort((a, b) => a - b);
    const at = (i: number) => seconds[i];
    return {
      key: JSON.stringify(g.key),
      metrics: {
        referrals: g.referrals,
        uniqueChats: g.chats.size,
        newChats: g.newChats.size,
        returningChats: g.chats.size - g.newChats.size,
        conversions: seconds.length,
        conversionRate: seconds.length / g.referrals,
        silentReferrals: g.referrals - seconds.length,
        medianSecondsToFirstMessage: percentile(seconds.length, 50, at),
        p90SecondsToFirstMessage: percentile(seconds.length, 90, at),
        // These histories have no greetings (test/analytics/greeting-metrics.http.test.ts has them).
        greetingsSent: 0,
        greetingReplies: 0,
      },
    };
  });
}

const history = fc
  .array(step(60, 36), { minLength: 1, maxLength: 14 })
  .chain((steps) => fc.tuple(fc.constant(steps), fc.shuffledSubarray([...steps.keys()], { minLength: steps.length, maxLength: steps.length })));

test("campaignStats equals the definitions applied to the raw events, for any model, window, grouping, bucketing and order", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(history, fc.integer({ min: 1, max: 6 }), query, async ([steps, order], concurrency, q) => {
      run += 1;
      // Each run's history lies in its own 36 hours before `now`; runs are four days apart.
      const now = BASE + run * 4 * DAY;
      const events = order.map((i) => stepEvent(steps[i], `s${run}`, i, now));
      for (let i = 0; i < events.length; i += concurrency) await Promise.all(events.slice(i, i + concurrency).map((e) => server.deliver(e)));

      const from = new Date(now - 2 * DAY).toISOString();
      const to = new Date(now + 1).toISOString();
      const { body } = await server.graphql(
        `query($groupBy: [CampaignDimension!], $interval: Interval, $timezone: String, $attribution: Attribution, $hours: Int, $from: DateTimeISO,
          $to: DateTimeISO, $orderBy: CampaignStatsOrder, $first: Int) {
          campaignStats(groupBy: $groupBy, interval: $interval, timezone: $timezone, attribution: $attribution, conversionWindowHours: $hours,
            from: $from, to: $to, orderBy: $orderBy, first: $first) {
            rows { key { ref campaign channel variant bucket } metrics { referrals uniqueChats newChats returningChats conversions
              conversionRate silentReferrals medianSecondsToFirstMessage p90SecondsToFirstMessage greetingsSent greetingReplies } } } }`,
        { groupBy: q.groupBy, interval: q.interval, timezone: q.timeZone, attribution: q.attribution, hours: q.windowHours, from, to, orderBy: q.orderBy, first: q.first },
      );
      expect(body.errors).toBeUndefined();
      const rows: { key: Record<string, unknown>; metrics: Metrics }[] = body.data.campaignStats.rows;
      const keyOf = (key: Record<string, unknown>) =>
        JSON.stringify(Object.fromEntries([...q.groupBy.map((d) => [DIMENSIONS[d], key[DIMENSIONS[d]]]), ...(q.interval ? [["bucket", key.bucket]] : [])]));
      const groupOf = (key: string) => JSON.stringify({ ...JSON.parse(key), bucket: undefined });

      // The chosen groups are the first ones in the requested order, and come in that order.
      const groups = expected(steps, now, { ...q, interval: null });
      const chosen = [...new Set(rows.map((r) => groupOf(keyOf(r.key))))];
      if (q.groupBy.length > 0) {
        expect(chosen.length).toBe(Math.min(q.first, groups.length));
        const byGroup = new Map(groups.map((g) => [g.key, g]));
        const left = groups.filter((g) => !chosen.includes(g.key));
        for (const key of chosen) expect(left.filter((g) => before(q, g, byGroup.get(key) as (typeof groups)[number])).map((g) => g.key)).toEqual([]);
        chosen.slice(1).forEach((key, i) => expect(before(q, byGroup.get(key) as (typeof groups)[number], byGroup.get(chosen[i]) as (typeof groups)[number])).toBe(false));
      }
      // Each answered row holds exactly the definitions' metrics.
      const answered = rows.filter((r) => r.metrics.referrals !== 0).map((r) => ({ key: keyOf(r.key), metrics: r.metrics }));
      const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
      expect(answered.sort(byKey)).toEqual(expected(steps, now, q).filter((row) => chosen.includes(groupOf(row.key))).sort(byKey));

      if (q.interval) {
        // Every group has the same gapless run of buckets, from the one holding `from` to the one holding `to`'s last instant.
        const buckets = new Map<string, string[]>();
        for (const row of rows) {
          const group = JSON.stringify({ ...row.key, bucket: null });
          buckets.set(group, [...(buckets.get(group) ?? []), row.key.bucket as string]);
        }
        for (const starts of buckets.values()) {
          expect(starts[0]).toBe(bucketStart(q.interval, q.timeZone, new Date(from)).toISOString());
          expect(starts[starts.length - 1]).toBe(bucketStart(q.interval, q.timeZone, new Date(now)).toISOString());
          starts.slice(1).forEach((start, i) => expect(bucketStart(q.interval as Interval, q.timeZone, new Date(Date.parse(start) - 1)).toISOString()).toBe(starts[i]));
        }
      }
    }),
    { numRuns: 60 },
  );
});
