import { Chat } from "../../src/chats/chat.entity";
import { mergeChat } from "../../src/chats/chat-state";
import { parseKeyValueRef } from "../../src/referrals/ref-grammar";
import { referralKey } from "../../src/referrals/referral-order";
import { Referral } from "../../src/referrals/referral.entity";
import { planReferrals, StoredHistory } from "../../src/referrals/referral.ingest";
import { ChatFacts, IncomingReferral } from "../../src/webhooks/envelope";

// planReferrals, the pure core of keeping every referral with its timeline, on what the load phase read.

const T = Date.parse("2026-11-10T12:00:00Z");
const MINUTE = 60_000;

const incoming = (ref: string, at: number, details: Partial<IncomingReferral> = {}): IncomingReferral => ({
  eventId: `evt_${ref}_${at}`,
  chatId: "ch",
  ref,
  source: null,
  type: null,
  receivedAt: new Date(at),
  adId: null,
  adsContext: null,
  ...details,
});

const referralFact = (referral: IncomingReferral): ChatFacts => ({ id: "ch", seenAt: referral.receivedAt, referral });
const inboundFact = (at: number): ChatFacts => ({ id: "ch", seenAt: new Date(at), inboundAt: new Date(at) });

function stored(ref: string, at: number, timeline: Partial<Referral> = {}): Referral {
  return Object.assign(new Referral(), { id: at, ...incoming(ref, at), firstReplyAt: null, lastTouchReplyAt: null, isFirstTouch: false, isNewChat: false, ...timeline });
}

/** The chat as `facts` leave it, from `before`. */
const after = (before: Chat | undefined, facts: ChatFacts[]) => new Map([["ch", facts.reduce<Chat>((chat, fact) => mergeChat(chat, fact), before as Chat)]]);

function plan(facts: ChatFacts[], history: Partial<StoredHistory> & { before?: Chat } = {}) {
  const chats = new Map(history.before ? [["ch", history.before]] : []);
  return planReferrals({ referrals: history.referrals ?? new Map(), replies: history.replies ?? new Map(), chats }, facts, after(history.before, facts), parseKeyValueRef);
}

test("a second report of a stored referral fills the details the first lacked and keeps the rest", () => {
  const row = stored("bio", T, { source: "SHORTLINKS", isFirstTouch: true, isNewChat: true });
  const before = mergeChat(null, referralFact(incoming("bio", T)));
  const changes = plan([referralFact(incoming("bio", T, { source: "ADS", adId: "ad_1" }))], { before, referrals: new Map([["ch", [row]]]) });
  expect(changes.rows).toEqual([expect.objectContaining({ id: T, source: "SHORTLINKS", adId: "ad_1" })]);
});

test("a report that adds nothing writes nothing", () => {
  const row = stored("bio", T, { isFirstTouch: true, isNewChat: true });
  const before = mergeChat(null, referralFact(incoming("bio", T)));
  expect(plan([referralFact(incoming("bio", T))], { before, referrals: new Map([["ch", [row]]]) }).rows).toEqual([]);
});

test("a late referral takes its first reply from the stored message the load phase found", () => {
  const late = incoming("qr", T);
  const before = mergeChat(mergeChat(null, referralFact(incoming("bio", T - 10 * MINUTE))), inboundFact(T + 5 * MINUTE));
  const replied = stored("bio", T - 10 * MINUTE, { firstReplyAt: new Date(T + 5 * MINUTE), lastTouchReplyAt: new Date(T + 5 * MINUTE), isFirstTouch: true, isNewChat: true });
  const changes = plan([referralFact(late)], { before, referrals: new Map([["ch", [replied]]]), replies: new Map([[referralKey(late), T + 5 * MINUTE]]) });
  // The reply now follows the later referral: it is the last touch, and the first referral's last touch moves to it.
  expect(changes.rows).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ ref: "qr", firstReplyAt: new Date(T + 5 * MINUTE), lastTouchReplyAt: new Date(T + 5 * MINUTE), isFirstTouch: false }),
      expect.objectContaining({ ref: "bio", lastTouchReplyAt: null }),
    ]),
  );
  expect(changes.rows).toHaveLength(2);
});

test("an inbound message replies to every unanswered referral before it, and is the last touch of the latest only", () => {
  const before = mergeChat(mergeChat(null, referralFact(incoming("a", T))), referralFact(incoming("b", T + MINUTE)));
  const history = new Map([["ch", [stored("a", T, { isFirstTouch: true, isNewChat: true }), stored("b", T + MINUTE)]]]);
  const changes = plan([inboundFact(T + 2 * MINUTE)], { before, referrals: history });
  const byRef = Object.fromEntries(changes.rows.map((row) => [row.ref, row]));
  expect(byRef.a).toMatchObject({ firstReplyAt: new Date(T + 2 * MINUTE), lastTouchReplyAt: null });
  expect(byRef.b).toMatchObject({ firstReplyAt: new Date(T + 2 * MINUTE), lastTouchReplyAt: new Date(T + 2 * MINUTE) });
});
