import { attribute, Attribution, percentile, referralTimelines, ReferralTimeline } from "../../src/analytics/attribution";

const T0 = Date.parse("2026-06-01T12:00:00.000Z");
const MIN = 60_000;
const HOUR = 3_600_000;
const W = 24 * HOUR;
const point = (ref: string, at: number) => ({ ref, receivedAt: new Date(at) });

describe("referralTimelines", () => {
  test("orders a chat's referrals by time, whatever order they are given in", () => {
    const [late, early] = referralTimelines([point("b", T0 + HOUR), point("a", T0)], []);
    expect(early).toEqual({ receivedAt: T0, firstReplyAt: null, lastTouchReplyAt: null, isFirstTouch: true, isNewChat: true });
    expect(late).toEqual({ receivedAt: T0 + HOUR, firstReplyAt: null, lastTouchReplyAt: null, isFirstTouch: false, isNewChat: false });
  });

  test("the reply LAST_TOUCH credits is the first reply, if it came before the chat's next referral", () => {
    const [bio, ad] = referralTimelines([point("bio", T0), point("ad", T0 + HOUR)], [T0 + 2 * HOUR]);
    expect(bio).toMatchObject({ firstReplyAt: T0 + 2 * HOUR, lastTouchReplyAt: null });
    expect(ad).toMatchObject({ firstReplyAt: T0 + 2 * HOUR, lastTouchReplyAt: T0 + 2 * HOUR });
    const [early] = referralTimelines([point("bio", T0), point("ad", T0 + HOUR)], [T0 + HOUR - 1]);
    expect(early.lastTouchReplyAt).toBe(T0 + HOUR - 1);
  });

  test("replies already known per referral and the chat's first inbound time give the same timelines as the whole history", () => {
    const referrals = [point("a", T0), point("b", T0 + HOUR)];
    const whole = referralTimelines(referrals, [T0 - MIN, T0 + 30 * MIN, T0 + 3 * HOUR]);
    // Stored: the messages at T0 - 1 min and T0 + 3 h; new in this batch: T0 + 30 min.
    const known = [{ ...referrals[0], replyAt: T0 + 3 * HOUR }, { ...referrals[1], replyAt: T0 + 3 * HOUR }];
    expect(referralTimelines(known, [T0 + 30 * MIN], T0 - MIN)).toEqual(whole);
  });

  test("the first reply is the first inbound message at or after the referral", () => {
    const [r] = referralTimelines([point("a", T0)], [T0 - MIN, T0 + 5 * MIN, T0 + 2 * MIN]);
    expect(r.firstReplyAt).toBe(T0 + 2 * MIN);
    expect(referralTimelines([point("a", T0)], [T0])[0].firstReplyAt).toBe(T0);
  });

  test("a referral carried inside the first message (same instant) is a new chat", () => {
    expect(referralTimelines([point("summer", T0)], [T0])[0].isNewChat).toBe(true);
  });

  test("an inbound message strictly before the first referral makes it a returning chat", () => {
    const [r] = referralTimelines([point("summer", T0)], [T0 - 1]);
    expect(r).toMatchObject({ isFirstTouch: true, isNewChat: false });
  });

  test("of two referrals at the same instant, the one first by ref comes first", () => {
    const [beta, alpha] = referralTimelines([point("beta", T0), point("alpha", T0)], []);
    expect(alpha).toMatchObject({ isFirstTouch: true, isNewChat: true });
    expect(beta).toMatchObject({ isFirstTouch: false, isNewChat: false });
    // A reply at that instant belongs to beta under LAST_TOUCH: alpha's next referral came at the same time.
    const [b, a] = referralTimelines([point("beta", T0), point("alpha", T0)], [T0]);
    expect([a.lastTouchReplyAt, b.lastTouchReplyAt]).toEqual([null, T0]);
  });
});

const timeline = (over: Partial<ReferralTimeline>): ReferralTimeline => ({
  receivedAt: T0,
  firstReplyAt: null,
  lastTouchReplyAt: over.firstReplyAt ?? null,
  isFirstTouch: true,
  isNewChat: true,
  ...over,
});

describe("attribute", () => {
  const models = Object.values(Attribution);

  test.each(models)("%s: a reply inside the window converts, with the time to it", (model) => {
    expect(attribute(timeline({ firstReplyAt: T0 + 90_000 }), model, W)).toEqual({ counted: true, converted: true, secondsToFirstMessage: 90 });
  });

  test.each(models)("%s: the window is half-open: a reply at receivedAt converts, one at receivedAt + W does not", (model) => {
    expect(attribute(timeline({ firstReplyAt: T0 }), model, W)).toMatchObject({ converted: true, secondsToFirstMessage: 0 });
    expect(attribute(timeline({ firstReplyAt: T0 + W }), model, W)).toEqual({ counted: true, converted: false, secondsToFirstMessage: null });
    expect(attribute(timeline({ firstReplyAt: T0 + W - 1 }), model, W).converted).toBe(true);
  });

  test.each(models)("%s: no reply is a silent referral", (model) => {
    expect(attribute(timeline({}), model, W)).toEqual({ counted: true, converted: false, secondsToFirstMessage: null });
  });

  test("the window is the argument: a reply after 2 h converts within 3 h, not within 1 h", () => {
    const t = timeline({ firstReplyAt: T0 + 2 * HOUR });
    expect(attribute(t, Attribution.LAST_TOUCH, 3 * HOUR).converted).toBe(true);
    expect(attribute(t, Attribution.LAST_TOUCH, 1 * HOUR).converted).toBe(false);
  });

  test("LAST_TOUCH: a reply after the chat's next referral belongs to that referral, not this one", () => {
    const t = timeline({ firstReplyAt: T0 + 2 * HOUR, lastTouchReplyAt: null });
    expect(attribute(t, Attribution.LAST_TOUCH, W)).toEqual({ counted: true, converted: false, secondsToFirstMessage: null });
    expect(attribute({ ...t, lastTouchReplyAt: T0 + 2 * HOUR }, Attribution.LAST_TOUCH, W).converted).toBe(true);
  });

  test("ALL_TOUCH: a reply after a later referral still converts the earlier one", () => {
    const t = timeline({ firstReplyAt: T0 + 2 * HOUR, lastTouchReplyAt: null, isFirstTouch: false });
    expect(attribute(t, Attribution.ALL_TOUCH, W)).toEqual({ counted: true, converted: true, secondsToFirstMessage: 7200 });
  });

  test("FIRST_TOUCH: only the chat's first referral counts; a later one counts in no metric", () => {
    const first = timeline({ firstReplyAt: T0 + 2 * HOUR, lastTouchReplyAt: null });
    expect(attribute(first, Attribution.FIRST_TOUCH, W)).toEqual({ counted: true, converted: true, secondsToFirstMessage: 7200 });
    const later = timeline({ receivedAt: T0 + HOUR, firstReplyAt: T0 + 2 * HOUR, isFirstTouch: false, isNewChat: false });
    expect(attribute(later, Attribution.FIRST_TOUCH, W)).toEqual({ counted: false, converted: false, secondsToFirstMessage: null });
  });

  test("the three models on one chat: bio link, then an ad, then a message", () => {
    // The person came through the bio link, an hour later through an ad, and wrote 30 minutes after the ad.
    const [bio, ad] = referralTimelines([point("bio", T0), point("ad", T0 + HOUR)], [T0 + 90 * MIN]);
    const converted = (model: Attribution) => [bio, ad].map((t) => attribute(t, model, W).converted);
    expect(converted(Attribution.LAST_TOUCH)).toEqual([false, true]);
    expect(converted(Attribution.FIRST_TOUCH)).toEqual([true, false]);
    expect(converted(Attribution.ALL_TOUCH)).toEqual([true, true]);
  });
});

const quantile = (sorted: number[], percent: number) => percentile(sorted.length, percent, (i) => sorted[i]);

describe("percentile", () => {
  test("interpolates between neighbours, like PostgreSQL's percentile_cont", () => {
    expect(quantile([], 50)).toBeNull();
    expect(quantile([7], 90)).toBe(7);
    expect(quantile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(quantile([1, 2, 3], 50)).toBe(2);
    expect(quantile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBe(90);
    expect(quantile([10, 20], 90)).toBe(19);
  });
});
