import { signatureHeader } from "../../src/webhooks/signature";
import { referralEvent } from "../helpers/events";
import { sampleValue, scrape } from "../helpers/metrics";
import { ADMIN_KEY, SECRET, startServer, TestServer } from "../helpers/server";

// GET /metrics on the main port, read as Prometheus reads it.

let clock = Date.now();
let server: TestServer;

beforeAll(async () => {
  server = await startServer({}, { now: () => new Date(clock) });
});
afterAll(() => server.close());

const metricsText = async () => {
  const { status, text } = await scrape(server.url, ADMIN_KEY);
  expect(status).toBe(200);
  return text;
};
const deliveries = (text: string, status: string, inboxStatus: string, duplicate: string) =>
  sampleValue(text, "refgraph_webhook_deliveries_total", { status, inbox_status: inboxStatus, duplicate });
const catchUp = async () => {
  const { body } = await server.graphql(`{ campaignStats(range: LAST_24H) { totals { referrals } } }`);
  expect(body.errors).toBeUndefined();
};

test("/metrics without a key, or with an unknown one, answers 401 UNAUTHENTICATED", async () => {
  for (const key of [undefined, "rg_not-a-real-key"]) {
    const { status, text } = await scrape(server.url, key);
    expect(status).toBe(401);
    expect(JSON.parse(text)).toMatchObject({ code: "UNAUTHENTICATED" });
  }
});

test("with a valid key it answers 200 in Prometheus's text format, with the process metrics", async () => {
  const { status, contentType, text } = await scrape(server.url, ADMIN_KEY);
  expect(status).toBe(200);
  expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(text).toContain("# TYPE refgraph_webhook_deliveries_total counter");
  expect(text).toContain("# TYPE refgraph_ingest_commit_seconds histogram");
  expect(sampleValue(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
  expect(sampleValue(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
});

test("deliveries count by HTTP status, inbox status and duplicate, and each stored one moves the batch histograms", async () => {
  const before = await metricsText();
  const event = referralEvent({ chat: "ch_counted", ref: "counted" });
  expect((await server.deliver(event)).body).toMatchObject({ status: "PROCESSED", duplicate: false });
  expect((await server.deliver(event)).body).toMatchObject({ status: "PROCESSED", duplicate: true });
  const malformed = "{not json";
  expect((await server.postRaw(malformed, { "x-postproxy-signature": signatureHeader(SECRET, malformed, Math.floor(Date.now() / 1000)) })).status).toBe(400);
  expect((await server.deliver(event, { "x-postproxy-signature": "t=1,v1=00" })).status).toBe(401);
  const after = await metricsText();

  const moved = (read: (text: string) => number) => read(after) - read(before);
  expect(moved((text) => deliveries(text, "200", "PROCESSED", "false"))).toBe(1);
  expect(moved((text) => deliveries(text, "200", "PROCESSED", "true"))).toBe(1);
  expect(moved((text) => deliveries(text, "400", "none", "false"))).toBe(1);
  expect(moved((text) => deliveries(text, "401", "none", "false"))).toBe(1);
  expect(moved((text) => sampleValue(text, "refgraph_webhook_deliveries_total"))).toBe(4);
  // One delivery at a time: two batches of one.
  expect(moved((text) => sampleValue(text, "refgraph_ingest_batch_size_count"))).toBe(2);
  expect(moved((text) => sampleValue(text, "refgraph_ingest_batch_size_sum"))).toBe(2);
  expect(moved((text) => sampleValue(text, "refgraph_ingest_commit_seconds_count", { outcome: "committed" }))).toBe(2);
  expect(sampleValue(after, "refgraph_ingest_commit_seconds_count", { outcome: "failed" })).toBe(0);
});

test("concurrent deliveries share batches: the batch histogram counts every delivery once in its sum", async () => {
  const before = await metricsText();
  const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => server.deliver(referralEvent({ chat: `ch_burst_${i}`, ref: "burst" }))));
  expect(answers.map((answer) => answer.status)).toEqual(Array(16).fill(200));
  const after = await metricsText();
  expect(sampleValue(after, "refgraph_ingest_batch_size_sum") - sampleValue(before, "refgraph_ingest_batch_size_sum")).toBe(16);
  const batches = sampleValue(after, "refgraph_ingest_batch_size_count") - sampleValue(before, "refgraph_ingest_batch_size_count");
  expect(batches).toBeGreaterThanOrEqual(1);
  expect(batches).toBeLessThanOrEqual(16);
});

test("request durations are labelled by route pattern, never by the path a client sent", async () => {
  await catchUp();
  expect((await fetch(`${server.url}/no/such/path-12345`)).status).toBe(404);
  expect((await fetch(`${server.url}/exports/referrals.csv?x=1`)).status).toBe(401);
  const text = await metricsText();
  const count = (labels: Record<string, string>) => sampleValue(text, "refgraph_http_request_duration_seconds_count", labels);
  expect(count({ route: "/graphql", method: "POST", status_class: "2xx" })).toBeGreaterThanOrEqual(1);
  expect(count({ route: "/webhooks/postproxy", method: "POST", status_class: "2xx" })).toBeGreaterThanOrEqual(1);
  expect(count({ route: "/exports/referrals.csv", method: "GET", status_class: "4xx" })).toBe(1);
  expect(count({ route: "unmatched", method: "GET", status_class: "4xx" })).toBeGreaterThanOrEqual(1);
  expect(text).not.toContain("path-12345");
  expect(text).not.toContain("x=1");
});

test("the outbox depth counts queued greetings by status, with the age of the oldest QUEUED one", async () => {
  const rule = await server.graphql(`mutation($input: CreateGreetingRuleInput!) { createGreetingRule(input: $input) { id } }`, {
    input: { name: "Welcome", refPattern: "welcome_*", trigger: "ON_REFERRAL", body: "Hi!" },
  });
  expect(rule.body.errors).toBeUndefined();
  const queuedAt = clock;
  for (const chat of ["ch_welcome_1", "ch_welcome_2"]) {
    expect((await server.deliver(referralEvent({ chat, ref: "welcome_spring", receivedAt: queuedAt }))).body.status).toBe("PROCESSED");
  }
  // The worker's next turn is an hour away (startServer), so both wait QUEUED.
  clock = queuedAt + 90_000;
  const text = await metricsText();
  expect(sampleValue(text, "refgraph_greeting_outbox_depth", { status: "QUEUED" })).toBe(2);
  expect(sampleValue(text, "refgraph_greeting_outbox_depth", { status: "PUBLISHED" })).toBe(0);
  expect(sampleValue(text, "refgraph_greeting_oldest_queued_age_seconds")).toBe(90);
});

test("referrals not yet in the analytics copy show as lag, which returns to 0 once campaignStats catches up", async () => {
  await catchUp();
  let text = await metricsText();
  expect(sampleValue(text, "refgraph_analytics_lag_referrals")).toBe(0);
  expect(sampleValue(text, "refgraph_analytics_lag_seconds")).toBe(0);

  const caughtUpAt = clock;
  for (const chat of ["ch_lag_1", "ch_lag_2"]) expect((await server.deliver(referralEvent({ chat, ref: "lagging" }))).status).toBe(200);
  clock = caughtUpAt + 30_000;
  text = await metricsText();
  expect(sampleValue(text, "refgraph_analytics_lag_referrals")).toBe(2);
  expect(sampleValue(text, "refgraph_analytics_lag_seconds")).toBe(30);

  await catchUp();
  text = await metricsText();
  expect(sampleValue(text, "refgraph_analytics_lag_referrals")).toBe(0);
  expect(sampleValue(text, "refgraph_analytics_lag_seconds")).toBe(0);
});
