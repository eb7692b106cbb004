import { loadConfig } from "../../src/config/config";
import { mayRetryBusy } from "../../src/db/busy";
import { postgresTimeoutOptions, sqliteBusyTimeoutMs } from "../../src/db/timeouts";

describe("database timeouts", () => {
  test("by default a connection is awaited 2 s, a statement runs 3 s (the client waits 1 s more) and an idle transaction lasts 10 s", () => {
    const timeouts = loadConfig({}).databaseTimeouts;
    expect(postgresTimeoutOptions(timeouts)).toEqual({
      connectionTimeoutMillis: 2000,
      statement_timeout: 3000,
      idle_in_transaction_session_timeout: 10_000,
      query_timeout: 4000,
      keepAlive: true,
    });
    expect(sqliteBusyTimeoutMs(timeouts)).toBe(3000);
  });

  test("each timeout follows its variable", () => {
    const timeouts = loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: "500", DATABASE_STATEMENT_TIMEOUT_MS: "700", DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: "900" }).databaseTimeouts;
    expect(timeouts).toEqual({ connectMs: 500, statementMs: 700, idleInTransactionMs: 900 });
    expect(postgresTimeoutOptions(timeouts)).toMatchObject({ connectionTimeoutMillis: 500, statement_timeout: 700, query_timeout: 1700, idle_in_transaction_session_timeout: 900 });
    expect(sqliteBusyTimeoutMs(timeouts)).toBe(700);
  });

  test("a timeout that is not a positive whole number of milliseconds stops the start, naming the variable", () => {
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: "0" })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/);
    expect(() => loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: "soon" })).toThrow(/DATABASE_CONNECT_TIMEOUT_MS/);
  });
});

describe("retrying a busy write", () => {
  const tried = { attempt: 1, attempts: 8, elapsedMs: 0, longestMs: 0, boundMs: 10_000 };

  test("a write refused at once is tried again, up to its attempts", () => {
    expect(mayRetryBusy({ ...tried, attempt: 1, elapsedMs: 1, longestMs: 1 })).toBe(true);
    expect(mayRetryBusy({ ...tried, attempt: 7, elapsedMs: 300, longestMs: 1 })).toBe(true);
    expect(mayRetryBusy({ ...tried, attempt: 8, elapsedMs: 300, longestMs: 1 })).toBe(false);
  });

  test("writes that each waited the whole 3 s busy timeout are tried three times in all, ending within 10 s", () => {
    expect(mayRetryBusy({ ...tried, attempt: 1, elapsedMs: 3000, longestMs: 3000 })).toBe(true);
    expect(mayRetryBusy({ ...tried, attempt: 2, elapsedMs: 6010, longestMs: 3000 })).toBe(true);
    expect(mayRetryBusy({ ...tried, attempt: 3, elapsedMs: 9030, longestMs: 3000 })).toBe(false);
  });

  test("no attempt starts that could end past the bound", () => {
    expect(mayRetryBusy({ ...tried, attempt: 1, elapsedMs: 5000, longestMs: 4990 })).toBe(true);
    expect(mayRetryBusy({ ...tried, attempt: 1, elapsedMs: 5000, longestMs: 4991 })).toBe(false);
  });
});
