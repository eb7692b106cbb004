import { getNullableType, getOperationAST, GraphQLSchema, isListType, isObjectType, parse } from "graphql";
import { loadConfig } from "../../src/config/config";
import { buildRefgraphSchema } from "../../src/graphql/schema";
import { boundOf, documentShape, operationCost, UNKNOWN_LIST } from "../../src/graphql/query-cost";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildRefgraphSchema();
});

const NOW = new Date("2026-06-01T12:00:00Z");
const costOf = (query: string, variables: Record<string, unknown> = {}) => {
  const document = parse(query);
  return operationCost(schema, document, getOperationAST(document)!, variables, NOW);
};

/** 1 KB: each fragment spreads the next one twice, `levels` deep, so the expansion has 2^levels fields. */
const fanOut = (levels: number) =>
  Array.from({ length: levels }, (_, i) => `fragment F${i} on Chat { ...F${i + 1} ...F${i + 1} }`).join("\n") +
  `\nfragment F${levels} on Chat { id }\n{ chats { edges { node { ...F0 } } } }`;

describe("documentShape", () => {
  test("measures a fragment fan-out of 40 levels once per fragment: 2^40 fields, depth 4", () => {
    expect(documentShape(parse(fanOut(40)))).toEqual({ depth: 4, fields: 3 + 2 ** 40 });
  });

  test("a fragment cycle ends (validation refuses it later)", () => {
    const shape = documentShape(parse("fragment A on Chat { id ...B } fragment B on Chat { platform ...A } { chat(id: 1) { ...A } }"));
    expect(shape.fields).toBe(3);
  });

  test("introspection fields add no depth but count as fields", () => {
    expect(documentShape(parse("{ __schema { types { fields { type { ofType { name } } } } } chats { totalCount } }"))).toEqual({ depth: 2, fields: 8 });
  });

  test("the deepest of several operations counts", () => {
    expect(documentShape(parse("query A { chats { totalCount } } query B { chats { edges { node { id } } } }")).depth).toBe(4);
  });
});

describe("operationCost", () => {
  test("each field costs 1; a connection's edges are paid `first` times, its totalCount once", () => {
    // chats + totalCount + edges, then 100 × (node + id)
    expect(costOf("{ chats(first: 100) { totalCount edges { node { id } } } }")).toBe(3 + 100 * 2);
  });

  test("a connection without `first` is paid at its default page of 20, and nested pages multiply", () => {
    expect(costOf("{ chats { edges { node { referrals(first: 5) { edges { node { ref } } } } } } }")).toBe(2 + 20 * (2 + 1 + 5 * 2));
  });

  test("`first` is read from the variables", () => {
    expect(costOf("query($n: Int) { chats(first: $n) { edges { node { id } } } }", { n: 7 })).toBe(2 + 7 * 2);
  });

  test("campaignStats' rows are paid groups × buckets times; totals once", () => {
    const query = `{ campaignStats(first: 10, interval: DAY, from: "2026-05-01T00:00:00Z", to: "2026-05-08T00:00:00Z") {
      totals { referrals } rows { key { bucket } metrics { referrals conversions } } } }`;
    // campaignStats + totals(2) + rows, then 70 × (key(2) + metrics(3))
    expect(costOf(query)).toBe(1 + 2 + 1 + 70 * 5);
  });

  test("campaignStats' buckets follow range, interval and timezone; without groupBy there is one group", () => {
    expect(costOf("{ campaignStats(range: LAST_7D, interval: HOUR, groupBy: []) { rows { key { bucket } } } }")).toBe(2 + 168 * 2);
    // 2026-03-29 has 23 hours in Berlin.
    expect(costOf(`{ campaignStats(first: 1, interval: HOUR, timezone: "Europe/Berlin", from: "2026-03-28T23:00:00Z", to: "2026-03-29T22:00:00Z") { rows { key { bucket } } } }`)).toBe(2 + 23 * 2);
  });

  test("a campaignStats answer is charged no more than the 100,000 rows the service allows", () => {
    expect(costOf("{ campaignStats(first: 1000, range: LAST_90D, interval: HOUR) { rows { key { bucket } } } }")).toBe(2 + 100_000 * 2);
  });

  test("campaign's daily series is paid once per day of the period", () => {
    // 30 days ending at noon overlap 31 days.
    expect(costOf(`{ campaign(ref: "x", range: LAST_30D) { ref daily { start metrics { referrals } } } }`)).toBe(3 + 31 * 3);
  });

  test("aliases add up, and a fragment spread twice is paid twice", () => {
    const one = costOf("{ chats(first: 10) { edges { node { id } } } }");
    expect(costOf("{ a: chats(first: 10) { edges { node { id } } } b: chats(first: 10) { edges { node { id } } } }")).toBe(2 * one);
    expect(costOf("fragment P on ChatConnection { edges { node { id } } } { chats(first: 10) { ...P ...P } }")).toBe(1 + 2 * (one - 1));
  });

  test("the largest CSV export of campaignStats (just under 100,000 rows, every key and metric field) is within GRAPHQL_MAX_COST's default", () => {
    const csv = `query($range: TimeRange, $interval: Interval, $first: Int) { campaignStats(range: $range, interval: $interval, first: $first) { rows {
      key { ref campaign channel variant source platform type bucket }
      metrics { referrals uniqueChats newChats returningChats conversions conversionRate silentReferrals medianSecondsToFirstMessage p90SecondsToFirstMessage greetingsSent greetingReplies } } } }`;
    const cost = costOf(csv, { range: "LAST_90D", interval: "HOUR", first: 46 });
    expect(cost).toBe(2 + 2160 * 46 * 21);
    expect(cost).toBeLessThanOrEqual(loadConfig({}).graphqlMaxCost);
    expect(2 * cost).toBeGreaterThan(loadConfig({}).graphqlMaxCost);
  });

  test("a fragment fan-out of 40 levels is costed once per fragment", () => {
    expect(costOf(fanOut(40))).toBe(2 + 20 * (1 + 2 ** 40));
  });

  test("every list field of the schema has a bound of its own", () => {
    const lists: string[] = [];
    const unbounded: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith("__")) continue;
      for (const field of Object.values(type.getFields())) {
        if (!isListType(getNullableType(field.type))) continue;
        lists.push(`${type.name}.${field.name}`);
        if (boundOf(type.name, field, {}, NOW) === UNKNOWN_LIST) unbounded.push(`${type.name}.${field.name}`);
      }
    }
    expect(lists).toEqual(expect.arrayContaining(["CampaignStats.rows", "Campaign.daily", "ParsedRef.tags", "Query.greetingRules", "ChatConnection.edges"]));
    expect(unbounded).toEqual([]);
  });
});
