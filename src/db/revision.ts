import { DataSource } from "typeorm";
import { isPostgres } from "./data-source";

// Every write to a referral row stamps `revision` with its transaction's revisionSql(), so a reader can catch up on
// every change, whoever made it (another instance, the CLI), by reading the rows stamped at or after the watermark
// it took before its previous read:
// - SQLite has one writer at a time, so one more than the greatest stamp, read by the write transaction (before its
//   write lock only if nothing commits in between, see plannedWriteTransaction), grows in commit order; the reader's
//   watermark is the same number.
// - PostgreSQL stamps the transaction id; every transaction below the oldest one still running has committed or
//   rolled back, so that oldest id is the watermark.

/** The SQL value a write stamps on the referral rows it writes: inside its transaction, or as one statement. */
export const revisionSql = (connection: DataSource) => (isPostgres(connection) ? "txid_current()" : "(SELECT COALESCE(MAX(revision), 0) + 1 FROM referral)");

/** Every change stamped below this has committed: read now, it is where the next catch-up starts. */
export async function revisionWatermark(db: DataSource): Promise<number> {
  const [row] = await db.query(`SELECT ${isPostgres(db) ? "txid_snapshot_xmin(txid_current_snapshot())" : revisionSql(db)} AS revision`);
  return Number(row.revision);
}
