import fc from "fast-check";
import { maySend, MESSAGING_WINDOW_MS, messagingWindowAt } from "../../src/chats/messaging-window";

const HOUR = 60 * 60 * 1000;
const T0 = Date.parse("2026-08-20T09:00:00.000Z");
const at = (millis: number) => new Date(millis);

describe("messagingWindowAt", () => {
  test("the window lasts 24 hours", () => {
    expect(MESSAGING_WINDOW_MS).toBe(24 * HOUR);
  });

  test("a chat with no referral and no inbound message has a closed window that never opened", () => {
    expect(messagingWindowAt(null, null, at(T0))).toEqual({ isOpen: false, expiresAt: null, openedBy: null });
  });

  test("a referral alone opens the window for 24 hours", () => {
    expect(messagingWindowAt(at(T0), null, at(T0 + HOUR))).toEqual({ isOpen: true, expiresAt: at(T0 + 24 * HOUR), openedBy: "REFERRAL" });
  });

  test("an inbound message alone opens the window for 24 hours", () => {
    expect(messagingWindowAt(null, at(T0), at(T0 + HOUR))).toEqual({ isOpen: true, expiresAt: at(T0 + 24 * HOUR), openedBy: "INBOUND_MESSAGE" });
  });

  test("an inbound message after the referral extends the window and is what opened it", () => {
    expect(messagingWindowAt(at(T0), at(T0 + 5 * HOUR), at(T0 + 25 * HOUR))).toEqual({
      isOpen: true,
      expiresAt: at(T0 + 29 * HOUR),
      openedBy: "INBOUND_MESSAGE",
    });
  });

  test("a referral after the last inbound message extends the window and is what opened it", () => {
    expect(messagingWindowAt(at(T0 + 5 * HOUR), at(T0), at(T0 + 25 * HOUR))).toEqual({
      isOpen: true,
      expiresAt: at(T0 + 29 * HOUR),
      openedBy: "REFERRAL",
    });
  });

  test("a referral and an inbound message at the same instant count as the inbound message", () => {
    expect(messagingWindowAt(at(T0), at(T0), at(T0))).toEqual({ isOpen: true, expiresAt: at(T0 + 24 * HOUR), openedBy: "INBOUND_MESSAGE" });
  });

  test("the window is open one millisecond before 24 hours and closed at exactly 24 hours", () => {
    expect(messagingWindowAt(at(T0), null, at(T0 + 24 * HOUR - 1)).isOpen).toBe(true);
    expect(messagingWindowAt(at(T0), null, at(T0 + 24 * HOUR))).toEqual({ isOpen: false, expiresAt: at(T0 + 24 * HOUR), openedBy: "REFERRAL" });
  });

  test("a window that closed long ago still reports when it closed and what opened it", () => {
    expect(messagingWindowAt(null, at(T0), at(T0 + 30 * 24 * HOUR))).toEqual({
      isOpen: false,
      expiresAt: at(T0 + 24 * HOUR),
      openedBy: "INBOUND_MESSAGE",
    });
  });

  test("the window is open exactly when now is before the later of the two times plus 24 hours", () => {
    const time = fc.option(fc.integer({ min: T0 - 30 * 24 * HOUR, max: T0 + 30 * 24 * HOUR }), { nil: null });
    fc.assert(
      fc.property(time, time, fc.integer({ min: T0 - 60 * 24 * HOUR, max: T0 + 60 * 24 * HOUR }), (referral, inbound, now) => {
        const window = messagingWindowAt(referral === null ? null : at(referral), inbound === null ? null : at(inbound), at(now));
        const times = [referral, inbound].filter((t): t is number => t !== null);
        if (times.length === 0) {
          expect(window).toEqual({ isOpen: false, expiresAt: null, openedBy: null });
          return;
        }
        const last = Math.max(...times);
        expect(window.isOpen).toBe(now < last + MESSAGING_WINDOW_MS);
        expect(window.expiresAt).toEqual(at(last + MESSAGING_WINDOW_MS));
        expect(window.openedBy).toBe(inbound !== null && inbound === last ? "INBOUND_MESSAGE" : "REFERRAL");
      }),
    );
  });
});

describe("maySend", () => {
  const NOW = new Date("2026-11-26T12:00:00Z");
  const ago = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000);

  test("inside the 24-hour window anyone may send, tagged or not", () => {
    expect(maySend(ago(2), null, false, NOW)).toEqual({ ok: true, expiresAt: ago(-22) });
    expect(maySend(null, ago(23), true, NOW)).toEqual({ ok: true, expiresAt: ago(-1) });
  });

  test("after it, only HUMAN_AGENT, and only until 7 days after the person's last message", () => {
    expect(maySend(ago(30), ago(25), false, NOW)).toEqual({ ok: false, expiresAt: ago(1) });
    expect(maySend(ago(30), ago(25), true, NOW)).toEqual({ ok: true, expiresAt: ago(1) });
    expect(maySend(null, ago(7 * 24 - 0.01), true, NOW).ok).toBe(true);
    expect(maySend(null, ago(7 * 24), true, NOW)).toEqual({ ok: false, expiresAt: ago(7 * 24 - 24) });
  });

  test("a referral alone opens no HUMAN_AGENT window: the tag answers a person's message", () => {
    expect(maySend(ago(48), null, true, NOW)).toEqual({ ok: false, expiresAt: ago(24) });
    expect(maySend(null, null, true, NOW)).toEqual({ ok: false, expiresAt: null });
  });
});
