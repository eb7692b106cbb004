import { badUserInput } from "../errors";
import { ParsedRef, RefGrammar } from "../referrals/ref-grammar";
import type { ReferralFilter } from "../referrals/referral-filter";
import { Attribution, CampaignMetrics } from "./attribution";
import { Interval, isTimeZone, planBuckets } from "./buckets";
import { aggregateCampaigns, CampaignOrder, GroupKey, IndexedField, Period } from "./referral-aggregation";
import { ReferralIndex } from "./referral-index";

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

export type CampaignKey = GroupKey & { bucket?: Date };

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
    const { interval } = request;
    await this.index.current();
    const { totals, rows } = aggregateCampaigns(this.index.columns(), {
      selection: { period, filter: request.filter, attribution: request.attribution, windowMs: request.conversionWindowHours * HOUR },
      groupBy: request.groupBy.map((d) => DIMENSION_FIELDS[d]),
      bucketStarts: interval ? (span) => this.bucketStarts(request, interval, span) : null,
      order: campaignOrder(request.orderBy),
      first: request.first,
    });
    return { totals, rows: rows.map(({ key, bucket, metrics }) => ({ key: bucket === null ? key : { ...key, bucket: new Date(bucket) }, metrics })) };
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

  /** The buckets over the period, or for ALL over the referrals there are, if the answer can hold every group's. */
  private bucketStarts(request: CampaignStatsRequest, interval: Interval, span: Period | null): number[] {
    const starts = planBuckets({ interval, timeZone: request.timeZone, from: span?.from ?? 0, to: span?.to ?? 0, maxBuckets: MAX_BUCKETS });
    if (!starts) throw badUserInput("interval", `gives more than ${MAX_BUCKETS} buckets over the range; choose a longer interval or a shorter range`);
    const mostGroups = request.groupBy.length === 0 ? 1 : request.first;
    if (mostGroups * starts.length > MAX_ROWS)
      throw badUserInput(
        "first",
        `allows ${mostGroups} groups of ${starts.length} buckets, over the ${MAX_ROWS} rows an answer may have; lower first to ${Math.floor(MAX_ROWS / starts.length)} or narrow the range`,
      );
    return starts;
  }
}

function campaignOrder({ field, direction }: CampaignStatsRequest["orderBy"]): CampaignOrder {
  return { by: field === CampaignStatsOrderField.KEY ? "key" : ORDER_METRIC[field], descending: direction === SortDirection.DESC };
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
