import { messageEvent, referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

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

test("a query whose lists multiply past the cost limit is refused with QUERY_TOO_COMPLEX", async () => {
  const { body } = await server.graphql(`{ chats(first: 100) { edges { node { referrals(first: 100) { edges { node { ref source type receivedAt } } } } } } }`);
  expect(body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
  expect(body.errors[0].message).toMatch(/Ask for smaller pages/);
});

test("a variable GraphQL cannot coerce is refused with BAD_USER_INPUT naming it", async () => {
  const { body } = await server.graphql("query($first: Int) { chats(first: $first) { totalCount } }", { first: "ten" });
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  expect(body.errors[0].message).toMatch(/^Variable "\$first" got invalid value "ten"/);
});

test("introspection is not limited by depth", async () => {
  const { body } = await server.graphql(`{ __schema { types { name fields { name type { ofType { ofType { ofType { name } } } } } } } }`);
  expect(body.errors).toBeUndefined();
});
