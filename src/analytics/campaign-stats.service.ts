import { Brackets, DataSource, SelectQueryBuilder } from "typeorm";
import { isPostgres } from "../db/data-source";
import { badUserInput } from "../errors";
import { ParsedRef, RefGrammar } from "../referrals/ref-grammar";
import { Referral } from "../referrals/referral.entity";
import { ReferralListFilter, whereReferralsMatch } from "../referrals/referral.service";
import { Attribution, CampaignMetrics, campaignMetrics } from "./attribution";
import { Interval, isTimeZone, planBuckets } from "./buckets";

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
  filter: ReferralListFilter;
  orderBy: { field: CampaignStatsOrderField; direction: SortDirection };
  first: number;
}

export const DEFAULT_ORDER = { field: CampaignStatsOrderField.REFERRALS, direction: SortDirection.DESC };

export type CampaignKeyField = "ref" | "campaign" | "channel" | "variant" | "source" | "platform" | "type";
export type CampaignKey = Partial<Record<CampaignKeyField, string | null>> & { bucket?: Date };

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
const RANGE_MS: Record<Exclude<TimeRange, TimeRange.ALL>, number> = {
  LAST_24H: 24 * HOUR,
  LAST_7D: 7 * 24 * HOUR,
  LAST_30D: 30 * 24 * HOUR,
  LAST_90D: 90 * 24 * HOUR,
};

const DIMENSIONS: Record<CampaignDimension, { sql: string; field: CampaignKeyField }> = {
  REF: { sql: "referral.ref", field: "ref" },
  CAMPAIGN: { sql: "referral.campaign", field: "campaign" },
  CHANNEL: { sql: "referral.channel", field: "channel" },
  VARIANT: { sql: "referral.variant", field: "variant" },
  SOURCE: { sql: "referral.source", field: "source" },
  PLATFORM: { sql: "chat.platform", field: "platform" },
  TYPE: { sql: "referral.type", field: "type" },
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
};

type KeyValue = string | number | null;

interface Group {
  values: KeyValue[];
  metrics: CampaignMetrics;
}

/** What every aggregate query shares: which referrals count, and how a conversion is told apart. */
interface Scope {
  request: CampaignStatsRequest;
  /** Null for range ALL. */
  period: { from: Date; to: Date } | null;
  /** Only referrals whose group values are one of these, when set. */
  groups?: KeyValue[][];
}

const zero = campaignMetrics({ referrals: 0, uniqueChats: 0, newChats: 0, conversions: 0 }, () => 0);
const groupId = (values: KeyValue[]) => JSON.stringify(values);

/**
 * campaignStats: each referral's stored timeline makes every model and window a condition on its own row, so each
 * answer is a few GROUP BY queries over the referrals in range. Percentiles come from a window function that
 * returns only the rows at the positions percentile() needs.
 */
export class CampaignStatsService {
  constructor(
    private readonly db: DataSource,
    private readonly grammar: RefGrammar,
  ) {}

  async stats(request: CampaignStatsRequest, now: Date): Promise<CampaignStats> {
    const period = checkedPeriod(request, now);
    const scope: Scope = { request, period };
    const dimensions = request.groupBy.map((d) => DIMENSIONS[d].sql);
    const plan = request.interval ? await this.bucketPlan(scope, request.interval) : null;
    const mostGroups = dimensions.length === 0 ? 1 : request.first;
    if (plan && mostGroups * plan.buckets.length > MAX_ROWS)
      throw badUserInput(
        "first",
        `allows ${mostGroups} groups of ${plan.buckets.length} buckets, over the ${MAX_ROWS} rows an answer may have; lower first to ${Math.floor(MAX_ROWS / plan.buckets.length)} or narrow the range`,
      );

    const [totals, groups] = await Promise.all([this.aggregate(scope, []), dimensions.length > 0 ? this.aggregate(scope, dimensions) : undefined]);
    const totalMetrics = totals.get(groupId([]))?.metrics ?? zero;
    // Without groupBy there is one group, the totals, even when no referral counts.
    const all = groups ? [...groups.values()] : [{ values: [], metrics: totalMetrics }];
    const chosen = all.sort(compareGroups(request.orderBy)).slice(0, request.first);
    const keyOf = (values: KeyValue[]): CampaignKey => Object.fromEntries(request.groupBy.map((d, i) => [DIMENSIONS[d].field, values[i]]));
    if (!plan) return { totals: totalMetrics, rows: chosen.map((g) => ({ key: keyOf(g.values), metrics: g.metrics })) };

    const bucketed = await this.aggregate({ ...scope, groups: chosen.length < all.length ? chosen.map((g) => g.values) : undefined }, [
      ...dimensions,
      plan.keySql,
    ]);
    return {
      totals: totalMetrics,
      rows: chosen.flatMap((g) =>
        plan.buckets.map((bucket) => ({
          key: { ...keyOf(g.values), bucket: bucket.start },
          metrics: bucketed.get(groupId([...g.values, bucket.key]))?.metrics ?? zero,
        })),
      ),
    };
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

  /** Buckets over the period, or for ALL over the referrals there are. */
  private async bucketPlan(scope: Scope, interval: Interval) {
    let span = scope.period;
    if (!span) {
      const row = await this.referrals(scope, false)
        .select("MIN(referral.received_at)", "first")
        .addSelect("MAX(referral.received_at)", "last")
        .getRawOne<{ first: string | number | null; last: string | number | null }>();
      span = !row || row.first === null ? { from: new Date(0), to: new Date(0) } : { from: new Date(Number(row.first)), to: new Date(Number(row.last) + 1) };
    }
    const plan = planBuckets({
      interval,
      timeZone: scope.request.timeZone,
      ...span,
      column: "referral.received_at",
      dialect: isPostgres(this.db) ? "postgres" : "sqlite",
      maxBuckets: MAX_BUCKETS,
    });
    if (!plan) throw badUserInput("interval", `gives more than ${MAX_BUCKETS} buckets over the range; choose a longer interval or a shorter range`);
    return plan;
  }

  /** The referrals the request counts, joined to their chat when `withChat`. */
  private referrals(scope: Scope, withChat: boolean): SelectQueryBuilder<Referral> {
    const { request, period } = scope;
    const query = this.db.getRepository(Referral).createQueryBuilder("referral");
    if (withChat) query.leftJoin("chat", "chat", "chat.id = referral.chat_id");
    whereReferralsMatch(query, request.filter);
    if (period) query.andWhere("referral.received_at >= :periodFrom AND referral.received_at < :periodTo", { periodFrom: period.from.getTime(), periodTo: period.to.getTime() });
    // FIRST_TOUCH: a chat's later referrals count in no metric.
    if (request.attribution === Attribution.FIRST_TOUCH) query.andWhere("referral.is_first_touch = :firstTouch", { firstTouch: true });
    return query;
  }

  /** Metrics per distinct value of `dimensions` (SQL expressions), keyed by groupId. */
  private async aggregate(scope: Scope, dimensions: string[]): Promise<Map<string, Group>> {
    const { request } = scope;
    const reply = request.attribution === Attribution.LAST_TOUCH ? "referral.last_touch_reply_at" : "referral.first_reply_at";
    const windowMs = request.conversionWindowHours * HOUR;
    const withChat = dimensions.includes(DIMENSIONS.PLATFORM.sql);
    const grouped = (query: SelectQueryBuilder<Referral>) => {
      dimensions.forEach((sql, i) => query.addSelect(sql, `d${i}`));
      if (scope.groups) restrictToGroups(query, dimensions, scope.groups);
      return query;
    };

    const counts = grouped(this.referrals(scope, withChat).select([]))
      .addSelect("COUNT(*)", "referrals")
      .addSelect("COUNT(DISTINCT referral.chat_id)", "uniqueChats")
      .addSelect("SUM(CASE WHEN referral.is_new_chat THEN 1 ELSE 0 END)", "newChats")
      .addSelect(`SUM(CASE WHEN ${reply} < referral.received_at + :windowMs THEN 1 ELSE 0 END)`, "conversions")
      .setParameter("windowMs", windowMs);
    dimensions.forEach((sql) => counts.addGroupBy(sql));

    // Only converted referrals have a time to first message; it is under the window (168 h), so it fits an integer.
    const elapsed = `CAST(${reply} - referral.received_at AS integer)`;
    const partition = dimensions.length > 0 ? `PARTITION BY ${dimensions.join(", ")} ` : "";
    const ranked = grouped(this.referrals(scope, withChat).select([]))
      .addSelect(elapsed, "elapsed")
      .addSelect(`ROW_NUMBER() OVER (${partition}ORDER BY ${elapsed})`, "place")
      .addSelect(`COUNT(*) OVER (${partition})`, "size")
      .andWhere(`${reply} < referral.received_at + :windowMs`, { windowMs });
    const [rankedSql, rankedParameters] = ranked.getQueryAndParameters();
    const positions = [50, 90].flatMap((p) => [`(ranked.size - 1) * ${p} / 100`, `((ranked.size - 1) * ${p} + 99) / 100`]);

    const [countRows, percentileRows] = await Promise.all([
      counts.getRawMany<Record<string, KeyValue>>(),
      this.db.query(`SELECT * FROM (${rankedSql}) ranked WHERE ranked.place - 1 IN (${positions.join(", ")})`, rankedParameters) as Promise<
        Record<string, KeyValue>[]
      >,
    ]);
    const valuesOf = (row: Record<string, KeyValue>) => dimensions.map((_, i) => row[`d${i}`]);
    const elapsedAt = new Map<string, Map<number, number>>();
    for (const row of percentileRows) {
      const id = groupId(valuesOf(row));
      const places = elapsedAt.get(id) ?? new Map<number, number>();
      places.set(Number(row.place) - 1, Number(row.elapsed));
      elapsedAt.set(id, places);
    }
    const groups = new Map<string, Group>();
    for (const row of countRows) {
      const values = valuesOf(row);
      const places = elapsedAt.get(groupId(values));
      const counts = { referrals: Number(row.referrals), uniqueChats: Number(row.uniqueChats), newChats: Number(row.newChats), conversions: Number(row.conversions) };
      groups.set(groupId(values), { values, metrics: campaignMetrics(counts, (position) => (places?.get(position) as number) / 1000) });
    }
    return groups;
  }
}

/** Limits a grouped query to the given groups' values (null matching null). */
function restrictToGroups(query: SelectQueryBuilder<Referral>, dimensions: string[], groups: KeyValue[][]): void {
  query.andWhere(
    new Brackets((any) =>
      groups.forEach((values, g) =>
        any.orWhere(
          new Brackets((all) =>
            values.forEach((value, i) =>
              value === null ? all.andWhere(`${dimensions[i]} IS NULL`) : all.andWhere(`${dimensions[i]} = :g${g}_${i}`, { [`g${g}_${i}`]: value }),
            ),
          ),
        ),
      ),
    ),
  );
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
    const [x, y] = [a.metrics[metric], b.metrics[metric]];
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      return sign * (x - y);
    }
    return byKey(a, b);
  };
}

/** Checks the arguments (each error names one) and returns the period they give; null for range ALL. */
function checkedPeriod(request: CampaignStatsRequest, now: Date): { from: Date; to: Date } | null {
  const { from, to, range, first, conversionWindowHours, timeZone, groupBy, filter } = request;
  if (!Number.isInteger(conversionWindowHours) || conversionWindowHours < 1 || conversionWindowHours > MAX_WINDOW_HOURS)
    throw badUserInput("conversionWindowHours", `must be a whole number of hours from 1 to ${MAX_WINDOW_HOURS}`);
  if (!Number.isInteger(first) || first < 1 || first > MAX_GROUPS) throw badUserInput("first", `must be from 1 to ${MAX_GROUPS}`);
  if (!isTimeZone(timeZone)) throw badUserInput("timezone", `'${timeZone}' is not an IANA time zone name such as Europe/Berlin`);
  const twice = groupBy.find((d, i) => groupBy.indexOf(d) !== i);
  if (twice) throw badUserInput("groupBy", `names ${twice} twice`);
  if (filter.from || filter.to) throw badUserInput(filter.from ? "filter.from" : "filter.to", "is not used here; give from and to, or range");
  if (range && (from || to)) throw badUserInput("range", "cannot be combined with from/to; give one or the other");
  if (range) return range === TimeRange.ALL ? null : { from: new Date(now.getTime() - RANGE_MS[range]), to: now };
  if (!from || !to) throw badUserInput(from ? "to" : "from", "is required: give from and to, or range");
  if (from >= to) throw badUserInput("from", "must be before to");
  return { from, to };
}
