import { compareReferrals, ReferralPoint } from "./referral-order";

// Each referral's place in its chat's history, which README's attribution rules read, as a pure function over the
// chat's referrals and messages. Ingestion keeps it in the referral table (referral.ingest.ts); a property test holds
// the stored timelines to a recomputation from the stored referrals and messages.

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
