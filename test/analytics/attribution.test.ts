import { attribute, Attribution, percentile } from "../../src/analytics/attribution";
import { referralTimelines, ReferralTimeline } from "../../src/referrals/referral-timeline";

const T0 = Date.parse("2026-06-01T12:00:00.000Z");
const MIN = 60_000;
const HOUR = 3_600_000;
const W = 24 * HOUR;
const point = (ref: string, at: number) => ({ ref, receivedAt: new Date(at) });

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
