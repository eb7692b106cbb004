import { ChatFacts } from "../webhooks/envelope";
import { compareReferrals, ReferralPoint } from "../referrals/referral-order";
import { Chat } from "./chat.entity";

export const earliest = (...times: (Date | null | undefined)[]) => pick(times, (a, b) => a < b);
export const latest = (...times: (Date | null | undefined)[]) => pick(times, (a, b) => a > b);
function pick(times: (Date | null | undefined)[], better: (a: number, b: number) => boolean): Date | null {
  return times.reduce<Date | null>((best, time) => (time && (!best || better(time.getTime(), best.getTime())) ? time : best), null);
}

/**
 * Folds one event's facts into a chat. Every derived field is a min or max over what has been seen, so any
 * arrival order gives the same chat; descriptive fields (names, platform) take the value that arrived last.
 */
export function mergeChat(current: Chat | null, facts: ChatFacts): Chat {
  const chat: Chat = Object.assign(new Chat(), current ?? blankChat(facts.id));
  for (const field of ["profileId", "platform", "participantExternalId", "participantUsername", "participantName"] as const) {
    chat[field] = facts[field] ?? chat[field] ?? null;
  }
  const referral = facts.referral;
  if (referral) {
    const current = point(chat.referralRef, chat.referralReceivedAt);
    const order = current ? compareReferrals(referral, current) : 1;
    if (order > 0) {
      chat.referralRef = referral.ref;
      chat.referralSource = referral.source;
      chat.referralType = referral.type;
      chat.referralReceivedAt = referral.receivedAt;
    } else if (order === 0) {
      // The same referral reported again (in a message, say): fill what the first report lacked, as the history does.
      chat.referralSource ??= referral.source;
      chat.referralType ??= referral.type;
    }
    const first = point(chat.firstReferralRef, chat.firstReferralAt);
    if (!first || compareReferrals(referral, first) < 0) {
      chat.firstReferralRef = referral.ref;
      chat.firstReferralAt = referral.receivedAt;
    }
  }
  chat.firstInboundAt = earliest(chat.firstInboundAt, facts.inboundAt);
  chat.lastInboundAt = latest(chat.lastInboundAt, facts.inboundAt);
  chat.createdAt = earliest(chat.createdAt, facts.createdAt, facts.seenAt, referral?.receivedAt, facts.inboundAt) as Date;
  chat.lastActivityAt = latest(chat.referralReceivedAt, chat.lastInboundAt) ?? chat.createdAt;
  return chat;
}

function blankChat(id: string): Partial<Chat> {
  return {
    id,
    referralRef: null,
    referralSource: null,
    referralType: null,
    referralReceivedAt: null,
    firstReferralRef: null,
    firstReferralAt: null,
    firstInboundAt: null,
    lastInboundAt: null,
  };
}

function point(ref: string | null | undefined, receivedAt: Date | null | undefined): ReferralPoint | null {
  return ref && receivedAt ? { ref, receivedAt } : null;
}
