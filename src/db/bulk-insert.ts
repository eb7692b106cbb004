import { DataSource, EntityManager, EntityTarget, ObjectLiteral, ValueTransformer } from "typeorm";
import { isPostgres } from "./data-source";
import { runInOrder, SqlStatement, sqliteLiteral, statement } from "./sql-script";

// Below SQLite's limit of 32,766 bound parameters per statement (PostgreSQL allows 65,535). On SQLite, where
// insertStatements binds none, it still bounds the length of one statement.
const MAX_PARAMETERS = 30_000;

/** The n-th (from 1) bound parameter in raw SQL: $n on PostgreSQL, ? on SQLite. */
export const parameterMarker = (connection: DataSource): ((n: number) => string) => (isPostgres(connection) ? (n) => `$${n}` : () => "?");

/** The markers of `count` bound parameters from the first, comma-separated: for `IN (…)` and `VALUES (…)`. */
export const parameterList = (connection: DataSource, count: number): string =>
  Array.from({ length: count }, (_, i) => parameterMarker(connection)(i + 1)).join(", ");

/**
 * A VALUES list for raw SQL (its columns are column1, column2, … on both databases), each column cast to its type
 * in `types`: PostgreSQL's parameters are untyped, and SQLite takes the casts as they are.
 */
export function typedValues(connection: DataSource, types: string[], rows: unknown[][]): { sql: string; parameters: unknown[] } {
  const marker = parameterMarker(connection);
  const parameters: unknown[] = [];
  return { sql: valuesList(types, rows, (value) => marker(parameters.push(value))), parameters };
}

/** typedValues' SQL, each parameter bound by `bind`, which returns its marker. */
export const valuesList = (types: string[], rows: unknown[][], bind: (value: unknown) => string): string =>
  `VALUES ${rows.map((row) => `(${row.map((value, i) => `CAST(${bind(value)} AS ${types[i]})`).join(", ")})`).join(", ")}`;

/**
 * Values written into the SQL rather than bound: binding is done value by value on the main thread (by node-sqlite3
 * above all), which bulk writes keep busy, while the SQL text is parsed by the database. On SQLite every value
 * (sqliteLiteral); on PostgreSQL nulls, booleans and finite numbers, strings being bound.
 */
const literals = (connection: DataSource): ((value: unknown) => string | undefined) => (isPostgres(connection) ? postgresLiteral : sqliteLiteral);

function postgresLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Multi-row INSERTs of entities, built directly: TypeORM's InsertQueryBuilder names and re-scans every parameter,
 * which costs more than the database's own work for the hundreds of rows one group commit writes. Values go
 * through the entities' column transformers; `suffix` adds an ON CONFLICT clause.
 */
export function insertStatements<E extends ObjectLiteral>(connection: DataSource, entity: EntityTarget<E>, rows: E[], suffix = ""): SqlStatement[] {
  const metadata = connection.getMetadata(entity);
  const columns = metadata.columns.filter((column) => !column.isGenerated);
  const readers = columns.map(columnValue);
  const placeholder = parameterMarker(connection);
  const literal = literals(connection);
  const names = columns.map((column) => column.databaseName).join(", ");
  const rowsPerStatement = Math.floor(MAX_PARAMETERS / columns.length);
  const statements: SqlStatement[] = [];
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const parameters: unknown[] = [];
    const tuples = rows.slice(start, start + rowsPerStatement).map((row) => {
      const values = readers.map((read) => {
        const value = read(row);
        return literal(value) ?? placeholder(parameters.push(value));
      });
      return `(${values.join(", ")})`;
    });
    statements.push(statement(`INSERT INTO ${metadata.tableName} (${names}) VALUES ${tuples.join(", ")} ${suffix}`, parameters));
  }
  return statements;
}

/**
 * How to read a column's value as written, through its transformer. TypeORM's getEntityValue first walks embedded and
 * relation columns, a cost the hundreds of values of one batch feel; a plain column is read directly.
 */
function columnValue(column: ReturnType<DataSource["getMetadata"]>["columns"][number]): (row: ObjectLiteral) => unknown {
  if (column.embeddedMetadata || column.relationMetadata || column.referencedColumn) return (row) => column.getEntityValue(row, true);
  const { propertyName, transformer } = column;
  return transformer ? (row) => written(transformer, row[propertyName]) : (row) => row[propertyName];
}

/** A value through its column's transformers, in order, as TypeORM applies them. */
const written = (transformer: ValueTransformer | ValueTransformer[], value: unknown): unknown =>
  Array.isArray(transformer) ? transformer.reduce((result, next) => next.to(result), value) : transformer.to(value);

export const bulkInsert = <E extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<E>, rows: E[], suffix = ""): Promise<void> =>
  runInOrder(manager, insertStatements(manager.connection, entity, rows, suffix));

/** ON CONFLICT clause that overwrites every column but the key with the incoming row's values. */
export function overwriteOnConflict(connection: DataSource, entity: EntityTarget<ObjectLiteral>, key: string): string {
  const columns = connection.getMetadata(entity).columns.map((column) => column.databaseName).filter((name) => name !== key);
  return `ON CONFLICT (${key}) DO UPDATE SET ${columns.map((name) => `${name} = excluded.${name}`).join(", ")}`;
}
