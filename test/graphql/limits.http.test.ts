import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiKeyService } from "../../src/auth/api-key.service";
import { messageEvent, referralEvent } from "../helpers/events";
import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  const events = Array.from({ length: 100 }, (_, i) => [
    referralEvent({ chat: { id: `many_${i}`, platform: i % 2 ? "instagram" : "facebook" }, ref: `first_${i}`, receivedAt: Date.now() - 3_600_000 - i }),
    referralEvent({ chat: `many_${i}`, ref: `latest_${i}`, receivedAt: Date.now() - i }),
    messageEvent({ chatId: `many_${i}`, postedAt: Date.now() - 7_200_000 }),
  ]).flat();
  for (let i = 0; i < events.length; i += 50) await Promise.all(events.slice(i, i + 50).map((e) => server.deliver(e)));
});
afterAll(() => server.close());

async function countQueries(query: string) {
  server.queries.count = 0;
  const { body } = await server.graphql(query);
  expect(body.errors).toBeUndefined();
  return { body, queries: server.queries.count };
}

test("a page of 100 chats with their latest referral and window takes a bounded number of SQL queries", async () => {
  const { body, queries } = await countQueries(`{ chats(first: 100) { totalCount edges { node { id platform
    metadata { referral { ref } } messagingWindow { isOpen openedBy }
    latestReferral { ref isNewChat platform chat { id } } firstReferral { ref isNewChat } } } } }`);
  expect(body.data.chats.edges).toHaveLength(100);
  expect(body.data.chats.edges.every((e: any) => e.node.latestReferral.ref.startsWith("latest_"))).toBe(true);
  // chats page, its count, referrals by key (first and latest share one batch), and chats for Referral.chat.
  expect(queries).toBeLessThanOrEqual(5);
});

test("adding each chat's referral history to that page adds a constant number of queries", async () => {
  const { body, queries } = await countQueries(`{ chats(first: 100) { edges { node { id
    referrals(first: 5) { totalCount edges { node { ref isNewChat platform } } } } } } }`);
  expect(body.data.chats.edges.every((e: any) => e.node.referrals.totalCount === 2)).toBe(true);
  expect(queries).toBeLessThanOrEqual(5);
});

test("a query nested deeper than 10 levels is refused with QUERY_TOO_COMPLEX before it runs", async () => {
  const deep = `{ chats { edges { node { referrals { edges { node { chat { referrals { edges { node { chat { id } } } } } } } } } } } }`;
  server.queries.count = 0;
  const { body } = await server.graphql(deep);
  expect(body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
  expect(body.errors[0].message).toMatch(/limit is 10/);
  expect(server.queries.count).toBe(0);
});

test("fragments count toward depth", async () => {
  const { body } = await server.graphql(`
    fragment R on Referral { chat { referrals { edges { node { chat { id } } } } } }
    { chats { edges { node { referrals { edges { node { ...R } } } } } } }`);
  expect(body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
});

/** A large campaignStats: hourly buckets over 90 days, 46 groups (99,406 rows, just under the 100,000 allowed). */
const largeStats = (alias: string) => `${alias}: campaignStats(range: LAST_90D, interval: HOUR, first: 46) { rows { key { ref bucket } metrics { referrals conversions } } }`;

test("dozens of aliases of a large campaignStats are refused with QUERY_TOO_COMPLEX, the message giving cost and limit", async () => {
  server.queries.count = 0;
  const { status, body } = await server.graphql(`{ ${Array.from({ length: 30 }, (_, i) => largeStats(`s${i}`)).join(" ")} }`);
  expect(status).toBe(400);
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
  expect(body.errors[0].message).toMatch(/^The query would cost 1\d{7} .*; the limit is 2500000\./);
  expect(body.errors[0].extensions.cost).toMatchObject({ requestedQueryCost: expect.any(Number), throttleStatus: { maximumAvailable: 10_000_000 } });
  expect(body.errors[0].extensions.cost.requestedQueryCost).toBeGreaterThan(2_500_000);
  expect(server.queries.count).toBe(0);
});

test("a 1 KB document whose fragments each spread the next one twice, 40 levels, is refused with QUERY_TOO_COMPLEX", async () => {
  // On the old depth walk this request froze the event loop.
  const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Chat { ...F${i + 1} ...F${i + 1} }`).join("\n");
  const { status, body } = await server.graphql(`${fragments}\nfragment F40 on Chat { id }\n{ chats { edges { node { ...F0 } } } }`);
  expect(status).toBe(400);
  expect(body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
  expect(body.errors[0].message).toMatch(/selects \d+ fields, fragments expanded; the limit is 500/);
});

test("10,000 aliases are refused with 400, not 500", async () => {
  const { status, body } = await server.graphql(`{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: __typename`).join(" ")} }`);
  expect(status).toBe(400);
  expect(body.errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
  expect(body.errors[0].message).toMatch(/Parsing aborted/);
});

test("a document of more tokens than GRAPHQL_MAX_TOKENS, or longer than GRAPHQL_MAX_DOCUMENT_LENGTH, is not parsed: 400", async () => {
  const tokens = await server.graphql(`{ chats(first: 1) { edges { node { ${"id ".repeat(2000)} } } } }`);
  expect(tokens.status).toBe(400);
  expect(tokens.body.errors[0].message).toMatch(/Document contains more th.. 2000 tokens/);
  const long = await server.graphql(`# ${"x".repeat(100_000)}\n{ chats { totalCount } }`);
  expect(long.status).toBe(400);
  expect(long.body.errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
  expect(long.body.errors[0].message).toMatch(/more than 100000/);
});

test("a body longer than any document allowed (100,000 characters) is refused with 413 before it is read", async () => {
  // 3 × 100,000 + 64 KiB: a 400,000-character document is over /graphql's body limit, though under the webhooks' 1 MiB.
  const { status, body } = await server.graphql(`# ${"x".repeat(400_000)}\n{ chats { totalCount } }`);
  expect(status).toBe(413);
  expect(body).toEqual({ error: expect.stringMatching(/over this route's limit of 365536 bytes/), code: "PAYLOAD_TOO_LARGE" });
});

test("every answer carries extensions.cost: the document's cost and the key's budget", async () => {
  const { body } = await server.graphql(`{ chats(first: 5) { totalCount edges { node { id } } } }`);
  expect(body.errors).toBeUndefined();
  const { requestedQueryCost, throttleStatus } = body.extensions.cost;
  expect(requestedQueryCost).toBe(3 + 5 * 2);
  expect(throttleStatus).toMatchObject({ maximumAvailable: 10_000_000, restoreRate: 50_000 });
  expect(throttleStatus.currentlyAvailable).toBeGreaterThan(10_000_000 - 3_000_000);
  expect(throttleStatus.currentlyAvailable).toBeLessThanOrEqual(10_000_000 - requestedQueryCost);
});

test("the README's example queries pass every limit, each answer giving its cost", async () => {
  const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
  const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(examples.length).toBeGreaterThanOrEqual(5);
  for (const query of examples) {
    const { status, body } = await server.graphql(query);
    // sendGreeting answers POSTPROXY_NOT_CONFIGURED in its field; the rest answer data.
    expect({ query, status, codes: (body.errors ?? []).map((e: any) => e.extensions.code) }).toEqual({
      query,
      status: 200,
      codes: query.includes("sendGreeting") ? ["POSTPROXY_NOT_CONFIGURED"] : [],
    });
    expect(body.extensions.cost.requestedQueryCost).toBeGreaterThan(0);
  }
});

test("a variable GraphQL cannot coerce is refused with 400 BAD_USER_INPUT naming it", async () => {
  const { status, body } = await server.graphql("query($first: Int) { chats(first: $first) { totalCount } }", { first: "ten" });
  expect(status).toBe(400);
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  expect(body.errors[0].message).toMatch(/^Variable "\$first" got invalid value "ten"/);
});

test("introspection is not limited by depth", async () => {
  const { body } = await server.graphql(`{ __schema { types { name fields { name type { ofType { ofType { ofType { name } } } } } } } }`);
  expect(body.errors).toBeUndefined();
});

describe("the per-key cost budget", () => {
  let small: TestServer;
  beforeAll(async () => {
    // Room for one CSV export of campaignStats (cost 2,102: 100 groups of 21 fields), and 898 more.
    small = await startServer({ GRAPHQL_MAX_COST: "3000", GRAPHQL_COST_BUDGET: "3000", GRAPHQL_COST_RESTORE_PER_SECOND: "1" });
  });
  afterAll(() => small.close());

  // 2 + 100 × 10
  const COSTING_1002 = "{ chats(first: 100) { edges { node { id platform profileId createdAt lastInboundAt participant { externalId name username } } } } }";
  const exportStats = (query = "") =>
    fetch(`${small.url}/exports/campaign-stats.csv?range=ALL${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });

  test("a spent budget answers 429 RATE_LIMITED with Retry-After, on GraphQL and on the CSV export", async () => {
    const first = await exportStats();
    expect(first.status).toBe(200);
    const response = await fetch(`${small.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: COSTING_1002 }),
    });
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    const body = (await response.json()) as any;
    expect(body.errors[0].extensions.code).toBe("RATE_LIMITED");
    expect(body.errors[0].message).toMatch(new RegExp(`The query costs 1002 and this key's budget holds \\d+ now, restoring 1 a second: retry in ${retryAfter} s\\.`));

    const again = await exportStats();
    expect(again.status).toBe(429);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await again.json()).toMatchObject({ code: "RATE_LIMITED" });
  });

  test("each key has its own budget", async () => {
    const reader = await new ApiKeyService(small.store.writer, small.store.reader, undefined).create("reader", "read", new Date());
    await exportStats();
    expect((await small.graphql(COSTING_1002)).status).toBe(429);
    const { status, body } = await small.graphql(COSTING_1002, undefined, reader);
    expect(status).toBe(200);
    expect(body.extensions.cost.throttleStatus.currentlyAvailable).toBe(3000 - 1002);
  });

  test("a CSV export over the cost limit answers 400 QUERY_TOO_COMPLEX as { error, code }", async () => {
    const response = await exportStats("&first=1000");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "QUERY_TOO_COMPLEX", error: expect.stringMatching(/the limit is 3000/) });
  });
});

describe("in production (introspection off)", () => {
  let production: TestServer;
  beforeAll(async () => {
    production = await startServer({ NODE_ENV: "production" });
  });
  afterAll(() => production.close());

  test("a misspelt field gets no \"Did you mean\" suggestion, and introspection is refused", async () => {
    const misspelt = await production.graphql("{ chatz { totalCount } }");
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.errors[0].message).not.toMatch(/Did you mean/);
    const introspection = await production.graphql("{ __schema { types { name } } }");
    expect(introspection.status).toBe(400);
    expect(introspection.body.errors[0].message).toMatch(/introspection/i);
  });
});
