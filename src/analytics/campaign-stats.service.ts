import { badUserInput } from "../errors";
import { ParsedRef, RefGrammar } from "../referrals/ref-grammar";
import type { ReferralFilter } from "../referrals/referral-filter";
import { Attribution, CampaignMetrics, campaignMetrics } from "./attribution";
import { Interval, isTimeZone, planBuckets } from "./buckets";
import { countsOf, Grouping, IndexedField, Period, ReferralIndex, Selected } from "./referral-index";

export enum CampaignDimension {
  REF = "REF",
  CAMPAIGN = "CAMPAIGN",
  CHANNEL = "CHANNEL",
  VARIANT = "VARIANT",
  SOURCE = "SOURCE",
  PLATFORM = "PLATFORM",
  TYPE = "TYPE",
}

export enum TimeRange {
  LAST_24H = "LAST_24H",
  LAST_7D = "LAST_7D",
  LAST_30D = "LAST_30D",
  LAST_90D = "LAST_90D",
  ALL = "ALL",
}

export enum CampaignStatsOrderField {
  KEY = "KEY",
  REFERRALS = "REFERRALS",
  UNIQUE_CHATS = "UNIQUE_CHATS",
  NEW_CHATS = "NEW_CHATS",
  RETURNING_CHATS = "RETURNING_CHATS",
  CONVERSIONS = "CONVERSIONS",
  CONVERSION_RATE = "CONVERSION_RATE",
  SILENT_REFERRALS = "SILENT_REFERRALS",
  MEDIAN_SECONDS_TO_FIRST_MESSAGE = "MEDIAN_SECONDS_TO_FIRST_MESSAGE",
  P90_SECONDS_TO_FIRST_MESSAGE = "P90_SECONDS_TO_FIRST_MESSAGE",
  GREETINGS_SENT = "GREETINGS_SENT",
  GREETING_REPLIES = "GREETING_REPLIES",
}

export enum SortDirection {
  ASC = "ASC",
  DESC = "DESC",
}

/** Which referrals count, over which period, under which model. */
export interface CampaignPeriodRequest {
  timeZone: string;
  from?: Date;
  to?: Date;
  range?: TimeRange;
  attribution: Attribution;
  conversionWindowHours: number;
}

export interface CampaignStatsRequest extends CampaignPeriodRequest {
  groupBy: CampaignDimension[];
  interval?: Interval;
  filter: ReferralFilter;
  orderBy: { field: CampaignStatsOrderField; direction: SortDirection };
  first: number;
}

export const DEFAULT_ORDER = { field: CampaignStatsOrderField.REFERRALS, direction: SortDirection.DESC };

export type CampaignKey = Partial<Record<IndexedField, string | null>> & { bucket?: Date };

export interface CampaignStatsRow {
  key: CampaignKey;
  metrics: CampaignMetrics;
}

export interface CampaignStats {
  totals: CampaignMetrics;
  rows: CampaignStatsRow[];
}

export interface CampaignDetail {
  ref: string;
  parsed: ParsedRef;
  metrics: CampaignMetrics;
  daily: { start: Date; metrics: CampaignMetrics }[];
}

export const MAX_GROUPS = 1000;
export const MAX_BUCKETS = 10_000;
/** With an interval every chosen group gets every bucket: this bounds the answer's size. */
export const MAX_ROWS = 100_000;
export const MAX_WINDOW_HOURS = 168;

const HOUR = 3_600_000;
/** How far back each range but ALL reaches from now. */
export const RANGE_MS: Readonly<Record<Exclude<TimeRange, TimeRange.ALL>, number>> = {
  LAST_24H: 24 * HOUR,
  LAST_7D: 7 * 24 * HOUR,
  LAST_30D: 30 * 24 * HOUR,
  LAST_90D: 90 * 24 * HOUR,
};

const DIMENSION_FIELDS: Record<CampaignDimension, IndexedField> = {
  REF: "ref",
  CAMPAIGN: "campaign",
  CHANNEL: "channel",
  VARIANT: "variant",
  SOURCE: "source",
  PLATFORM: "platform",
  TYPE: "type",
};

const ORDER_METRIC: Record<Exclude<CampaignStatsOrderField, "KEY">, keyof CampaignMetrics> = {
  REFERRALS: "referrals",
  UNIQUE_CHATS: "uniqueChats",
  NEW_CHATS: "newChats",
  RETURNING_CHATS: "returningChats",
  CONVERSIONS: "conversions",
  CONVERSION_RATE: "conversionRate",
  SILENT_REFERRALS: "silentReferrals",
  MEDIAN_SECONDS_TO_FIRST_MESSAGE: "medianSecondsToFirstMessage",
  P90_SECONDS_TO_FIRST_MESSAGE: "p90SecondsToFirstMessage",
  GREETINGS_SENT: "greetingsSent",
  GREETING_REPLIES: "greetingReplies",
};

interface Group {
  /** Its number in the grouping. */
  number: number;
  values: (string | null)[];
  /** What the order reads: the exact metrics, or for an order on a count, metrics whose counts alone are right. */
  order: CampaignMetrics;
  exact: boolean;
}

/** The metrics that follow from counts alone (campaignMetrics): ordering by one of them needs no more. */
const ORDER_BY_COUNTS = new Set<keyof CampaignMetrics>(["referrals", "newChats", "conversions", "conversionRate", "silentReferrals", "greetingsSent", "greetingReplies"]);

/**
 * campaignStats: each referral's stored timeline makes every model and window a condition on its own row, so each
 * answer is a scan of the in-memory copy of the referrals (ReferralIndex), brought up to date first.
 */
export class CampaignStatsService {
  constructor(
    private readonly index: ReferralIndex,
    private readonly grammar: RefGrammar,
  ) {}

  async stats(request: CampaignStatsRequest, now: Date): Promise<CampaignStats> {
    const period = checkedPeriod(request, now);
    await this.index.current();
    const selected = this.index.select({
      period,
      filter: request.filter,
      attribution: request.attribution,
      windowMs: request.conversionWindowHours * HOUR,
    });
    const starts = request.interval ? this.bucketStarts(request, request.interval, period ?? this.index.span(selected)) : null;
    const mostGroups = request.groupBy.length === 0 ? 1 : request.first;
    if (starts && mostGroups * starts.length > MAX_ROWS)
      throw badUserInput(
        "first",
        `allows ${mostGroups} groups of ${starts.length} buckets, over the ${MAX_ROWS} rows an answer may have; lower first to ${Math.floor(MAX_ROWS / starts.length)} or narrow the range`,
      );

    const fields = request.groupBy.map((d) => DIMENSION_FIELDS[d]);
    const one = { groupOf: new Int32Array(selected.ids.length), count: 1, keys: [[]] };
    const [totals] = this.index.metrics(selected, one);
    const keyOf = (values: (string | null)[]): CampaignKey => Object.fromEntries(fields.map((field, i) => [field, values[i]]));
    // Without groupBy there is one group, the totals, even when no referral counts.
    const grouping = fields.length > 0 ? this.index.group(selected, fields) : one;
    const chosen = fields.length > 0 ? this.choose(selected, grouping, request) : [{ number: 0, values: [], order: totals, exact: true }];
    const rank = new Int32Array(grouping.count).fill(-1);
    chosen.forEach((g, i) => (rank[g.number] = i));
    if (!starts) {
      const exact = chosen.every((g) => g.exact)
        ? chosen.map((g) => g.order)
        : this.index.metrics(selected, { groupOf: grouping.groupOf.map((g) => rank[g]), count: chosen.length });
      return { totals, rows: chosen.map((g, i) => ({ key: keyOf(g.values), metrics: exact[i] })) };
    }

    // Each chosen group's buckets, numbered in answer order.
    const bucketOf = this.index.buckets(selected, starts);
    const groupOf = grouping.groupOf.map((g, i) => (rank[g] < 0 ? -1 : rank[g] * starts.length + bucketOf[i]));
    const bucketed = this.index.metrics(selected, { groupOf, count: chosen.length * starts.length });
    return {
      totals,
      rows: chosen.flatMap((g, i) => {
        const key = keyOf(g.values);
        return starts.map((start, b) => ({ key: { ...key, bucket: new Date(start) }, metrics: bucketed[i * starts.length + b] }));
      }),
    };
  }

  /**
   * The first groups in the requested order. An order on a count needs only the counts: exact unique chats and
   * percentiles, which cost more, are then left for the chosen groups (exact false).
   */
  private choose(selected: Selected, grouping: Grouping & { keys: (string | null)[][] }, request: CampaignStatsRequest): Group[] {
    const { field } = request.orderBy;
    let groups: Group[];
    if (field === CampaignStatsOrderField.KEY || ORDER_BY_COUNTS.has(ORDER_METRIC[field])) {
      const tally = this.index.tally(selected, grouping);
      groups = grouping.keys.map((values, number) => ({
        number,
        values,
        order: campaignMetrics({ ...countsOf(tally, number), uniqueChats: 0 }, () => 0),
        exact: false,
      }));
    } else {
      const metrics = this.index.metrics(selected, grouping);
      groups = grouping.keys.map((values, number) => ({ number, values, order: metrics[number], exact: true }));
    }
    return groups.sort(compareGroups(request.orderBy)).slice(0, request.first);
  }

  /** One ref's metrics and daily series, for a detail page. */
  async campaign(ref: string, request: CampaignPeriodRequest, now: Date): Promise<CampaignDetail> {
    const stats = await this.stats({ ...request, groupBy: [], interval: "DAY", filter: { ref }, orderBy: DEFAULT_ORDER, first: 1 }, now);
    return {
      ref,
      parsed: this.grammar(ref),
      metrics: stats.totals,
      daily: stats.rows.map((row) => ({ start: row.key.bucket as Date, metrics: row.metrics })),
    };
  }

  /** The buckets over the period, or for ALL over the referrals there are. */
  private bucketStarts(request: CampaignStatsRequest, interval: Interval, span: Period | null): number[] {
    const starts = planBuckets({ interval, timeZone: request.timeZone, from: span?.from ?? 0, to: span?.to ?? 0, maxBuckets: MAX_BUCKETS });
    if (!starts) throw badUserInput("interval", `gives more than ${MAX_BUCKETS} buckets over the range; choose a longer interval or a shorter range`);
    return starts;
  }
}

/** The requested order, nulls last, then by key so equal metrics keep a stable order. */
function compareGroups(orderBy: CampaignStatsRequest["orderBy"]) {
  const sign = orderBy.direction === SortDirection.ASC ? 1 : -1;
  const byKey = (a: Group, b: Group) => {
    for (let i = 0; i < a.values.length; i++) {
      const [x, y] = [a.values[i], b.values[i]];
      if (x === y) continue;
      if (x === null) return -1;
      if (y === null) return 1;
      return x < y ? -1 : 1;
    }
    return 0;
  };
  if (orderBy.field === CampaignStatsOrderField.KEY) return (a: Group, b: Group) => sign * byKey(a, b);
  const metric = ORDER_METRIC[orderBy.field];
  return (a: Group, b: Group) => {
    const [x, y] = [a.order[metric], b.order[metric]];
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      return sign * (x - y);
    }
    return byKey(a, b);
  };
}

/** Checks the arguments (each error names one) and returns the period they give; null for range ALL. */
function checkedPeriod(request: CampaignStatsRequest, now: Date): Period | null {
  const { from, to, range, first, conversionWindowHours, timeZone, groupBy, filter } = request;
  if (!Number.isInteger(conversionWindowHours) || conversionWindowHours < 1 || conversionWindowHours > MAX_WINDOW_HOURS)
    throw badUserInput("conversionWindowHours", `must be a whole number of hours from 1 to ${MAX_WINDOW_HOURS}`);
  if (!Number.isInteger(first) || first < 1 || first > MAX_GROUPS) throw badUserInput("first", `must be from 1 to ${MAX_GROUPS}`);
  if (!isTimeZone(timeZone)) throw badUserInput("timezone", `'${timeZone}' is not an IANA time zone name such as Europe/Berlin`);
  const twice = groupBy.find((d, i) => groupBy.indexOf(d) !== i);
  if (twice) throw badUserInput("groupBy", `names ${twice} twice`);
  if (filter.from || filter.to) throw badUserInput(filter.from ? "filter.from" : "filter.to", "is not used here; give from and to, or range");
  if (range && (from || to)) throw badUserInput("range", "cannot be combined with from/to; give one or the other");
  if (range) return range === TimeRange.ALL ? null : { from: now.getTime() - RANGE_MS[range], to: now.getTime() };
  if (!from || !to) throw badUserInput(from ? "to" : "from", "is required: give from and to, or range");
  if (from >= to) throw badUserInput("from", "must be before to");
  return { from: from.getTime(), to: to.getTime() };
}
