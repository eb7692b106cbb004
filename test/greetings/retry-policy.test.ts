import { GreetingStatus } from "../../src/greetings/greeting.entity";
import { afterAttempt, MAX_ATTEMPTS, retryDelayMs, sendsPaused, sendsPausedUntil } from "../../src/greetings/retry-policy";
import { sendFailure } from "../../src/postproxy/send-outcome";

const NOW = new Date("2026-11-26T12:00:00Z");
const later = (ms: number) => new Date(NOW.getTime() + ms);

test("retries wait 30 s, doubling up to an hour, and at least what Retry-After asked", () => {
  expect([1, 2, 3, 4, 7, 8, 20].map((attempts) => retryDelayMs(attempts, null))).toEqual([30_000, 60_000, 120_000, 240_000, 1_920_000, 3_600_000, 3_600_000]);
  expect(retryDelayMs(1, 90_000)).toBe(90_000);
  expect(retryDelayMs(3, 1_000)).toBe(120_000);
});

test("accepted: PENDING with Postproxy's message id and the time it was sent", () => {
  expect(afterAttempt({ ok: true, message: { id: "msg_1", status: "pending" } }, 1, NOW)).toEqual({
    status: GreetingStatus.PENDING,
    error: null,
    postproxyMessageId: "msg_1",
    sentAt: NOW,
    nextAttemptAt: null,
  });
});

test("refused for good (401, 404, 422): FAILED with the reason, no retry", () => {
  for (const kind of ["UNAUTHORIZED", "NOT_FOUND", "REJECTED"] as const)
    expect(afterAttempt(sendFailure(kind, `no: ${kind}`), 1, NOW)).toEqual({ status: GreetingStatus.FAILED, error: `no: ${kind}`, postproxyMessageId: null, sentAt: null, nextAttemptAt: null });
});

test("a transient failure queues the greeting again after the backoff, until the attempts run out", () => {
  for (const kind of ["CONFLICT", "RATE_LIMITED", "SERVER_ERROR", "TIMEOUT", "CONNECTION_FAILED"] as const) {
    expect(afterAttempt(sendFailure(kind, "later"), 2, NOW)).toEqual({ status: GreetingStatus.QUEUED, error: "later", postproxyMessageId: null, sentAt: null, nextAttemptAt: later(60_000) });
    expect(afterAttempt(sendFailure(kind, "later"), MAX_ATTEMPTS, NOW)).toMatchObject({ status: GreetingStatus.FAILED, error: `gave up after ${MAX_ATTEMPTS} attempts: later` });
  }
  expect(afterAttempt(sendFailure("RATE_LIMITED", "slow down", 600_000), 1, NOW).nextAttemptAt).toEqual(later(600_000));
});

test("a 429 pauses sends for what Retry-After asked, 10 s when it did not say, and at most an hour", () => {
  expect(sendsPausedUntil(NOW, 45_000)).toEqual(later(45_000));
  expect(sendsPausedUntil(NOW, 0)).toEqual(NOW);
  expect(sendsPausedUntil(NOW, null)).toEqual(later(10_000));
  expect(sendsPausedUntil(NOW, 24 * 3_600_000)).toEqual(later(3_600_000));
});

test("sends are paused until the pause ends, not at its end, and never without one", () => {
  expect(sendsPaused(NOW, null)).toBe(false);
  expect(sendsPaused(NOW, later(1))).toBe(true);
  expect(sendsPaused(NOW, NOW)).toBe(false);
  expect(sendsPaused(later(1), NOW)).toBe(false);
});
