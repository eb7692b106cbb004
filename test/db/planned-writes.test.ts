import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseVersion, plannedWriteTransaction } from "../../src/db/busy";
import { openStore } from "../../src/db/data-source";
import { readTogether } from "../../src/db/rows";
import { statement } from "../../src/db/sql-script";
import { entities } from "../../src/entities";

// On SQLite a planned write reads before it takes the write lock (plannedWriteTransaction): a commit by another
// connection in between must send it back to read again, or its plan would overwrite that commit.

test("a planned write whose read another connection's commit overtook reads again under the write lock; otherwise it reads once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "refgraph-planned-"));
  try {
    const store = await openStore(`sqlite:${join(dir, "refgraph.sqlite")}`, { entities });
    const { writer, reader: other } = store;
    expect(other).not.toBe(writer);
    await writer.query("CREATE TABLE counter (n INTEGER NOT NULL)");
    await writer.query("INSERT INTO counter VALUES (0)");
    let reads = 0;
    const increment = (interfere: boolean) =>
      plannedWriteTransaction(writer, async (manager) => {
        const [readAt, n] = await readTogether(manager, () => [databaseVersion(writer), { sql: "SELECT n FROM counter", decode: Number }] as const);
        if (++reads === 1 && interfere) await other.query("UPDATE counter SET n = n + 100");
        return { readAt, statements: [statement("UPDATE counter SET n = ?", [n + 1])], result: n };
      });

    expect(await increment(false)).toBe(0);
    expect(reads).toBe(1);

    reads = 0;
    expect(await increment(true)).toBe(101);
    expect(reads).toBe(2);
    expect(await writer.query("SELECT n FROM counter")).toEqual([{ n: 102 }]);

    // The writer's own commits do not count as another connection's.
    reads = 0;
    expect(await increment(false)).toBe(102);
    expect(reads).toBe(1);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
