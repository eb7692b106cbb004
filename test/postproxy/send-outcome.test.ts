import { retryAfterMs, sendOutcome } from "../../src/postproxy/send-outcome";

const NOW = Date.parse("2026-11-26T12:00:00Z");
const outcome = (status: number, body: unknown, retryAfter: string | null = null) =>
  sendOutcome(status, typeof body === "string" ? body : JSON.stringify(body), retryAfter, NOW);

describe("retryAfterMs", () => {
  test.each([
    ["7", 7_000],
    [" 0 ", 0],
    ["Thu, 26 Nov 2026 12:00:30 GMT", 30_000],
    ["Thu, 26 Nov 2026 11:59:00 GMT", 0],
    ["soon", null],
    ["-5", null],
    ["", null],
    [null, null],
  ])("%j → %j", (header, expected) => {
    expect(retryAfterMs(header, NOW)).toBe(expected);
  });
});

describe("sendOutcome", () => {
  test("202 with a Message is accepted, with its id and status", () => {
    expect(outcome(202, { id: "msg_1", status: "pending", body: "Hi" })).toEqual({ ok: true, message: { id: "msg_1", status: "pending" } });
  });

  test("a 2xx without a message id is a server error worth retrying (the Idempotency-Key makes a retry safe)", () => {
    expect(outcome(202, "")).toMatchObject({ ok: false, kind: "SERVER_ERROR", transient: true });
    expect(outcome(200, { status: "pending" })).toMatchObject({ ok: false, kind: "SERVER_ERROR", transient: true });
  });

  test.each([
    [401, { error: "Invalid API key" }, "UNAUTHORIZED", false, /Invalid API key.*POSTPROXY_API_KEY/],
    [404, { error: "Not found" }, "NOT_FOUND", false, /no such chat \(Not found\)/],
    [422, { errors: ["Outside the 24 hour window", "Body is too long"] }, "REJECTED", false, /422: Outside the 24 hour window; Body is too long/],
    [400, { status: 400, error: "Bad Request", message: "body is missing" }, "REJECTED", false, /400: body is missing/],
    [403, "<html>", "REJECTED", false, /403: no detail/],
    [409, { error: "in progress" }, "CONFLICT", true, /still in flight/],
    [429, { error: "Rate limit exceeded" }, "RATE_LIMITED", true, /Rate limit exceeded/],
    [500, "oops", "SERVER_ERROR", true, /500 \(no detail\)/],
    [503, { error: "down for maintenance" }, "SERVER_ERROR", true, /503 \(down for maintenance\)/],
  ])("%i → %s (transient: %s)", (status, body, kind, transient, error) => {
    const result = outcome(status, body);
    expect(result).toMatchObject({ ok: false, kind, transient, retryAfterMs: null });
    expect(result.ok === false && result.error).toMatch(error);
  });

  test("Retry-After is kept for the answers that are retried", () => {
    expect(outcome(429, {}, "12")).toMatchObject({ kind: "RATE_LIMITED", retryAfterMs: 12_000 });
    expect(outcome(503, {}, "Thu, 26 Nov 2026 12:01:00 GMT")).toMatchObject({ kind: "SERVER_ERROR", retryAfterMs: 60_000 });
    expect(outcome(409, {}, "1")).toMatchObject({ kind: "CONFLICT", retryAfterMs: 1_000 });
  });
});
