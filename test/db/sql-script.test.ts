import fc from "fast-check";
import sqlite3 from "sqlite3";
import { inlineParameters, sqliteLiteral, sqliteScript, statement } from "../../src/db/sql-script";

// The ingest writes its plan as one SQLite script with the parameters written in: whatever a stranger typed must
// reach the row exactly as binding it would have, and never change the statement.

const open = () => new sqlite3.Database(":memory:");
const exec = (db: sqlite3.Database, sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
const all = (db: sqlite3.Database, sql: string, parameters: unknown[] = []) =>
  new Promise<Record<string, unknown>[]>((resolve, reject) => db.all(sql, parameters, (error, rows) => (error ? reject(error) : resolve(rows as Record<string, unknown>[]))));

test("markers are replaced in order, and a ? inside quotes is left alone", () => {
  expect(inlineParameters(`SELECT '?', "a?b", ? , ?`, ["x'y", 2])).toBe(`SELECT '?', "a?b", 'x''y' , 2`);
});

test("markers and parameters must match in number", () => {
  expect(() => inlineParameters("SELECT ?, ?", [1])).toThrow("more markers");
  expect(() => inlineParameters("SELECT ?", [1, 2])).toThrow("1 markers for 2 parameters");
  // SQL with its values written in passes as it is, a ? inside its quotes included; a bare one is still refused.
  expect(inlineParameters("SELECT 'why?', 1", [])).toBe("SELECT 'why?', 1");
  expect(() => inlineParameters("SELECT 'why?', ?", [])).toThrow("more markers");
});

test("values without a literal are refused", () => {
  expect(() => sqliteLiteral(Number.NaN)).toThrow("NaN has no SQLite literal");
  expect(() => sqliteLiteral(Infinity)).toThrow();
  expect(() => sqliteLiteral({})).toThrow("a object has no SQLite literal");
  expect(sqliteLiteral(null)).toBe("NULL");
  expect(sqliteLiteral(true)).toBe("1");
  expect(sqliteLiteral(12n)).toBe("12");
  expect(sqliteLiteral("a\0b")).toBe("CAST(X'610062' AS TEXT)");
});

test("any text and number is stored as binding it stores, and the script's other statements still run", async () => {
  const db = open();
  try {
    await exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT, n BIGINT)");
    const value = fc.record({ s: fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("'); DROP TABLE t; --", "?", "'?'", "\0", "''", "\\'")), n: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(1_796_585_487_536)) });
    await fc.assert(
      fc.asyncProperty(value, async ({ s, n }) => {
        await exec(db, "DELETE FROM t");
        await all(db, "INSERT INTO t (k, s, n) VALUES (1, ?, ?)", [s, n]);
        await exec(db, sqliteScript([statement("INSERT INTO t (k, s, n) VALUES (2, ?, ?)", [s, n]), statement("INSERT INTO t (k, s, n) VALUES (3, 'after', 0)")]));
        const rows = await all(db, "SELECT k, s, n, typeof(s) AS st, typeof(n) AS nt FROM t ORDER BY k");
        expect(rows.map((row) => row.k)).toEqual([1, 2, 3]);
        expect({ ...rows[1], k: 1 }).toEqual(rows[0]);
      }),
      { numRuns: 300 },
    );
  } finally {
    db.close();
  }
});

test("a script stops at the first statement that fails: nothing after it runs", async () => {
  const db = open();
  try {
    await exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY)");
    const script = sqliteScript([statement("INSERT INTO t VALUES (?)", [1]), statement("INSERT INTO t VALUES (?)", [1]), statement("INSERT INTO t VALUES (?)", [2])]);
    await expect(exec(db, script)).rejects.toMatchObject({ code: "SQLITE_CONSTRAINT" });
    expect(await all(db, "SELECT k FROM t")).toEqual([{ k: 1 }]);
  } finally {
    db.close();
  }
});
