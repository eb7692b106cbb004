import { Client } from "pg";

const QUERY_READ_TIMEOUT = "Query read timeout";

/**
 * The pool's node-postgres client. When a query outlives query_timeout (a silent network: not even the server's
 * statement_timeout was heard), node-postgres rejects it but leaves the client waiting for its answer, so every later
 * query on it (the ROLLBACK first) would wait too. Ending the socket fails them at once, and the pool replaces the
 * client.
 */
export class PostgresClient extends Client {
  query(...args: unknown[]): any {
    const result = (Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      result.catch((error: Error) => {
        if (error.message === QUERY_READ_TIMEOUT) this.connection.stream.destroy();
      });
    }
    return result;
  }
}
