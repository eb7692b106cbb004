import fc from "fast-check";
import { mergeChat } from "../../src/chats/chat-state";
import { Chat } from "../../src/chats/chat.entity";
import { ChatFacts, IncomingReferral } from "../../src/webhooks/envelope";

const T0 = Date.parse("2026-08-20T09:00:00.000Z");
const MINUTE = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);

const referral = (ref: string, minutes: number, source = "SHORTLINKS"): IncomingReferral => ({
  eventId: `evt_${ref}_${minutes}`,
  chatId: "ch_1",
  ref,
  source,
  type: "OPEN_THREAD",
  receivedAt: at(minutes),
  adId: null,
  adsContext: null,
});

const fold = (facts: ChatFacts[]) => facts.reduce<Chat | null>((chat, fact) => mergeChat(chat, fact), null) as Chat;

describe("mergeChat", () => {
  test("a chat first known only by id gets its fields when the full chat object arrives", () => {
    const bare = mergeChat(null, { id: "ch_1", seenAt: at(0) });
    expect(bare).toMatchObject({ id: "ch_1", profileId: null, platform: null, participantExternalId: null, participantUsername: null, participantName: null });

    const full = mergeChat(bare, {
      id: "ch_1",
      profileId: "prof_1",
      platform: "instagram",
      participantExternalId: "1784",
      participantUsername: "jane_doe",
      participantName: "Jane Doe",
      seenAt: at(1),
    });
    expect(full).toMatchObject({
      id: "ch_1",
      profileId: "prof_1",
      platform: "instagram",
      participantExternalId: "1784",
      participantUsername: "jane_doe",
      participantName: "Jane Doe",
    });
  });

  test("a later event that names the chat only by id keeps the fields already known", () => {
    const full = mergeChat(null, { id: "ch_1", platform: "instagram", participantUsername: "jane_doe", seenAt: at(0) });
    expect(mergeChat(full, { id: "ch_1", seenAt: at(5) })).toMatchObject({ platform: "instagram", participantUsername: "jane_doe" });
  });

  test("a descriptive field takes the value that arrived last", () => {
    const before = mergeChat(null, { id: "ch_1", participantUsername: "jane_doe", seenAt: at(0) });
    expect(mergeChat(before, { id: "ch_1", participantUsername: "jane_renamed", seenAt: at(1) }).participantUsername).toBe("jane_renamed");
  });

  test("the current chat is not modified", () => {
    const current = mergeChat(null, { id: "ch_1", seenAt: at(0), referral: referral("summer", 0) });
    const snapshot = { ...current };
    mergeChat(current, { id: "ch_1", platform: "facebook", seenAt: at(5), referral: referral("winter", 5), inboundAt: at(6) });
    expect(current).toEqual(snapshot);
  });

  describe("referrals", () => {
    test("the first referral becomes both the latest and the first", () => {
      expect(mergeChat(null, { id: "ch_1", seenAt: at(0), referral: referral("summer", 0, "ADS") })).toMatchObject({
        referralRef: "summer",
        referralSource: "ADS",
        referralType: "OPEN_THREAD",
        referralReceivedAt: at(0),
        firstReferralRef: "summer",
        firstReferralAt: at(0),
      });
    });

    test("a newer referral replaces the latest and keeps the first", () => {
      const chat = fold([
        { id: "ch_1", seenAt: at(0), referral: referral("summer", 0) },
        { id: "ch_1", seenAt: at(10), referral: referral("winter", 10, "ADS") },
      ]);
      expect(chat).toMatchObject({ referralRef: "winter", referralSource: "ADS", referralReceivedAt: at(10), firstReferralRef: "summer", firstReferralAt: at(0) });
    });

    test("a late delivery of an older referral never replaces a newer one, but becomes the first when it is earliest", () => {
      const chat = fold([
        { id: "ch_1", seenAt: at(10), referral: referral("winter", 10, "ADS") },
        { id: "ch_1", seenAt: at(0), referral: referral("summer", 0, "SHORTLINKS") },
      ]);
      expect(chat).toMatchObject({
        referralRef: "winter",
        referralSource: "ADS",
        referralReceivedAt: at(10),
        firstReferralRef: "summer",
        firstReferralAt: at(0),
      });
    });

    test("a referral between the first and the latest changes neither", () => {
      const chat = fold([
        { id: "ch_1", seenAt: at(0), referral: referral("first", 0) },
        { id: "ch_1", seenAt: at(20), referral: referral("latest", 20) },
        { id: "ch_1", seenAt: at(10), referral: referral("middle", 10) },
      ]);
      expect(chat).toMatchObject({ referralRef: "latest", firstReferralRef: "first" });
    });

    test("of two referrals at the same instant the greater ref is latest and the lesser is first, in either order", () => {
      for (const order of [["alpha", "beta"], ["beta", "alpha"]]) {
        const chat = fold(order.map((ref) => ({ id: "ch_1", seenAt: at(0), referral: referral(ref, 0) })));
        expect(chat).toMatchObject({ referralRef: "beta", firstReferralRef: "alpha" });
      }
    });
  });

  describe("inbound messages", () => {
    test("firstInboundAt is the earliest and lastInboundAt the latest inbound message, whatever the arrival order", () => {
      const chat = fold([at(5), at(1), at(9), at(3)].map((inboundAt) => ({ id: "ch_1", seenAt: inboundAt, inboundAt })));
      expect(chat.firstInboundAt).toEqual(at(1));
      expect(chat.lastInboundAt).toEqual(at(9));
    });

    test("a chat with no inbound message has no inbound times", () => {
      const chat = mergeChat(null, { id: "ch_1", seenAt: at(0), referral: referral("summer", 0) });
      expect(chat.firstInboundAt).toBeNull();
      expect(chat.lastInboundAt).toBeNull();
    });
  });

  describe("createdAt", () => {
    test("is Postproxy's created_at when that is the earliest known time", () => {
      expect(mergeChat(null, { id: "ch_1", createdAt: at(-60), seenAt: at(0), referral: referral("summer", 0) }).createdAt).toEqual(at(-60));
    });

    test("is the earliest of the times seen, referrals and inbound messages when Postproxy's is not known", () => {
      const chat = fold([
        { id: "ch_1", seenAt: at(10), referral: referral("summer", 4) },
        { id: "ch_1", seenAt: at(8), inboundAt: at(2) },
        { id: "ch_1", seenAt: at(3) },
      ]);
      expect(chat.createdAt).toEqual(at(2));
    });

    test("moves earlier when an earlier time arrives later, and never later", () => {
      const chat = mergeChat(null, { id: "ch_1", seenAt: at(5) });
      expect(mergeChat(chat, { id: "ch_1", seenAt: at(1) }).createdAt).toEqual(at(1));
      expect(mergeChat(chat, { id: "ch_1", seenAt: at(9) }).createdAt).toEqual(at(5));
    });
  });

  describe("lastActivityAt", () => {
    test("is the latest referral when it is later than the last inbound message", () => {
      const chat = fold([
        { id: "ch_1", seenAt: at(0), inboundAt: at(0) },
        { id: "ch_1", seenAt: at(7), referral: referral("summer", 7) },
      ]);
      expect(chat.lastActivityAt).toEqual(at(7));
    });

    test("is the last inbound message when it is later than the latest referral", () => {
      const chat = fold([
        { id: "ch_1", seenAt: at(0), referral: referral("summer", 0) },
        { id: "ch_1", seenAt: at(12), inboundAt: at(12) },
      ]);
      expect(chat.lastActivityAt).toEqual(at(12));
    });

    test("is createdAt when there is neither a referral nor an inbound message", () => {
      const chat = fold([
        { id: "ch_1", seenAt: at(4) },
        { id: "ch_1", createdAt: at(-3), seenAt: at(6) },
      ]);
      expect(chat.lastActivityAt).toEqual(at(-3));
    });
  });

  test("folding the same facts in any order gives the same referrals, inbound times, createdAt and lastActivityAt", () => {
    // Few refs and minutes so that equal instants and equal refs happen often. Source and type follow from the ref:
    // the referral order (time, then ref) cannot tell apart two referrals with the same ref at the same instant.
    const referralArb = fc
      .record({ ref: fc.constantFrom("a", "b", "c_1", "C-2"), minute: fc.integer({ min: 0, max: 5 }) })
      .map(({ ref, minute }) => ({ ...referral(ref, minute, `SOURCE_${ref}`), type: `TYPE_${ref}` }));
    const factArb: fc.Arbitrary<ChatFacts> = fc.record(
      {
        id: fc.constant("ch_1"),
        seenAt: fc.integer({ min: 0, max: 10 }).map(at),
        createdAt: fc.integer({ min: -5, max: 10 }).map(at),
        referral: referralArb,
        inboundAt: fc.integer({ min: 0, max: 10 }).map(at),
      },
      { requiredKeys: ["id", "seenAt"] },
    );
    const listAndShuffle = fc
      .array(factArb, { minLength: 1, maxLength: 10 })
      .chain((facts) => fc.tuple(fc.constant(facts), fc.shuffledSubarray(facts, { minLength: facts.length })));
    const derived = (chat: Chat) => ({
      referralRef: chat.referralRef,
      referralSource: chat.referralSource,
      referralType: chat.referralType,
      referralReceivedAt: chat.referralReceivedAt,
      firstReferralRef: chat.firstReferralRef,
      firstReferralAt: chat.firstReferralAt,
      firstInboundAt: chat.firstInboundAt,
      lastInboundAt: chat.lastInboundAt,
      createdAt: chat.createdAt,
      lastActivityAt: chat.lastActivityAt,
    });

    fc.assert(
      fc.property(listAndShuffle, ([facts, shuffled]) => {
        expect(derived(fold(shuffled))).toEqual(derived(fold(facts)));
      }),
    );
  });
});
