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

export interface ReferralDetails {
  source: string | null;
  type: string | null;
  adId: string | null;
  adsContext: string | null;
}

export const REFERRAL_DETAILS: readonly (keyof ReferralDetails)[] = ["source", "type", "adId", "adsContext"];

/** Two reports of one referral (same chat, ref and time): the first is kept, with the gaps filled from the second. */
export function fillReferral<T extends ReferralDetails>(first: T | undefined, second: T): T {
  if (!first) return second;
  const filled = { ...first };
  for (const detail of REFERRAL_DETAILS) filled[detail] ??= second[detail];
  return filled;
}

/** A referral's natural key (chat, ref, time) as one string, for maps. */
export const referralKey = (referral: { chatId: string; ref: string; receivedAt: Date }) =>
  `${referral.chatId}\u0000${referral.ref}\u0000${referral.receivedAt.getTime()}`;
