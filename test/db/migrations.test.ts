import { useTestStore } from "../helpers/processes";

const TABLES = ["chat", "referral", "message", "webhook_event", "api_key"];

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

test("undoing the migration drops every table, and running the migrations again restores them", async () => {
  await context.store.writer.undoLastMigration({ transaction: "each" });
  expect(await existingTables()).toEqual([]);
  expect(await context.store.writer.showMigrations()).toBe(true);

  const applied = await context.store.writer.runMigrations({ transaction: "each" });
  expect(applied.map((migration) => migration.name)).toEqual(["CreateCoreTables1764057600000"]);
  expect(await existingTables()).toEqual(TABLES);
  expect(await schemaDiff()).toEqual([]);
  expect(await context.store.writer.showMigrations()).toBe(false);
});
