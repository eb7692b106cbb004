import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, StoreDataSource } from "../../src/db/data-source";
import { entities } from "../../src/entities";

// The ingest's batch read runs through statements SQLite keeps prepared (StoreDataSource.preparedQuery): they must
// give each run its own parameters' rows, survive a change to their table, and never keep the database from closing.

test("kept statements answer each run with its own parameters, follow schema changes, and are finalized when the store closes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "refgraph-prepared-"));
  try {
    const store = await openStore(`sqlite:${join(dir, "refgraph.sqlite")}`, { entities });
    const writer = store.writer as StoreDataSource;
    const manager = writer.manager;
    await writer.query("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)");
    await writer.query("INSERT INTO kv VALUES ('a', '1'), ('b', '2')");
    const read = (key: string) => writer.preparedQuery(manager, "SELECT v FROM kv WHERE k = ?", [key]);
    expect(await read("a")).toEqual([{ v: "1" }]);
    expect(await read("b")).toEqual([{ v: "2" }]);
    expect(await read("none")).toEqual([]);

    await writer.query("ALTER TABLE kv RENAME COLUMN v TO w");
    await expect(read("a")).rejects.toThrow(/no such column: v/);
    await writer.query("ALTER TABLE kv RENAME COLUMN w TO v");
    expect(await read("a")).toEqual([{ v: "1" }]);

    // More distinct statements than are kept: the rest run once, with the same answers.
    for (let i = 0; i < 40; i++) expect(await writer.preparedQuery(manager, `SELECT ${i} AS n, v FROM kv WHERE k = ?`, ["b"])).toEqual([{ n: i, v: "2" }]);
    await expect(writer.preparedQuery(manager, "SELECT nonsense FROM kv", [])).rejects.toThrow(/no such column/);

    // Two reads of new SQL at once: each gets its rows, and the statement they share is finalized with the rest.
    const twice = () => writer.preparedQuery(manager, "SELECT v FROM kv WHERE k = ? AND 1", ["a"]);
    expect(await Promise.all([twice(), twice()])).toEqual([[{ v: "1" }], [{ v: "1" }]]);

    // SQLite refuses to close a connection whose statements are still prepared: this would reject.
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
