import { referralEvent } from "../helpers/events";
import { startServer, TestServer } from "../helpers/server";

let server: TestServer;
const base = Date.parse("2026-11-01T00:00:00Z");

beforeAll(async () => {
  server = await startServer();
  // 45 chats, and a chat with 25 referrals of which 5 share one instant.
  await Promise.all(Array.from({ length: 45 }, (_, i) => server.deliver(referralEvent({ chat: `page_${i}`, ref: `r${i}`, receivedAt: base + i * 60_000 }))));
  await Promise.all(
    Array.from({ length: 25 }, (_, i) => server.deliver(referralEvent({ chat: "busy", ref: `busy_${i}`, receivedAt: base - (i < 5 ? 0 : i) * 1000 }))),
  );
});
afterAll(() => server.close());

async function walk(field: string, first: number, args = "") {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const { body } = await server.graphql(
      `query($after: String) { ${field}(first: ${first}, after: $after ${args}) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`,
      { after },
    );
    const page = body.data[field];
    seen.push(...page.edges.map((e: any) => e.node.id));
    if (!page.pageInfo.hasNextPage) return { seen, totalCount: page.totalCount };
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
    after = page.pageInfo.endCursor;
  }
}

test("walking every page of chats visits each chat once, in order", async () => {
  const { seen, totalCount } = await walk("chats", 7);
  expect(totalCount).toBe(46);
  expect(new Set(seen).size).toBe(46);
  expect(seen.slice(0, 3)).toEqual(["page_44", "page_43", "page_42"]);
});

test("walking a referral list with equal timestamps neither skips nor repeats", async () => {
  const { seen, totalCount } = await walk("referrals", 4, `, filter: { chatId: "busy" }`);
  expect(totalCount).toBe(25);
  expect(new Set(seen).size).toBe(25);
});

test("a chat's own referral history pages with cursors too", async () => {
  const first = await server.graphql(`{ chat(id: "busy") { referrals(first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { node { ref } } } } }`);
  const page1 = first.body.data.chat.referrals;
  expect(page1.totalCount).toBe(25);
  expect(page1.edges).toHaveLength(10);
  const second = await server.graphql(`query($after: String) { chat(id: "busy") { referrals(first: 100, after: $after) { pageInfo { hasNextPage } edges { node { ref } } } } }`, {
    after: page1.pageInfo.endCursor,
  });
  const page2 = second.body.data.chat.referrals;
  expect(page2.pageInfo.hasNextPage).toBe(false);
  const refs = [...page1.edges, ...page2.edges].map((e: any) => e.node.ref);
  expect(new Set(refs).size).toBe(25);
});

test("the default page is 20", async () => {
  const { body } = await server.graphql(`{ chats { edges { node { id } } pageInfo { hasNextPage } } }`);
  expect(body.data.chats.edges).toHaveLength(20);
  expect(body.data.chats.pageInfo.hasNextPage).toBe(true);
});

test.each([
  ["chats(first: 101)", "first"],
  ["referrals(first: -1)", "first"],
  ["webhookEvents(first: 1000)", "first"],
  [`chats(after: "not-a-cursor")`, "after"],
  [`referrals(after: "WyJ4IiwieSJd")`, "after"],
])("%s is refused with BAD_USER_INPUT naming '%s'", async (field, argument) => {
  const { body } = await server.graphql(`{ ${field} { totalCount } }`);
  expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  expect(body.errors[0].message).toContain(`'${argument}'`);
});

test("a nested page size over 100 is refused too", async () => {
  const { body } = await server.graphql(`{ chat(id: "busy") { referrals(first: 500) { totalCount } } }`);
  expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
});

test("a cursor is read only up to 4,096 characters: the longest real one pages, a longer forged one is refused", async () => {
  const longest = "Az09-_=".repeat(300).slice(0, 2083);
  await server.deliver(referralEvent({ chat: "long_ref", ref: longest, receivedAt: base + 3_600_000 }));
  const page = async (after: string) => (await server.graphql(`query($after: String) { referrals(first: 1, after: $after) { edges { node { ref } } } }`, { after })).body;
  const first = (await server.graphql(`{ referrals(first: 1) { edges { cursor node { ref } } } }`)).body.data.referrals.edges[0];
  expect(first.node.ref).toBe(longest);
  expect(first.cursor.length).toBeLessThanOrEqual(4096);
  expect((await page(first.cursor)).errors).toBeUndefined();

  // Well formed, in this list's shape, only too long.
  const forged = Buffer.from(JSON.stringify([base, "x".repeat(4000), 1])).toString("base64url");
  expect(forged.length).toBeGreaterThan(4096);
  const { errors } = await page(forged);
  expect(errors[0].extensions.code).toBe("BAD_USER_INPUT");
  expect(errors[0].message).toBe("Argument 'after' is not a cursor from this list (longer than 4096 characters).");
});
