import fc from "fast-check";
import { attribute, Attribution, percentile, referralTimelines } from "../../src/analytics/attribution";
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

interface Query {
  attribution: Attribution;
  windowHours: number;
  groupBy: Dimension[];
  interval: Interval | null;
  timeZone: string;
}

const query = fc.record({
  attribution: fc.constantFrom(Attribution.LAST_TOUCH, Attribution.FIRST_TOUCH, Attribution.ALL_TOUCH),
  windowHours: fc.integer({ min: 1, max: 30 }),
  groupBy: fc.subarray(Object.keys(DIMENSIONS) as Dimension[]),
  interval: fc.constantFrom(null, "HOUR", "DAY"),
  timeZone: fc.constantFrom("UTC", "Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kolkata"),
}) as fc.Arbitrary<Query>;

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
      },
    };
  });
}

const history = fc
  .array(step(60, 36), { minLength: 1, maxLength: 14 })
  .chain((steps) => fc.tuple(fc.constant(steps), fc.shuffledSubarray([...steps.keys()], { minLength: steps.length, maxLength: steps.length })));

test("campaignStats equals the definitions applied to the raw events, for any model, window, grouping and bucketing", async () => {
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
        `query($groupBy: [CampaignDimension!], $interval: Interval, $timezone: String, $attribution: Attribution, $hours: Int, $from: DateTimeISO, $to: DateTimeISO) {
          campaignStats(groupBy: $groupBy, interval: $interval, timezone: $timezone, attribution: $attribution, conversionWindowHours: $hours,
            from: $from, to: $to, first: 1000) {
            rows { key { ref campaign channel variant bucket } metrics { referrals uniqueChats newChats returningChats conversions
              conversionRate silentReferrals medianSecondsToFirstMessage p90SecondsToFirstMessage } } } }`,
        { groupBy: q.groupBy, interval: q.interval, timezone: q.timeZone, attribution: q.attribution, hours: q.windowHours, from, to },
      );
      expect(body.errors).toBeUndefined();
      const rows: { key: Record<string, unknown>; metrics: Record<string, number | null> }[] = body.data.campaignStats.rows;
      const keyOf = (key: Record<string, unknown>) =>
        JSON.stringify(Object.fromEntries([...q.groupBy.map((d) => [DIMENSIONS[d], key[DIMENSIONS[d]]]), ...(q.interval ? [["bucket", key.bucket]] : [])]));
      const answered = rows.filter((r) => r.metrics.referrals !== 0).map((r) => ({ key: keyOf(r.key), metrics: r.metrics }));
      const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
      expect(answered.sort(byKey)).toEqual(expected(steps, now, q).sort(byKey));

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
      } else {
        expect(rows.map((r) => r.metrics.referrals)).toEqual(rows.map((r) => r.metrics.referrals).sort((a, b) => (b as number) - (a as number)));
      }
    }),
    { numRuns: 40 },
  );
});
