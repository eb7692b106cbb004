import { runCli, useTestStore } from "../helpers/processes";
import { startServer, TestServer } from "../helpers/server";

const END = "2026-11-01T00:00:00Z";
const DAY = 86_400_000;
const SIZES = ["--referrals", "500", "--chats", "150", "--refs", "40", "--days", "30", "--end", END];

const context = useTestStore();

async function count(sql: string): Promise<number> {
  const [row] = await context.store.reader.query(sql);
  return Number(Object.values(row)[0]);
}

describe("refgraph seed", () => {
  let run: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    run = await runCli(context.database, "seed", ...SIZES);
  });

  test("writes exactly the referrals and chats asked for, and says so", async () => {
    expect(run.code).toBe(0);
    const messages = await count("SELECT COUNT(*) FROM message");
    expect(run.stdout).toMatch(new RegExp(`^seeded 500 referrals in 150 chats \\(${messages} messages\\) in \\d+ s\\n$`));
    expect(await count("SELECT COUNT(*) FROM referral")).toBe(500);
    expect(await count("SELECT COUNT(*) FROM chat")).toBe(150);
    expect(await count("SELECT COUNT(DISTINCT chat_id) FROM referral")).toBe(150);
    expect(await count("SELECT COUNT(DISTINCT ref) FROM referral")).toBeLessThanOrEqual(40);
    expect(messages).toBeGreaterThan(0);
  });

  test("every event went through webhook ingestion: one processed inbox row per referral and message", async () => {
    expect(await count("SELECT COUNT(*) FROM webhook_event WHERE status = 'PROCESSED'")).toBe(500 + (await count("SELECT COUNT(*) FROM message")));
    expect(await count("SELECT COUNT(*) FROM webhook_event WHERE status <> 'PROCESSED'")).toBe(0);
  });

  test("the history lies within --days before --end, and its timelines are filled in", async () => {
    const end = Date.parse(END);
    expect(await count(`SELECT MIN(received_at) FROM referral`)).toBeGreaterThanOrEqual(end - 30 * DAY);
    expect(await count(`SELECT MAX(received_at) FROM referral`)).toBeLessThan(end);
    // Each chat has exactly one first touch; some referrals convert, some do not.
    expect(await count("SELECT COUNT(*) FROM referral WHERE is_first_touch = true")).toBe(150);
    expect(await count("SELECT COUNT(*) FROM referral WHERE last_touch_reply_at IS NOT NULL")).toBeGreaterThan(0);
    expect(await count("SELECT COUNT(*) FROM referral WHERE last_touch_reply_at IS NULL")).toBeGreaterThan(0);
  });

  test("the same --seed gives the same history; running it again adds nothing", async () => {
    const before = await context.store.reader.query("SELECT chat_id, ref, received_at FROM referral ORDER BY chat_id, received_at, ref");
    const again = await runCli(context.database, "seed", ...SIZES);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^seeded 0 referrals in 0 chats \(0 messages\)/);
    expect(await context.store.reader.query("SELECT chat_id, ref, received_at FROM referral ORDER BY chat_id, received_at, ref")).toEqual(before);
  });
});

describe("refgraph seed on a database a server reads", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test("campaignStats counts what was seeded", async () => {
    const run = await runCli(server.database, "seed", "--referrals", "300", "--chats", "100", "--refs", "20", "--days", "10", "--end", END, "--seed", "7");
    expect(run.code).toBe(0);
    const { body } = await server.graphql(`{ campaignStats(groupBy: [PLATFORM], range: ALL) { totals { referrals uniqueChats newChats } rows { key { platform } } } }`);
    expect(body.data.campaignStats.totals).toMatchObject({ referrals: 300, uniqueChats: 100 });
    expect(body.data.campaignStats.rows.map((row: any) => row.key.platform).sort()).toEqual(["facebook", "instagram"]);
  });
});

test.each([
  [["seed", "--chats", "1", "--refs", "1", "--days", "1"], "seed needs --referrals <count>"],
  [["seed", "--referrals", "ten", "--chats", "1", "--refs", "1", "--days", "1"], "--referrals must be a whole number from 1 to 10000000 (got ten)"],
  [["seed", "--referrals", "5", "--chats", "6", "--refs", "1", "--days", "1"], "--chats (6) must not exceed --referrals (5)"],
  [["seed", "--referrals", "5", "--chats", "1", "--refs", "1", "--days", "0"], "--days must be a whole number from 1 to 3650 (got 0)"],
  [["seed", "--referrals", "5", "--chats", "1", "--refs", "1", "--days", "1", "--end", "soon"], "--end must be an ISO-8601 time"],
])("refgraph %j exits 2 naming the bad option", async (args, message) => {
  const run = await runCli(context.database, ...args);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(message);
  expect(run.stdout).toBe("");
});
