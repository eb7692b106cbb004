import { EntityManager } from "typeorm";

/** One SQL statement and its bound parameters, as a writer plans it. */
export interface SqlStatement {
  sql: string;
  parameters: unknown[];
}

export const statement = (sql: string, parameters: unknown[] = []): SqlStatement => ({ sql, parameters });

/** Runs the statements one after another. */
export async function runInOrder(manager: EntityManager, statements: SqlStatement[]): Promise<void> {
  for (const { sql, parameters } of statements) await manager.query(sql, parameters);
}

/**
 * The statements as one SQLite script, each parameter written in as a literal, for sqlite3_exec: it runs them in
 * order in one call and stops at the first that fails. Binding needs a call (a trip through the thread pool and the
 * event loop) per statement.
 */
export const sqliteScript = (statements: SqlStatement[]): string => statements.map(({ sql, parameters }) => inlineParameters(sql, parameters)).join(";\n");

/**
 * Replaces each `?` marker of SQL built by this code base with its parameter as a SQLite literal. Markers are found
 * outside quoted strings and identifiers; the SQL holds no comments.
 */
export function inlineParameters(sql: string, parameters: unknown[]): string {
  // SQL with its values written in already (insertStatements) holds no marker, unless inside a string.
  if (parameters.length === 0 && !sql.includes("?")) return sql;
  let out = "";
  let next = 0;
  let quote: string | null = null;
  let from = 0;
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i];
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === "?") {
      if (next >= parameters.length) throw new Error(`the SQL has more markers than its ${parameters.length} parameters`);
      out += sql.slice(from, i) + sqliteLiteral(parameters[next++]);
      from = i + 1;
    }
  }
  if (next !== parameters.length) throw new Error(`the SQL has ${next} markers for ${parameters.length} parameters`);
  return out + sql.slice(from);
}

/**
 * A value as a SQLite literal that stands for what binding it would store. Text is quoted, its quotes doubled; text
 * holding NUL, which would end the script early, is written as the hex of its UTF-8 bytes, cast to text.
 */
export function sqliteLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`${value} has no SQLite literal`);
    return String(value);
  }
  // replaceAll costs even when there is nothing to replace, and most text holds no quote.
  if (typeof value === "string")
    return value.includes("\0") ? `CAST(X'${Buffer.from(value, "utf8").toString("hex")}' AS TEXT)` : `'${value.includes("'") ? value.replaceAll("'", "''") : value}'`;
  if (Buffer.isBuffer(value)) return `X'${value.toString("hex")}'`;
  throw new Error(`a ${typeof value} has no SQLite literal`);
}
