/**
 * Runs `work` again when SQLite reports the database busy. Two connections write to one SQLite file (ingestion's
 * writer, and the greetings' single statements on the other connection; the CLI too), and in WAL mode a
 * transaction that read before another connection's commit is refused at its first write, without waiting.
 * PostgreSQL never answers SQLITE_BUSY, so there it runs once.
 */
export async function retryWhenBusy<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY" || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 10 * Math.random()));
    }
  }
}
