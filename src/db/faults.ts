/**
 * What kind of database failure an error is. A fault is the database's or the connection's, not the data's: the
 * same statement may succeed once it passes, so a webhook answers 503 (Postproxy retries) rather than keeping the
 * event FAILED. Anything else (a constraint, a value the column cannot hold, a bug) belongs to what was written.
 */
export interface DatabaseErrorClass {
  /** A short label operators count errors by (refgraph_database_errors_total). */
  label: string;
  fault: boolean;
}

const fault = (label: string): DatabaseErrorClass => ({ label, fault: true });
const content = (label: string): DatabaseErrorClass => ({ label, fault: false });

// node-sqlite3 gives SQLite's primary result code.
const SQLITE: Record<string, DatabaseErrorClass> = {
  SQLITE_BUSY: fault("busy"),
  SQLITE_LOCKED: fault("busy"),
  SQLITE_FULL: fault("disk_full"),
  SQLITE_IOERR: fault("io"),
  SQLITE_NOMEM: fault("resources"),
  SQLITE_CANTOPEN: fault("unavailable"),
  SQLITE_READONLY: fault("unavailable"),
  SQLITE_CORRUPT: fault("unavailable"),
  SQLITE_NOTADB: fault("unavailable"),
  SQLITE_PROTOCOL: fault("busy"),
  SQLITE_INTERRUPT: fault("timeout"),
  SQLITE_MISUSE: fault("unavailable"),
};

// PostgreSQL SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const POSTGRES_CLASSES: Record<string, DatabaseErrorClass> = {
  "08": fault("connection"),
  "53": fault("resources"),
  "57": fault("shutdown"),
  "58": fault("io"),
  "40": fault("busy"),
  "55": fault("busy"),
  XX: fault("unavailable"),
};
const POSTGRES_CODES: Record<string, DatabaseErrorClass> = {
  "57014": fault("timeout"), // canceling statement due to statement timeout
  "53100": fault("disk_full"),
  "25P03": fault("timeout"), // idle_in_transaction_session_timeout
};

// Node's socket errors, and node-postgres's and its pool's, which carry no code.
const SOCKET_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const CONNECTION_MESSAGES = new Set([
  "Connection terminated unexpectedly",
  "Connection terminated",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "Cannot use a pool after calling end on the pool",
]);
const TIMEOUT_MESSAGES = new Set(["Query read timeout", "timeout exceeded when trying to connect", "Connection terminated due to connection timeout", "timeout expired"]);

export function classifyDatabaseError(error: unknown): DatabaseErrorClass {
  const { code, message, driverError } = (error ?? {}) as { code?: unknown; message?: unknown; driverError?: unknown };
  if (typeof code === "string") {
    if (code.startsWith("SQLITE_")) return SQLITE[code] ?? content(code.slice("SQLITE_".length).toLowerCase());
    if (SOCKET_CODES.has(code)) return fault("connection");
    if (/^[0-9A-Z]{5}$/.test(code)) return POSTGRES_CODES[code] ?? POSTGRES_CLASSES[code.slice(0, 2)] ?? content(`sqlstate_${code.slice(0, 2)}`);
  }
  if (typeof message === "string") {
    if (CONNECTION_MESSAGES.has(message)) return fault("connection");
    if (TIMEOUT_MESSAGES.has(message)) return fault("timeout");
  }
  // TypeORM wraps a driver's error without its code when the error had none (node-postgres's own).
  if (driverError && driverError !== error) return classifyDatabaseError(driverError);
  return content("other");
}
