import { compareReferrals, ReferralPoint } from "../referrals/referral-order";

// The definitions README states, as pure functions over one chat's history. Ingestion keeps each referral's
// timeline in the referral table with referralTimelines (src/referrals/referral-history.ts); a property test holds
// the stored timelines to a recomputation from the stored referrals and messages.

export enum Attribution {
  LAST_TOUCH = "LAST_TOUCH",
  FIRST_TOUCH = "FIRST_TOUCH",
  ALL_TOUCH = "ALL_TOUCH",
}

/** What a referral's place in its chat's history says, independent of any model or window. */
export interface ReferralTimeline {
  receivedAt: number;
  /** The chat's first inbound message at or after the referral. */
  firstReplyAt: number | null;
  /** That message, if it came before the chat's next referral (in time, then ref order): what LAST_TOUCH credits. */
  lastTouchReplyAt: number | null;
  /** The chat's first-ever referral. */
  isFirstTouch: boolean;
  /** The chat's first activity: its first referral, with no inbound message strictly before it. */
  isNewChat: boolean;
}

export interface HistoryReferral extends ReferralPoint {
  /** The first inbound message at or after the referral among those not in `inboundAt`, when already known. */
  replyAt?: number | null;
}

/**
 * The timeline of each of one chat's referrals (in the order given), from the chat's referrals and inbound message
 * times. Ingestion passes only the batch's new messages, with each referral's reply among the stored ones and the
 * chat's first inbound time over all of them; the result is the same as from the whole history.
 */
export function referralTimelines(referrals: HistoryReferral[], inboundAt: number[], firstInboundAt = Math.min(...inboundAt)): ReferralTimeline[] {
  const ordered = [...referrals].sort(compareReferrals);
  const positions = new Map(ordered.map((referral, i) => [referral, i]));
  const replyAfter = (referral: HistoryReferral) => {
    const at = referral.receivedAt.getTime();
    const replies = [referral.replyAt ?? Infinity, ...inboundAt.filter((t) => t >= at)];
    const first = Math.min(...replies);
    return first === Infinity ? null : first;
  };
  return referrals.map((referral) => {
    const at = referral.receivedAt.getTime();
    const position = positions.get(referral) as number;
    const next = ordered[position + 1]?.receivedAt.getTime() ?? Infinity;
    const firstReplyAt = replyAfter(referral);
    return {
      receivedAt: at,
      firstReplyAt,
      lastTouchReplyAt: firstReplyAt !== null && firstReplyAt < next ? firstReplyAt : null,
      isFirstTouch: position === 0,
      isNewChat: position === 0 && !(firstInboundAt < at),
    };
  });
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

/** The p-quantile (0..1) of ascending values, interpolating linearly between neighbours; null when there are none. */
export function quantile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * p;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}
