import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import sqlite3 from "sqlite3";
import { DataSource, DataSourceOptions, EntityManager, Logger } from "typeorm";
import { migrations } from "./migrations";
import { PostgresClient } from "./postgres-client";
import { DatabaseTimeouts, postgresTimeoutOptions, sqliteBusyTimeoutMs } from "./timeouts";

// TypeORM switches sqlite3 to verbose mode, which formats every argument of every call (SQL and all parameters)
// with util.inspect to build long stack traces: on the ingest path that cost more than the SQL itself.
const quietSqlite = { ...sqlite3, verbose: () => sqlite3 };

export interface DataSourceSettings {
  /** The tables' entities, from the capabilities above (src/entities.ts): src/db knows none of them. */
  entities: NonNullable<DataSourceOptions["entities"]>;
  /** PostgreSQL schema to use (tests give each run its own). */
  schema?: string;
  logger?: Logger;
  /** The server's timeouts; without them (the CLI, migrations) nothing is cut short and SQLite waits 5 s for a lock. */
  timeouts?: DatabaseTimeouts;
}

export function dataSourceOptions(databaseUrl: string, settings: DataSourceSettings): DataSourceOptions {
  const common = { entities: settings.entities, migrations, synchronize: false, logger: settings.logger, logging: settings.logger ? true : false };
  if (databaseUrl.startsWith("sqlite:")) {
    const busyTimeout = settings.timeouts ? sqliteBusyTimeoutMs(settings.timeouts) : 5000;
    return { ...common, type: "sqlite", driver: quietSqlite, database: databaseUrl.slice("sqlite:".length), enableWAL: true, busyTimeout };
  }
  const searchPath = settings.schema ? { options: `-c search_path=${settings.schema}` } : {};
  const timeouts = settings.timeouts ? postgresTimeoutOptions(settings.timeouts) : {};
  return { ...common, type: "postgres", url: databaseUrl, schema: settings.schema, extra: { max: 10, Client: PostgresClient, ...timeouts, ...searchPath } };
}

/**
 * Opens the database, creating the SQLite file's folder, and brings the schema up to date. On PostgreSQL the
 * migrations run on a pool of their own without the timeouts, which would cut a long migration short.
 */
export async function openDatabase(databaseUrl: string, settings: DataSourceSettings): Promise<DataSource> {
  const options = dataSourceOptions(databaseUrl, settings);
  if (options.type === "sqlite" && options.database !== ":memory:") mkdirSync(dirname(options.database), { recursive: true });
  if (options.type === "postgres" && settings.timeouts) {
    await (await openDatabase(databaseUrl, { ...settings, timeouts: undefined })).destroy();
    return new StoreDataSource(options).initialize();
  }
  const dataSource = await new StoreDataSource(options).initialize();
  try {
    if (options.type === "sqlite") await dataSource.query("PRAGMA synchronous = FULL");
    await runMigrations(dataSource);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

const MIGRATION_LOCK = 4_210_042;

/** Several instances may start at once on one PostgreSQL: an advisory lock lets one migrate while the others wait. */
async function runMigrations(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== "postgres") {
    await dataSource.runMigrations({ transaction: "each" });
    return;
  }
  const lockHolder = dataSource.createQueryRunner();
  try {
    await lockHolder.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: "each" });
  } finally {
    await lockHolder.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    await lockHolder.release();
  }
}

export const isPostgres = (dataSource: DataSource) => dataSource.options.type === "postgres";

/** Beyond this many, a statement is prepared for one run only: only a few fixed statements are worth keeping. */
const MAX_PREPARED = 16;

/**
 * The DataSource refgraph opens. On SQLite it can keep statements prepared for the reads every ingest batch makes
 * (preparedQuery): node-sqlite3 prepares a statement in a trip of its own through its thread pool and the event loop,
 * which incoming requests keep busy. They are finalized when it is destroyed, as SQLite will not close a connection
 * with statements still prepared.
 */
export class StoreDataSource extends DataSource {
  /** Kept as the promise of its preparation, so that two reads of new SQL at once prepare it once. */
  private readonly prepared = new Map<string, Promise<sqlite3.Statement>>();

  /** The rows of a read whose SQL is fixed (only its parameters change), through a statement kept prepared. */
  async preparedQuery(manager: EntityManager, sql: string, parameters: unknown[]): Promise<Record<string, unknown>[]> {
    if (isPostgres(this) || (!this.prepared.has(sql) && this.prepared.size >= MAX_PREPARED)) return manager.query(sql, parameters);
    let preparing = this.prepared.get(sql);
    if (!preparing) {
      preparing = this.prepare(manager, sql);
      this.prepared.set(sql, preparing);
      // SQL that fails to prepare is not kept.
      preparing.catch(() => this.prepared.delete(sql));
    }
    const statement = await preparing;
    return new Promise((resolve, reject) => statement.all(parameters, (error: Error | null, rows: Record<string, unknown>[]) => (error ? reject(error) : resolve(rows))));
  }

  private async prepare(manager: EntityManager, sql: string): Promise<sqlite3.Statement> {
    // A SQLite DataSource is one connection, whichever query runner reaches it.
    const connection: sqlite3.Database = await (manager.queryRunner ?? this.createQueryRunner()).connect();
    return new Promise((resolve, reject) => {
      const statement = connection.prepare(sql, (error: Error | null) => (error ? reject(error) : resolve(statement)));
    });
  }

  override async destroy(): Promise<void> {
    const preparations = [...this.prepared.values()];
    this.prepared.clear();
    for (const result of await Promise.allSettled(preparations))
      if (result.status === "fulfilled") await new Promise<void>((resolve) => result.value.finalize(() => resolve()));
    return super.destroy();
  }
}

/**
 * The writer takes every write, batched (see WriteBatcher); on SQLite a second connection serves reads, so queries
 * never see a batch before it commits and never wait behind one. PostgreSQL's pool does both.
 */
export interface Store {
  writer: DataSource;
  reader: DataSource;
  close(): Promise<void>;
}

export async function openStore(databaseUrl: string, settings: DataSourceSettings): Promise<Store> {
  const writer = await openDatabase(databaseUrl, settings);
  const file = writer.options.type === "sqlite" && writer.options.database !== ":memory:" ? writer.options.database : null;
  const reader = file ? await new StoreDataSource(dataSourceOptions(databaseUrl, settings)).initialize() : writer;
  const stopCheckpoints = file ? await checkpointInBackground(file, writer) : async () => undefined;
  return {
    writer,
    reader,
    async close() {
      await stopCheckpoints();
      if (reader !== writer) await reader.destroy();
      await writer.destroy();
    },
  };
}

const CHECKPOINT_INTERVAL_MS = 500;
/** Should the background checkpoints fall behind, past this many WAL pages the writer checkpoints by itself. */
const WRITER_CHECKPOINT_PAGES = 10_000;

/**
 * Copies committed WAL pages into the SQLite database file from a connection of its own. Left to the writer, the
 * commit that crosses SQLite's threshold (1,000 pages) does it, and every batch behind it waits: ingestion ran
 * about 10 % faster with the copying moved off its path (docs/benchmarks.md). Returns what stops it.
 */
async function checkpointInBackground(file: string, writer: DataSource): Promise<() => Promise<void>> {
  await writer.query(`PRAGMA wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
  const connection = new sqlite3.Database(file);
  // A PASSIVE checkpoint never waits for or blocks the writer or readers; one that finds another running fails, harmlessly.
  const timer = setInterval(() => connection.run("PRAGMA wal_checkpoint(PASSIVE)", () => undefined), CHECKPOINT_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    return new Promise<void>((resolve) => connection.close(() => resolve()));
  };
}
