import { DataSource, EntityManager } from "typeorm";
import { isPostgres } from "./data-source";

// Every write to a referral row stamps `revision` with its transaction's revisionSql(), so a reader can catch up on
// every change, whoever made it (another instance, the CLI), by reading the rows stamped at or after the watermark
// it took before its previous read:
// - SQLite has one writer at a time, so one more than the greatest stamp, taken inside the write transaction, grows
//   in commit order; the reader's watermark is the same number.
// - PostgreSQL stamps the transaction id; every transaction below the oldest one still running has committed or
//   rolled back, so that oldest id is the watermark.

/** The SQL value a write stamps on the referral rows it writes: inside its transaction, or as one statement. */
export const revisionSql = (connection: DataSource) => (isPostgres(connection) ? "txid_current()" : "(SELECT COALESCE(MAX(revision), 0) + 1 FROM referral)");

const single = async (runner: DataSource | EntityManager, sql: string) => Number((await runner.query(`SELECT ${sql} AS revision`))[0].revision);

/** The stamp for this transaction's referral writes. */
export const writeRevision = (manager: EntityManager) => single(manager, revisionSql(manager.connection));

/** Every change stamped below this has committed: read now, it is where the next catch-up starts. */
export const revisionWatermark = (db: DataSource) => single(db, isPostgres(db) ? "txid_snapshot_xmin(txid_current_snapshot())" : revisionSql(db));
