import sqlite3 from "sqlite3";
import { DataSource, EntityManager } from "typeorm";
import { isPostgres } from "./data-source";
import { Read } from "./rows";
import { runInOrder, SqlStatement, sqliteScript, statement } from "./sql-script";
import { recordWrite } from "./write-health";

/**
 * Runs `work` again when SQLite reports the database busy. Several connections write to one SQLite file (the
 * server's writer, the CLI's own processes): in WAL mode a statement or transaction that read before another
 * connection's commit is refused at its first write, without waiting (writeTransaction avoids that), and any write
 * is refused once the busy timeout runs out.
 * PostgreSQL never answers SQLITE_BUSY, so there it runs once.
 */
export async function retryWhenBusy<T>(work: () => Promise<T>, attempts = 8, boundMs = BUSY_RETRY_BOUND_MS): Promise<T> {
  const start = performance.now();
  let longestMs = 0;
  for (let attempt = 1; ; attempt++) {
    const attemptStart = performance.now();
    try {
      return await work();
    } catch (error) {
      const now = performance.now();
      longestMs = Math.max(longestMs, now - attemptStart);
      if ((error as { code?: string }).code !== "SQLITE_BUSY" || !mayRetryBusy({ attempt, attempts, elapsedMs: now - start, longestMs, boundMs })) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 10 * Math.random()));
    }
  }
}

/** A write still busy gives up by then, so a webhook answers (503: Postproxy retries) within the 10 s issue 12 sets. */
export const BUSY_RETRY_BOUND_MS = 10_000;

/**
 * Whether a write refused as busy is tried again: not once `attempts` have run, nor when another attempt, taking as
 * long as the longest so far (the whole busy timeout, when it waited for the lock) after the pause before it, could
 * end past `boundMs`.
 */
export function mayRetryBusy(tried: { attempt: number; attempts: number; elapsedMs: number; longestMs: number; boundMs: number }): boolean {
  return tried.attempt < tried.attempts && tried.elapsedMs + tried.longestMs + tried.attempt * 10 <= tried.boundMs;
}

/** The transaction each SQLite connection runs or will run last: the next one starts after it settles. */
const lastTransaction = new WeakMap<DataSource, Promise<unknown>>();

/** What a write transaction's work returns: the statements to write, and its own result. */
interface Writes<T> {
  statements: SqlStatement[];
  result: T;
}

/** What a planned write transaction's work returns: also the database's version its first read saw (databaseVersion). */
export interface PlannedWrites<T> extends Writes<T> {
  readAt: number;
}

/**
 * The read a planned write transaction's work sends first, in the same statement as its other first reads. On
 * SQLite the work reads before the transaction begins, and PRAGMA data_version changes whenever another connection
 * commits; the script checks it again once it holds the write lock. On PostgreSQL the work reads inside the transaction.
 */
export const databaseVersion = (connection: DataSource): Read<number> =>
  isPostgres(connection) ? { sql: "SELECT NULL", decode: () => 0 } : { sql: "SELECT data_version FROM pragma_data_version", decode: Number };

/**
 * A write transaction. On SQLite it begins IMMEDIATE: it takes the write lock before it reads, waiting (the busy
 * timeout) while another connection writes, where a transaction that had read first would be refused at its first
 * write whenever that connection committed meanwhile, however often it was tried again. A SQLite DataSource is one
 * connection, so its write transactions run one at a time: another's statements would otherwise join the open one.
 * Each one's outcome is recorded for /readyz (write-health.ts).
 */
export function writeTransaction<T>(db: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return recordWrite(db, () => db.transaction(work));
  return oneAtATime(db, () => immediateTransaction(db, async (manager) => ({ statements: [], result: await work(manager) })));
}

/**
 * A write transaction whose work reads what it needs, then returns the statements that write its plan. Every call to
 * node-sqlite3 is a trip through its thread pool and back through the event loop, which incoming requests keep busy,
 * so on SQLite a batch makes two: the work reads before the transaction begins, and its statements go to the
 * database between BEGIN IMMEDIATE and COMMIT as one script (sqliteScript). Holding the write lock, the script
 * first checks that no other connection committed since the work read (this connection's own transactions run one
 * at a time); should one have, the work runs again in a transaction that begins before it reads. The script stops
 * at the first statement that fails, before the COMMIT, and the transaction is rolled back. On PostgreSQL the work
 * runs inside the transaction and its statements one by one.
 */
export function plannedWriteTransaction<T>(db: DataSource, work: (manager: EntityManager) => Promise<PlannedWrites<T>>): Promise<T> {
  if (isPostgres(db))
    return recordWrite(db, () =>
      db.transaction(async (manager) => {
        const { statements, result } = await work(manager);
        await runInOrder(manager, statements);
        return result;
      }),
    );
  return oneAtATime(db, () => readThenWrite(db, work));
}

function oneAtATime<T>(db: DataSource, transaction: () => Promise<T>): Promise<T> {
  const previous = lastTransaction.get(db) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => recordWrite(db, transaction));
  lastTransaction.set(db, next);
  return next;
}

const UNCHANGED_SINCE_READ = "database_unchanged_since_read";

/** Statements that fail, with the constraint UNCHANGED_SINCE_READ, when another connection committed since `readAt`. */
const unchangedSince = (readAt: number): SqlStatement[] => [
  statement(`CREATE TEMP TABLE IF NOT EXISTS read_check (id INTEGER PRIMARY KEY, unchanged INTEGER NOT NULL CONSTRAINT ${UNCHANGED_SINCE_READ} CHECK (unchanged))`),
  statement("INSERT OR REPLACE INTO temp.read_check VALUES (1, (SELECT data_version FROM pragma_data_version) = ?)", [readAt]),
];

async function readThenWrite<T>(db: DataSource, work: (manager: EntityManager) => Promise<PlannedWrites<T>>): Promise<T> {
  const runner = db.createQueryRunner();
  const connection: sqlite3.Database = await runner.connect();
  try {
    const { readAt, statements, result } = await work(runner.manager);
    try {
      await exec(connection, sqliteScript([statement("BEGIN IMMEDIATE"), ...unchangedSince(readAt), ...statements, statement("COMMIT")]));
      return result;
    } catch (error) {
      await exec(connection, "ROLLBACK").catch(() => undefined);
      if (!String((error as Error).message).includes(UNCHANGED_SINCE_READ)) throw error;
    }
  } finally {
    await runner.release();
  }
  return immediateTransaction(db, work);
}

async function immediateTransaction<T>(db: DataSource, work: (manager: EntityManager) => Promise<Writes<T>>): Promise<T> {
  const runner = db.createQueryRunner();
  const connection: sqlite3.Database = await runner.connect();
  try {
    await exec(connection, "BEGIN IMMEDIATE");
    try {
      const { statements, result } = await work(runner.manager);
      await exec(connection, sqliteScript([...statements, statement("COMMIT")]));
      return result;
    } catch (error) {
      await exec(connection, "ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}

const exec = (connection: sqlite3.Database, sql: string) => new Promise<void>((resolve, reject) => connection.exec(sql, (error) => (error ? reject(error) : resolve())));
