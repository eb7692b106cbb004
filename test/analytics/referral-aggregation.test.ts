import fc from "fast-check";
import { attribute, Attribution, CampaignMetrics, percentile } from "../../src/analytics/attribution";
import {
  aggregateCampaigns,
  CampaignQuery,
  CampaignRow,
  FIRST_TOUCH,
  IndexedField,
  INDEXED_FIELDS,
  NEW_CHAT,
  Period,
  PRESENT,
  ReferralColumns,
} from "../../src/analytics/referral-aggregation";

// campaignStats's aggregation on hand-built columns, held to a naive computation of the same answer: referral by
// referral, groups in a map, whole metrics sorted.
const T0 = Date.parse("2026-06-01T00:00:00Z");
const MIN = 60_000;
const HOUR = 3_600_000;

interface Referral {
  id: number;
  chatId: string;
  receivedAt: number;
  firstReplyAt: number | null;
  lastTouchReplyAt: number | null;
  isFirstTouch: boolean;
  isNewChat: boolean;
  greetingsSent: number;
  greetingReplies: number;
  fields: Record<IndexedField, string | null>;
}

/**
 * The columns ReferralIndex would hold for these referrals. Each field's values start with `unusedValues` values no
 * referral has (as values of referrals outside a selection), so the used codes, and the grouping radix, grow with it.
 */
function columnsOf(referrals: Referral[], unusedValues = 0): ReferralColumns {
  const end = Math.max(0, ...referrals.map((r) => r.id + 1));
  const unused = Array.from({ length: unusedValues }, (_, i) => `unused ${i}`);
  const values = Object.fromEntries(INDEXED_FIELDS.map((field) => [field, [null, ...unused]])) as Record<IndexedField, (string | null)[]>;
  const codes = Object.fromEntries(INDEXED_FIELDS.map((field) => [field, new Int32Array(end)])) as Record<IndexedField, Int32Array>;
  const chatIds: (string | null)[] = [null];
  const codeOf = (list: (string | null)[], value: string | null) => (value === null ? 0 : list.includes(value) ? list.indexOf(value) : list.push(value) - 1);
  const columns = {
    end,
    flags: new Uint8Array(end),
    receivedAt: new Float64Array(end),
    firstReplyAt: new Float64Array(end),
    lastTouchReplyAt: new Float64Array(end),
    chat: new Int32Array(end),
    greetingsSent: new Int32Array(end),
    greetingReplies: new Int32Array(end),
    codes,
    values,
    chatIds,
  };
  for (const r of referrals) {
    columns.flags[r.id] = PRESENT | (r.isFirstTouch ? FIRST_TOUCH : 0) | (r.isNewChat ? NEW_CHAT : 0);
    columns.receivedAt[r.id] = r.receivedAt;
    columns.firstReplyAt[r.id] = r.firstReplyAt ?? NaN;
    columns.lastTouchReplyAt[r.id] = r.lastTouchReplyAt ?? NaN;
    columns.chat[r.id] = codeOf(chatIds, r.chatId);
    columns.greetingsSent[r.id] = r.greetingsSent;
    columns.greetingReplies[r.id] = r.greetingReplies;
    for (const field of INDEXED_FIELDS) codes[field][r.id] = codeOf(values[field], r.fields[field]);
  }
  return columns;
}

/** The metrics of a set of counted referrals, straight from README's definitions. */
function naiveMetrics(referrals: Referral[], query: CampaignQuery): CampaignMetrics {
  const { attribution, windowMs } = query.selection;
  const seconds = referrals
    .map((r) => attribute(r, attribution, windowMs).secondsToFirstMessage)
    .filter((s): s is number => s !== null)
    .sort((a, b) => a - b);
  const uniqueChats = new Set(referrals.map((r) => r.chatId)).size;
  const newChats = referrals.filter((r) => r.isNewChat).length;
  return {
    referrals: referrals.length,
    uniqueChats,
    newChats,
    returningChats: uniqueChats - newChats,
    conversions: seconds.length,
    conversionRate: referrals.length === 0 ? null : seconds.length / referrals.length,
    silentReferrals: referrals.length - seconds.length,
    medianSecondsToFirstMessage: percentile(seconds.length, 50, (i) => seconds[i]),
    p90SecondsToFirstMessage: percentile(seconds.length, 90, (i) => seconds[i]),
    greetingsSent: referrals.reduce((sum, r) => sum + r.greetingsSent, 0),
    greetingReplies: referrals.reduce((sum, r) => sum + r.greetingReplies, 0),
  };
}

/** The answer computed the slow way: filter, group with a map, sort whole metrics, bucket by scanning the starts. */
function naiveAggregate(referrals: Referral[], query: CampaignQuery): { totals: CampaignMetrics; rows: CampaignRow[] } {
  const { period, filter, attribution, windowMs } = query.selection;
  const counted = referrals.filter(
    (r) =>
      (period === null || (r.receivedAt >= period.from && r.receivedAt < period.to)) &&
      (["ref", "campaign", "channel", "variant", "source", "platform"] as const).every((f) => filter[f] === undefined || r.fields[f] === filter[f]) &&
      (filter.refPrefix === undefined || (r.fields.ref ?? "").startsWith(filter.refPrefix)) &&
      (filter.chatId === undefined || r.chatId === filter.chatId) &&
      attribute(r, attribution, windowMs).counted,
  );
  const times = counted.map((r) => r.receivedAt);
  const span = counted.length === 0 ? null : { from: Math.min(...times), to: Math.max(...times) + 1 };
  const starts = query.bucketStarts ? query.bucketStarts(period ?? span) : null;
  const groups = new Map<string, { values: (string | null)[]; referrals: Referral[] }>();
  if (query.groupBy.length === 0) groups.set("", { values: [], referrals: counted });
  for (const r of query.groupBy.length > 0 ? counted : []) {
    const values = query.groupBy.map((f) => r.fields[f]);
    const id = JSON.stringify(values);
    if (!groups.has(id)) groups.set(id, { values, referrals: [] });
    groups.get(id)?.referrals.push(r);
  }
  const byKey = (a: (string | null)[], b: (string | null)[]) => {
    const i = a.findIndex((x, i) => x !== b[i]);
    if (i < 0) return 0;
    return a[i] === null ? -1 : b[i] === null ? 1 : (a[i] as string) < (b[i] as string) ? -1 : 1;
  };
  const { by, descending } = query.order;
  const sign = descending ? -1 : 1;
  const ordered = [...groups.values()]
    .map((g) => ({ ...g, metrics: naiveMetrics(g.referrals, query) }))
    .sort((a, b) => {
      if (by === "key") return sign * byKey(a.values, b.values);
      const [x, y] = [a.metrics[by], b.metrics[by]];
      if (x === y) return byKey(a.values, b.values);
      return x === null ? 1 : y === null ? -1 : sign * (x - y);
    })
    .slice(0, query.first);
  const keyOf = (values: (string | null)[]) => Object.fromEntries(query.groupBy.map((f, i) => [f, values[i]]));
  const bucketOf = (at: number, starts: number[]) => Math.max(0, starts.filter((start) => start <= at).length - 1);
  return {
    totals: naiveMetrics(counted, query),
    rows: ordered.flatMap((g): CampaignRow[] =>
      starts === null
        ? [{ key: keyOf(g.values), bucket: null, metrics: g.metrics }]
        : starts.map((start, b) => ({
            key: keyOf(g.values),
            bucket: start,
            metrics: naiveMetrics(
              g.referrals.filter((r) => bucketOf(r.receivedAt, starts) === b),
              query,
            ),
          })),
    ),
  };
}

/** Hourly buckets over the span (none without one). */
const hourly = (span: Period | null) => {
  const starts: number[] = [];
  for (let start = span ? Math.floor(span.from / HOUR) * HOUR : 0; span && start < span.to; start += HOUR) starts.push(start);
  return starts;
};

const value = fc.constantFrom(null, "a", "ab", "b");
/**
 * Many referrals, most fields "a", the rest "b" (neighbouring codes): many pairs then differ in one field only, by
 * one code, which is what a lossy combination of the codes would merge.
 */
const manyAlike = { fieldValue: fc.constantFrom("a", "a", "a", "b"), minLength: 20 };

/** Referrals whose fields take `fieldValue`, ids ascending with gaps (ids never stored). */
const referralsArbitrary = ({ fieldValue, minLength } = { fieldValue: value, minLength: 0 }) => {
  const referral = fc.record({
    gap: fc.integer({ min: 0, max: 2 }),
    chatId: fc.constantFrom("c1", "c2", "c3", "c4"),
    at: fc.integer({ min: 0, max: 6 * 60 }),
    reply: fc.option(fc.integer({ min: 0, max: 8 * 60 })),
    lastTouch: fc.boolean(),
    isFirstTouch: fc.boolean(),
    isNewChat: fc.boolean(),
    greetingsSent: fc.integer({ min: 0, max: 2 }),
    greetingReplies: fc.integer({ min: 0, max: 2 }),
    fields: fc.record(Object.fromEntries(INDEXED_FIELDS.map((field) => [field, fieldValue])) as Record<IndexedField, fc.Arbitrary<string | null>>),
  });
  return fc.array(referral, { minLength, maxLength: 40 }).map((drafts) => {
    let id = 0;
    return drafts.map(({ gap, at, reply, lastTouch, isFirstTouch, isNewChat, ...rest }): Referral => {
      const receivedAt = T0 + at * MIN;
      const firstReplyAt = reply === null ? null : receivedAt + reply * MIN;
      // As stored: the reply LAST_TOUCH credits is the first reply or none; only a chat's first referral is new.
      return { ...rest, id: (id += gap + 1), receivedAt, firstReplyAt, lastTouchReplyAt: lastTouch ? firstReplyAt : null, isFirstTouch, isNewChat: isFirstTouch && isNewChat };
    });
  });
};

const queryArbitrary = (groupBy: fc.Arbitrary<readonly IndexedField[]>): fc.Arbitrary<CampaignQuery> =>
  fc.record({
    selection: fc.record({
      period: fc.option(
        fc.tuple(fc.integer({ min: -60, max: 6 * 60 }), fc.integer({ min: 1, max: 6 * 60 })).map(([from, length]) => ({ from: T0 + from * MIN, to: T0 + (from + length) * MIN })),
      ),
      // Mostly none, so that most runs group many referrals.
      filter: fc.oneof(
        { weight: 2, arbitrary: fc.constant({}) },
        {
          weight: 1,
          arbitrary: fc
            .record({ ref: value, campaign: value, platform: value, refPrefix: fc.constantFrom("a", "b", "c"), chatId: fc.constantFrom("c1", "c2", "c9") }, { requiredKeys: [] })
            // A filter never names null: it is absent instead.
            .map((filter) => Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== null))),
        },
      ),
      attribution: fc.constantFrom(Attribution.LAST_TOUCH, Attribution.FIRST_TOUCH, Attribution.ALL_TOUCH),
      windowMs: fc.integer({ min: 1, max: 4 }).map((hours) => hours * HOUR),
    }),
    groupBy,
    bucketStarts: fc.constantFrom(null, hourly),
    order: fc.record({
      by: fc.constantFrom<CampaignQuery["order"]["by"]>(
        "key",
        "referrals",
        "uniqueChats",
        "newChats",
        "returningChats",
        "conversions",
        "conversionRate",
        "silentReferrals",
        "medianSecondsToFirstMessage",
        "p90SecondsToFirstMessage",
        "greetingsSent",
        "greetingReplies",
      ),
      descending: fc.boolean(),
    }),
    first: fc.integer({ min: 1, max: 5 }),
  });

/** How large a number the codes of `fields` combine into before any renumbering. */
const radixOf = (columns: ReferralColumns, fields: readonly IndexedField[]) => fields.reduce((radix, field) => radix * columns.values[field].length, 1);

describe("aggregateCampaigns", () => {
  test("equals the definitions applied referral by referral, for any selection, grouping, buckets, order and limit", () => {
    fc.assert(
      fc.property(referralsArbitrary(), queryArbitrary(fc.shuffledSubarray([...INDEXED_FIELDS], { maxLength: 3 })), (referrals, query) => {
        expect(aggregateCampaigns(columnsOf(referrals), query)).toEqual(naiveAggregate(referrals, query));
      }),
      { numRuns: 300 },
    );
  });

  test("groups by seven fields whose combined codes are too many for a table (the map path)", () => {
    const fields = fc.constant(INDEXED_FIELDS);
    fc.assert(
      fc.property(referralsArbitrary(manyAlike), queryArbitrary(fields), (referrals, query) => {
        const columns = columnsOf(referrals, 20);
        expect(radixOf(columns, INDEXED_FIELDS)).toBeGreaterThan(1 << 24);
        expect(radixOf(columns, INDEXED_FIELDS)).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
        expect(aggregateCampaigns(columns, query)).toEqual(naiveAggregate(referrals, query));
      }),
      { numRuns: 100 },
    );
  });

  test("groups by seven fields whose combined codes would pass 2^53, renumbering the groups midway", () => {
    const fields = fc.constant(INDEXED_FIELDS);
    fc.assert(
      fc.property(referralsArbitrary(manyAlike), queryArbitrary(fields), (referrals, query) => {
        const columns = columnsOf(referrals, 200);
        expect(radixOf(columns, INDEXED_FIELDS)).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
        expect(aggregateCampaigns(columns, query)).toEqual(naiveAggregate(referrals, query));
      }),
      { numRuns: 100 },
    );
  });

  const referral = (id: number, chatId: string, ref: string, at: number, reply: number | null): Referral => ({
    id,
    chatId,
    receivedAt: at,
    firstReplyAt: reply,
    lastTouchReplyAt: reply,
    isFirstTouch: true,
    isNewChat: false,
    greetingsSent: 0,
    greetingReplies: 0,
    fields: { ref, campaign: null, channel: null, variant: null, source: null, platform: null, type: null },
  });
  const query = (overrides: Partial<CampaignQuery>): CampaignQuery => ({
    selection: { period: null, filter: {}, attribution: Attribution.LAST_TOUCH, windowMs: HOUR },
    groupBy: ["ref"],
    bucketStarts: null,
    order: { by: "referrals", descending: true },
    first: 10,
    ...overrides,
  });

  test("ordered by a count, the chosen groups still get exact unique chats and percentiles", () => {
    const columns = columnsOf([
      referral(1, "c1", "big", T0, T0 + 10_000),
      referral(2, "c1", "big", T0, T0 + 30_000),
      referral(3, "c2", "big", T0, null),
      referral(4, "c3", "small", T0, T0 + 5_000),
    ]);
    const { rows } = aggregateCampaigns(columns, query({ first: 1 }));
    expect(rows).toEqual([{ key: { ref: "big" }, bucket: null, metrics: expect.objectContaining({ referrals: 3, uniqueChats: 2, conversions: 2, medianSecondsToFirstMessage: 20 }) }]);
  });

  test("without groupBy there is one row, the totals, even when no referral counts", () => {
    const columns = columnsOf([referral(1, "c1", "bio", T0, null)]);
    const { totals, rows } = aggregateCampaigns(columns, query({ groupBy: [], selection: { period: null, filter: { ref: "nowhere" }, attribution: Attribution.LAST_TOUCH, windowMs: HOUR } }));
    expect(totals).toMatchObject({ referrals: 0, uniqueChats: 0, conversionRate: null, medianSecondsToFirstMessage: null });
    expect(rows).toEqual([{ key: {}, bucket: null, metrics: totals }]);
  });

  test("for all time the buckets are planned over the selected referrals' span; for a period, over the period", () => {
    const columns = columnsOf([referral(1, "c1", "bio", T0 + HOUR, null), referral(2, "c2", "bio", T0 + 3 * HOUR, null), referral(3, "c3", "ad", T0, null)]);
    const spans: (Period | null)[] = [];
    const planned = (span: Period | null) => (spans.push(span), hourly(span));
    aggregateCampaigns(columns, query({ bucketStarts: planned, selection: { period: null, filter: { ref: "bio" }, attribution: Attribution.LAST_TOUCH, windowMs: HOUR } }));
    aggregateCampaigns(columns, query({ bucketStarts: planned, selection: { period: { from: T0, to: T0 + 5 * HOUR }, filter: {}, attribution: Attribution.LAST_TOUCH, windowMs: HOUR } }));
    expect(spans).toEqual([
      { from: T0 + HOUR, to: T0 + 3 * HOUR + 1 },
      { from: T0, to: T0 + 5 * HOUR },
    ]);
  });
});
