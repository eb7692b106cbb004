import { TestServer } from "./server";

/**
 * Caps the SQLite file at its current size, as a full disk would: the writer is the only connection that writes,
 * and its writes fail with SQLITE_FULL once the file would grow. Returns the file's size in pages.
 */
export async function fillDisk(server: TestServer): Promise<number> {
  const pages = await pageCount(server);
  await server.store.writer.query(`PRAGMA max_page_count = ${pages}`);
  return pages;
}

/** Lifts the cap fillDisk set (to SQLite's largest page count). */
export async function freeDisk(server: TestServer): Promise<void> {
  await server.store.writer.query("PRAGMA max_page_count = 1073741823");
}

export async function pageCount(server: TestServer): Promise<number> {
  const [{ page_count: pages }] = await server.store.writer.query("PRAGMA page_count");
  return pages;
}
