/** How long refgraph waits on the database (DATABASE_*_TIMEOUT_MS), so nothing waits forever on a silent network. */
export interface DatabaseTimeouts {
  connectMs: number;
  statementMs: number;
  idleInTransactionMs: number;
}

/**
 * node-postgres pool and client options. The server ends a statement at statement_timeout; the client gives up one
 * second later (query_timeout), so the server's own, clearer error comes first whenever the server can be heard.
 */
export function postgresTimeoutOptions(timeouts: DatabaseTimeouts) {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    query_timeout: timeouts.statementMs + 1000,
    // A peer that vanished without a word is noticed by the kernel, not only by the next query.
    keepAlive: true,
  };
}

/** How long a SQLite statement waits for another connection's write lock before SQLITE_BUSY. */
export const sqliteBusyTimeoutMs = (timeouts: DatabaseTimeouts) => timeouts.statementMs;
