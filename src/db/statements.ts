import { EntityManager } from "typeorm";
import { isPostgres } from "./data-source";

type Statements<T extends readonly unknown[]> = { [K in keyof T]: () => Promise<T[K]> };

/**
 * Runs independent reads of one transaction and returns their results in order. On SQLite they are issued
 * together: node-sqlite3 queues them on its own thread, so none waits for a trip through the busy event loop.
 * A PostgreSQL client runs one query at a time anyway, and node-postgres deprecates queueing a query while
 * another runs (pg 9 removes it), so there they run one after another.
 * Rejects only once every statement issued has finished: the rollback that follows a failure must not overtake a
 * statement still queued on the connection, which would then run outside the transaction.
 * Reads only (a transaction's writes go one after another): should one fail, SQLite may roll the transaction back by itself
 * (SQLITE_FULL, SQLITE_IOERR), and what was queued behind it then runs in autocommit, harmless for a read.
 */
export async function runStatements<T extends readonly unknown[]>(manager: EntityManager, statements: Statements<T>): Promise<T> {
  if (isPostgres(manager.connection)) {
    const results: unknown[] = [];
    for (const statement of statements) results.push(await statement());
    return results as unknown as T;
  }
  const settled = await Promise.allSettled(statements.map((statement) => statement()));
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
