import { Arg, Args, ArgsType, Ctx, Field, Float, InputType, Int, ObjectType, Query, registerEnumType, Resolver } from "type-graphql";
import { Context } from "../graphql/context";
import { ReferralFilter } from "../referrals/referral-filter";
import { ParsedRefType } from "../referrals/referral.resolver";
import { Attribution, CampaignMetrics } from "./attribution";
import { Interval } from "./buckets";
import {
  CampaignDimension,
  CampaignStatsOrderField,
  DEFAULT_ORDER,
  MAX_BUCKETS,
  MAX_GROUPS,
  MAX_ROWS,
  MAX_WINDOW_HOURS,
  SortDirection,
  TimeRange,
} from "./campaign-stats.service";

const IntervalEnum = { HOUR: "HOUR", DAY: "DAY", WEEK: "WEEK", MONTH: "MONTH" } as const satisfies Record<Interval, Interval>;

registerEnumType(Attribution, {
  name: "Attribution",
  description: "Which referrals a conversion is credited to (definitions in README).",
  valuesConfig: {
    LAST_TOUCH: { description: "A message within the window and before the chat's next referral converts the referral." },
    FIRST_TOUCH: { description: "Only each chat's first-ever referral counts; a message within the window converts it." },
    ALL_TOUCH: { description: "Every referral converts on a message within the window, even after a later referral." },
  },
});
registerEnumType(CampaignDimension, { name: "CampaignDimension" });
registerEnumType(IntervalEnum, { name: "Interval", description: "Buckets start at local hour, midnight, Monday midnight or month start." });
registerEnumType(TimeRange, { name: "TimeRange", description: "A period ending now; ALL is every referral." });
registerEnumType(CampaignStatsOrderField, { name: "CampaignStatsOrderField" });
registerEnumType(SortDirection, { name: "SortDirection" });

// The answer's objects are plain data, so they take graphql-js's default resolvers (simpleResolvers): type-graphql's
// per-field wrapper cost a tenth of the time of an answer of thousands of rows.
@ObjectType("CampaignMetrics", { simpleResolvers: true })
class CampaignMetricsType implements CampaignMetrics {
  @Field(() => Int)
  referrals: number;

  @Field(() => Int)
  uniqueChats: number;

  @Field(() => Int, { description: "Chats whose first activity is one of these referrals." })
  newChats: number;

  @Field(() => Int)
  returningChats: number;

  @Field(() => Int)
  conversions: number;

  @Field(() => Float, { nullable: true, description: "conversions / referrals; null when there are no referrals." })
  conversionRate: number | null;

  @Field(() => Int, { description: "Referrals that did not convert." })
  silentReferrals: number;

  @Field(() => Float, { nullable: true, description: "Null when there are no conversions." })
  medianSecondsToFirstMessage: number | null;

  @Field(() => Float, { nullable: true })
  p90SecondsToFirstMessage: number | null;

  @Field(() => Int, { description: "PUBLISHED greetings of these referrals." })
  greetingsSent: number;

  @Field(() => Int, { description: "Published greetings answered by an inbound message within 24 h after they were sent." })
  greetingReplies: number;
}

@ObjectType("CampaignStatsKey", { description: "The row's group; fields not grouped by are null.", simpleResolvers: true })
class CampaignStatsKeyType {
  @Field(() => String, { nullable: true })
  ref?: string | null;

  @Field(() => String, { nullable: true })
  campaign?: string | null;

  @Field(() => String, { nullable: true })
  channel?: string | null;

  @Field(() => String, { nullable: true })
  variant?: string | null;

  @Field(() => String, { nullable: true })
  source?: string | null;

  @Field(() => String, { nullable: true })
  platform?: string | null;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => Date, { nullable: true, description: "The start of the row's time bucket, when an interval is given." })
  bucket?: Date;
}

@ObjectType("CampaignStatsRow", { simpleResolvers: true })
class CampaignStatsRowType {
  @Field(() => CampaignStatsKeyType)
  key: CampaignStatsKeyType;

  @Field(() => CampaignMetricsType)
  metrics: CampaignMetricsType;
}

@ObjectType("CampaignStats", { simpleResolvers: true })
class CampaignStatsType {
  @Field(() => CampaignMetricsType, { description: "Over every counted referral in the period, grouped or not." })
  totals: CampaignMetricsType;

  @Field(() => [CampaignStatsRowType])
  rows: CampaignStatsRowType[];
}

@ObjectType("CampaignDay", { simpleResolvers: true })
class CampaignDayType {
  @Field(() => Date, { description: "Local midnight in the requested timezone." })
  start: Date;

  @Field(() => CampaignMetricsType)
  metrics: CampaignMetricsType;
}

@ObjectType("Campaign", { description: "One ref's numbers, for a detail page." })
class CampaignType {
  @Field()
  ref: string;

  @Field(() => ParsedRefType)
  parsed: ParsedRefType;

  @Field(() => CampaignMetricsType)
  metrics: CampaignMetricsType;

  @Field(() => [CampaignDayType], { description: "Every day of the period, zeros included." })
  daily: CampaignDayType[];
}

@InputType("CampaignStatsOrder")
class CampaignStatsOrder {
  @Field(() => CampaignStatsOrderField)
  field: CampaignStatsOrderField;

  @Field(() => SortDirection, { defaultValue: SortDirection.DESC })
  direction: SortDirection;
}

@ArgsType()
class CampaignPeriodArgs {
  @Field(() => Date, { nullable: true, description: "Inclusive; give with to, or give range." })
  from?: Date;

  @Field(() => Date, { nullable: true, description: "Exclusive." })
  to?: Date;

  @Field(() => TimeRange, { nullable: true })
  range?: TimeRange;

  @Field(() => String, { nullable: true, defaultValue: "UTC", description: "IANA time zone the buckets align to." })
  timezone?: string;

  @Field(() => Attribution, { nullable: true, defaultValue: Attribution.LAST_TOUCH })
  attribution?: Attribution;

  @Field(() => Int, { nullable: true, defaultValue: 24, description: `1 to ${MAX_WINDOW_HOURS}.` })
  conversionWindowHours?: number;
}

@ArgsType()
class CampaignStatsArgs extends CampaignPeriodArgs {
  @Field(() => [CampaignDimension], { nullable: true, defaultValue: [CampaignDimension.REF] })
  groupBy?: CampaignDimension[];

  @Field(() => IntervalEnum, {
    nullable: true,
    description: `Split each group into time buckets, empty ones included (at most ${MAX_BUCKETS} buckets and ${MAX_ROWS} rows).`,
  })
  interval?: Interval;

  @Field(() => ReferralFilter, { nullable: true, description: "Its from and to are not used here: give from/to or range." })
  filter?: ReferralFilter;

  @Field(() => CampaignStatsOrder, { nullable: true, description: "Default: referrals, descending; ties by key." })
  orderBy?: CampaignStatsOrder;

  @Field(() => Int, { nullable: true, defaultValue: 100, description: `How many groups: at most ${MAX_GROUPS}.` })
  first?: number;
}

const period = (args: CampaignPeriodArgs) => ({
  from: args.from,
  to: args.to,
  range: args.range,
  timeZone: args.timezone ?? "UTC",
  attribution: args.attribution ?? Attribution.LAST_TOUCH,
  conversionWindowHours: args.conversionWindowHours ?? 24,
});

@Resolver()
export class CampaignStatsResolver {
  @Query(() => CampaignStatsType, { description: "Referral metrics per ref, campaign, channel, … and time bucket, under an attribution model." })
  campaignStats(@Args() args: CampaignStatsArgs, @Ctx() ctx: Context) {
    return ctx.services.campaignStats.stats(
      {
        ...period(args),
        groupBy: args.groupBy ?? [CampaignDimension.REF],
        interval: args.interval,
        filter: args.filter ?? {},
        orderBy: args.orderBy ?? DEFAULT_ORDER,
        first: args.first ?? 100,
      },
      ctx.now,
    );
  }

  @Query(() => CampaignType, { description: "One ref's metrics and daily series." })
  campaign(@Arg("ref") ref: string, @Args() args: CampaignPeriodArgs, @Ctx() ctx: Context) {
    return ctx.services.campaignStats.campaign(ref, period(args), ctx.now);
  }
}
