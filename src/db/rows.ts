import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import { parameterMarker, valuesList } from "./bulk-insert";
import { isPostgres, StoreDataSource } from "./data-source";

// Reads of one transaction that go to the database as one statement (readTogether): each is a scalar subquery, its
// rows aggregated into one JSON value, decoded here. Every statement sent through node-sqlite3 costs a trip through
// its thread pool and back through the event loop, which incoming requests keep busy: waking a pool thread cost the
// main thread more than the reads themselves (docs/benchmarks.md). On PostgreSQL it is one round trip instead of several.

/** The parameters of one statement, each given its marker ($n on PostgreSQL, ? on SQLite) as it is bound. */
export class Bindings {
  readonly values: unknown[] = [];
  private readonly marker: (n: number) => string;

  constructor(readonly connection: DataSource) {
    this.marker = parameterMarker(connection);
  }

  bind = (value: unknown): string => this.marker(this.values.push(value));

  /** A VALUES list of these rows, each column cast to its type in `types`, as bulk-insert.ts typedValues writes it. */
  typedValues = (types: string[], rows: unknown[][]): string => valuesList(types, rows, this.bind);

  /** `column IN (…)` over these values; FALSE for none, which `IN ()` cannot say on PostgreSQL. */
  in = (column: string, values: Iterable<unknown>): string => {
    const unique = [...new Set(values)];
    if (unique.length === 0) return "FALSE";
    // On SQLite the list is one JSON parameter, so the SQL stays the same whatever its length (preparedQuery).
    return isPostgres(this.connection) ? `${column} IN (${unique.map(this.bind).join(", ")})` : `${column} IN (SELECT value FROM json_each(${this.bind(JSON.stringify(unique))}))`;
  };
}

/** One read of a readTogether statement: a subquery with a single value, and what that value means. */
export interface Read<T> {
  sql: string;
  decode: (value: unknown) => T;
}

/**
 * The reads' values, in order, from one statement. `build` makes the reads in the order it lists them (an array
 * literal does), so that their parameters are bound in the order their markers appear.
 */
export async function readTogether<T extends readonly unknown[]>(manager: EntityManager, build: (bindings: Bindings) => { [K in keyof T]: Read<T[K]> }): Promise<T> {
  const bindings = new Bindings(manager.connection);
  const reads = build(bindings);
  const sql = `SELECT ${reads.map((read, i) => `(${read.sql}) AS read${i}`).join(", ")}`;
  const connection = manager.connection;
  const [row] = connection instanceof StoreDataSource ? await connection.preparedQuery(manager, sql, bindings.values) : await manager.query(sql, bindings.values);
  return reads.map((read, i) => read.decode(row[`read${i}`])) as unknown as T;
}

/** SQL for the rows `from` (a FROM … WHERE … clause) selects as one JSON value: an array of arrays of `expressions`. */
export function aggregatedRows(connection: DataSource, expressions: string[], from: string): string {
  const [aggregate, array] = isPostgres(connection) ? ["json_agg", "json_build_array"] : ["json_group_array", "json_array"];
  return `SELECT ${aggregate}(${array}(${expressions.join(", ")})) ${from}`;
}

/**
 * The entity rows a raw WHERE clause selects, each hydrated column by column through the driver (types,
 * transformers), as TypeORM's own entity hydration costs more than the query on the ingest path. The JSON carries
 * what the driver would give: integers (below 2^53 here: times in milliseconds, counts), text, null; booleans as 0/1
 * on SQLite.
 */
export function entityRows<E extends ObjectLiteral>(connection: DataSource, entity: EntityTarget<E>, where: string): Read<E[]> {
  const metadata = connection.getMetadata(entity);
  const columns = metadata.columns;
  return {
    sql: aggregatedRows(connection, columns.map((column) => column.databaseName), `FROM ${metadata.tableName} WHERE ${where}`),
    decode: (value) =>
      jsonRows(value).map((values) => {
        const row = metadata.create() as E;
        columns.forEach((column, i) => column.setEntityValue(row, connection.driver.prepareHydratedValue(values[i], column)));
        return row;
      }),
  };
}

/** The rows with these ids, by id. With no ids it reads nothing: not even the table's columns. */
export function rowsById<E extends ObjectLiteral & { id: string }>(bindings: Bindings, entity: EntityTarget<E>, ids: string[]): Read<Map<string, E>> {
  if (ids.length === 0) return { sql: "SELECT NULL", decode: () => new Map() };
  const read = entityRows(bindings.connection, entity, bindings.in("id", ids));
  return { sql: read.sql, decode: (value) => new Map(read.decode(value).map((row) => [row.id, row])) };
}

/** An aggregate's rows, each an array of column values: SQLite gives JSON text, node-postgres parsed JSON (null for no rows). */
export const jsonRows = (value: unknown): unknown[][] => (value == null ? [] : ((typeof value === "string" ? JSON.parse(value) : value) as unknown[][]));
