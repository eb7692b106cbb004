import { useTestStore } from "../helpers/processes";

const TABLES = ["chat", "referral", "message", "webhook_event", "api_key", "greeting", "greeting_rule", "readiness_probe"];

const context = useTestStore();

/** The SQL TypeORM would run to bring the database in line with the entities: none when migrations match them. */
async function schemaDiff(): Promise<string[]> {
  const { upQueries } = await context.store.writer.driver.createSchemaBuilder().log();
  return upQueries.map((query) => query.query);
}

async function existingTables(): Promise<string[]> {
  const runner = context.store.writer.createQueryRunner();
  try {
    const present: string[] = [];
    for (const table of TABLES) if (await runner.hasTable(table)) present.push(table);
    return present;
  } finally {
    await runner.release();
  }
}

test("after the migrations run on open, the database matches every entity exactly", async () => {
  expect(await existingTables()).toEqual(TABLES);
  // An empty list is the pass; on failure jest prints the statements TypeORM wants to run.
  expect(await schemaDiff()).toEqual([]);
});

const hasFactsView = () =>
  context.store.writer.query("SELECT COUNT(*) FROM referral_facts").then(
    () => true,
    () => false,
  );

test("the analytics migration fills in parts and history for referrals stored before it", async () => {
  const db = context.store.writer;
  // The readiness probe, the greeting index, the greeting rules, the greetings, the revision column and the BI views came after the analytics columns, so they go first.
  for (let i = 0; i < 7; i++) await db.undoLastMigration({ transaction: "each" });
  const T = Date.parse("2026-06-01T12:00:00Z");
  const insert = `INSERT INTO referral (event_id, chat_id, ref, received_at) VALUES ('e1', 'c1', 'c=summer--ch=bio', ${T}), ('e2', 'c1', 'plain', ${T + 60_000}), ('e3', 'c2', 'c=fall--V=a--v=b--promo--x=1', ${T + 180_000})`;
  await db.query(insert);
  await db.query(`INSERT INTO message (id, chat_id, direction, status, posted_at) VALUES ('m1', 'c1', 'inbound', 'received', ${T + 120_000})`);
  await db.runMigrations({ transaction: "each" });
  const rows = await db.query(
    "SELECT ref, campaign, channel, variant, tags, first_reply_at, last_touch_reply_at, is_first_touch, is_new_chat FROM referral ORDER BY received_at",
  );
  expect(rows.map((r: Record<string, unknown>) => ({ ...r, first_reply_at: r.first_reply_at && Number(r.first_reply_at), last_touch_reply_at: r.last_touch_reply_at && Number(r.last_touch_reply_at), is_first_touch: Boolean(r.is_first_touch), is_new_chat: Boolean(r.is_new_chat) }))).toEqual([
    { ref: "c=summer--ch=bio", campaign: "summer", channel: "bio", variant: null, tags: null, first_reply_at: T + 120_000, last_touch_reply_at: null, is_first_touch: true, is_new_chat: true },
    { ref: "plain", campaign: "plain", channel: null, variant: null, tags: null, first_reply_at: T + 120_000, last_touch_reply_at: T + 120_000, is_first_touch: false, is_new_chat: false },
    {
      ref: "c=fall--V=a--v=b--promo--x=1",
      campaign: "fall",
      channel: null,
      variant: "a",
      tags: JSON.stringify([{ key: "v", value: "b" }, { key: "x", value: "1" }, { key: "segment", value: "promo" }]),
      first_reply_at: null,
      last_touch_reply_at: null,
      is_first_touch: true,
      is_new_chat: true,
    },
  ]);
  await db.query("DELETE FROM message");
  await db.query("DELETE FROM referral");
});

test("undoing the migrations drops every table, and running the migrations again restores them", async () => {
  const db = context.store.writer;
  expect(await hasFactsView()).toBe(true);
  for (let i = 0; i < 5; i++) await db.undoLastMigration({ transaction: "each" });
  expect(await hasFactsView()).toBe(true);
  await db.undoLastMigration({ transaction: "each" });
  expect(await hasFactsView()).toBe(false);
  await db.undoLastMigration({ transaction: "each" });
  await db.undoLastMigration({ transaction: "each" });
  expect(await existingTables()).toEqual([]);
  expect(await db.showMigrations()).toBe(true);

  const applied = await db.runMigrations({ transaction: "each" });
  expect(applied.map((migration) => migration.name)).toEqual(["CreateCoreTables1764057600000", "AddReferralAnalytics1795564800000", "AddBiViews1796083200000", "AddReferralRevision1796688000000", "CreateGreetings1796774400000", "CreateGreetingRules1796860800000", "AddGreetingReferralIndex1796947200000", "CreateReadinessProbe1797033600000"]);
  expect(await existingTables()).toEqual(TABLES);
  expect(await hasFactsView()).toBe(true);
  expect(await schemaDiff()).toEqual([]);
  expect(await db.showMigrations()).toBe(false);
});
