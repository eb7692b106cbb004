import { referralTimelines } from "../../src/referrals/referral-timeline";

const T0 = Date.parse("2026-06-01T12:00:00.000Z");
const MIN = 60_000;
const HOUR = 3_600_000;
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
