import { DataSource, EntityManager } from "typeorm";
import { isPostgres } from "./data-source";
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

/**
 * A write transaction. On SQLite it begins IMMEDIATE: it takes the write lock before it reads, waiting (the busy
 * timeout) while another connection writes, where a transaction that had read first would be refused at its first
 * write whenever that connection committed meanwhile, however often it was tried again. A SQLite DataSource is one
 * connection, so its write transactions run one at a time: another's statements would otherwise join the open one.
 * Each one's outcome is recorded for /readyz (write-health.ts).
 */
export function writeTransaction<T>(db: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return recordWrite(db, () => db.transaction(work));
  const previous = lastTransaction.get(db) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => recordWrite(db, () => immediateTransaction(db, work)));
  lastTransaction.set(db, next);
  return next;
}

async function immediateTransaction<T>(db: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  try {
    await runner.query("BEGIN IMMEDIATE");
    try {
      const result = await work(runner.manager);
      await runner.query("COMMIT");
      return result;
    } catch (error) {
      await runner.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}
