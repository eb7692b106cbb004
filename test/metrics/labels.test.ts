import { analyticsLagSeconds, routeLabel, statusClass } from "../../src/metrics/labels";

test("the route label is the route's pattern, and one label for every request no route matched", () => {
  expect(routeLabel("/exports/referrals.csv")).toBe("/exports/referrals.csv");
  expect(routeLabel("/graphql")).toBe("/graphql");
  expect(routeLabel(undefined)).toBe("unmatched");
});

test("statuses are labelled by class", () => {
  expect([200, 204, 301, 401, 404, 429, 500, 503].map(statusClass)).toEqual(["2xx", "2xx", "3xx", "4xx", "4xx", "4xx", "5xx", "5xx"]);
});

test("the analytics lag is 0 seconds when no referral waits, however long ago the copy caught up", () => {
  expect(analyticsLagSeconds(0, 1_000, 0, 1_000_000)).toBe(0);
  expect(analyticsLagSeconds(0, null, 0, 1_000_000)).toBe(0);
});

test("with referrals waiting, the lag is the time since the last catch-up began, or since start when there was none", () => {
  expect(analyticsLagSeconds(3, 10_000, 0, 12_500)).toBe(2.5);
  expect(analyticsLagSeconds(1, null, 4_000, 10_000)).toBe(6);
});

test("a clock that went back never makes the lag negative", () => {
  expect(analyticsLagSeconds(1, 10_000, 0, 9_000)).toBe(0);
});
