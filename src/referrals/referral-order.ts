export interface ReferralPoint {
  ref: string;
  receivedAt: Date;
}

/** Chronological order of a chat's referrals; two at the same instant are ordered by ref so the result never depends on arrival. */
export function compareReferrals(a: ReferralPoint, b: ReferralPoint): number {
  const byTime = a.receivedAt.getTime() - b.receivedAt.getTime();
  if (byTime !== 0) return byTime;
  return a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
}

/**
 * A referral is a new chat's when it is the chat's first activity by time: the chat's earliest referral, with no
 * inbound message strictly before it (a referral carried inside the first message counts as new).
 */
export function isNewChat(referral: ReferralPoint, firstReferral: ReferralPoint, firstInboundAt: Date | null): boolean {
  return compareReferrals(referral, firstReferral) === 0 && (!firstInboundAt || firstInboundAt.getTime() >= referral.receivedAt.getTime());
}
