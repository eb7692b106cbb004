import { DataSource } from "typeorm";
import { classifyDatabaseError } from "./faults";

/** A write transaction's outcome: committed, or refused by a fault of the database (its classifyDatabaseError label). */
export interface WriteOutcome {
  /** performance.now() when it settled. */
  atMs: number;
  fault: string | null;
}

const latest = new WeakMap<DataSource, WriteOutcome>();

/** The outcome of the database's latest write transaction, if it has had one. */
export const latestWrite = (db: DataSource): WriteOutcome | undefined => latest.get(db);

/** Runs a write transaction and records how it ended. An error of the data written says nothing of the database. */
export async function recordWrite<T>(db: DataSource, transaction: () => Promise<T>): Promise<T> {
  try {
    const result = await transaction();
    latest.set(db, { atMs: performance.now(), fault: null });
    return result;
  } catch (error) {
    const kind = classifyDatabaseError(error);
    if (kind.fault) latest.set(db, { atMs: performance.now(), fault: kind.label });
    throw error;
  }
}
