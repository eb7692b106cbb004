import { ReferralTimeline } from "../referrals/referral-timeline";

// The attribution models and metrics README defines, as pure functions over each referral's timeline (its place in
// its chat's history, which ingestion keeps in the referral table: src/referrals/referral-timeline.ts).

export enum Attribution {
  LAST_TOUCH = "LAST_TOUCH",
  FIRST_TOUCH = "FIRST_TOUCH",
  ALL_TOUCH = "ALL_TOUCH",
}

export interface Touch {
  /** Whether the model counts this referral at all (FIRST_TOUCH counts only each chat's first). */
  counted: boolean;
  converted: boolean;
  /** For a conversion: from the referral to the first message that converted it. */
  secondsToFirstMessage: number | null;
}

/**
 * LAST_TOUCH: converts when an inbound message comes within the window and before the chat's next referral.
 * FIRST_TOUCH: only the chat's first referral counts; it converts on an inbound message within the window.
 * ALL_TOUCH: every referral converts on an inbound message within the window, even after a later referral.
 */
export function attribute(timeline: ReferralTimeline, model: Attribution, windowMs: number): Touch {
  const counted = model !== Attribution.FIRST_TOUCH || timeline.isFirstTouch;
  const reply = model === Attribution.LAST_TOUCH ? timeline.lastTouchReplyAt : timeline.firstReplyAt;
  const converted = counted && reply !== null && reply < timeline.receivedAt + windowMs;
  return { counted, converted, secondsToFirstMessage: converted && reply !== null ? (reply - timeline.receivedAt) / 1000 : null };
}

/**
 * Where the `percent`-th percentile of n ascending values lies, as percentile_cont defines it: between the values at
 * 0-based positions `below` and `above`, `fraction` of the way. Integer arithmetic, so SQL finds the same positions.
 */
export function percentilePosition(n: number, percent: number): { below: number; above: number; fraction: number } {
  const scaled = (n - 1) * percent;
  const below = Math.floor(scaled / 100);
  return { below, above: Math.ceil(scaled / 100), fraction: (scaled % 100) / 100 };
}

/** The percentile (0..100) of `count` ascending values, read through `valueAt`; null when there are none. */
export function percentile(count: number, percent: number, valueAt: (position: number) => number): number | null {
  if (count === 0) return null;
  const { below, above, fraction } = percentilePosition(count, percent);
  // Each valueAt may be a selection over all the values: ask for each position once.
  const low = valueAt(below);
  return above === below ? low : low + (valueAt(above) - low) * fraction;
}

/** What campaignStats reports for a set of counted referrals. */
export interface CampaignMetrics {
  referrals: number;
  uniqueChats: number;
  /** Chats with a new-chat referral in the set; the other chats are returning. */
  newChats: number;
  returningChats: number;
  conversions: number;
  /** conversions / referrals; null when there are no referrals. */
  conversionRate: number | null;
  /** Counted referrals that did not convert. */
  silentReferrals: number;
  medianSecondsToFirstMessage: number | null;
  p90SecondsToFirstMessage: number | null;
  /** PUBLISHED greetings of the counted referrals. */
  greetingsSent: number;
  /** Those of them answered by an inbound message within GREETING_REPLY_WINDOW_MS. */
  greetingReplies: number;
}

export type CampaignCounts = Pick<CampaignMetrics, "referrals" | "uniqueChats" | "newChats" | "conversions" | "greetingsSent" | "greetingReplies">;

/** How long after a greeting was sent an inbound message of its chat counts as a reply to it. */
export const GREETING_REPLY_WINDOW_MS = 24 * 3_600_000;

/** The metrics, from the counts and the ascending seconds to first message of the conversions. */
export function campaignMetrics(counts: CampaignCounts, secondsAt: (position: number) => number): CampaignMetrics {
  const { referrals, uniqueChats, newChats, conversions, greetingsSent, greetingReplies } = counts;
  const { conversionRate, silentReferrals } = countMetrics(counts);
  return {
    referrals,
    uniqueChats,
    newChats,
    returningChats: uniqueChats - newChats,
    conversions,
    conversionRate,
    silentReferrals,
    medianSecondsToFirstMessage: percentile(conversions, 50, secondsAt),
    p90SecondsToFirstMessage: percentile(conversions, 90, secondsAt),
    greetingsSent,
    greetingReplies,
  };
}

/** The metrics that follow from the counts alone, without unique chats or seconds to first message. */
export type CountMetrics = Pick<CampaignMetrics, "referrals" | "newChats" | "conversions" | "conversionRate" | "silentReferrals" | "greetingsSent" | "greetingReplies">;

const COUNT_METRICS: Record<keyof CountMetrics, true> = {
  referrals: true,
  newChats: true,
  conversions: true,
  conversionRate: true,
  silentReferrals: true,
  greetingsSent: true,
  greetingReplies: true,
};

/** Whether a metric follows from the counts alone, so that ordering by it needs no more. */
export function isCountMetric(metric: keyof CampaignMetrics): metric is keyof CountMetrics {
  return metric in COUNT_METRICS;
}

export function countMetrics(counts: Omit<CampaignCounts, "uniqueChats">): CountMetrics {
  const { referrals, newChats, conversions, greetingsSent, greetingReplies } = counts;
  return {
    referrals,
    newChats,
    conversions,
    conversionRate: referrals === 0 ? null : conversions / referrals,
    silentReferrals: referrals - conversions,
    greetingsSent,
    greetingReplies,
  };
}
