import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, Store } from "../../src/db/data-source";
import { entities } from "../../src/entities";
import { createTestDatabase, TestDatabase } from "./server";

export const CLI = join(__dirname, "../../dist/src/cli/main.js");

/** The database's URL as an operator would give it to the CLI or server; on PostgreSQL, pointed at the test schema. */
export function processDatabaseUrl(database: TestDatabase): string {
  if (!database.schema) return database.url;
  const options = encodeURIComponent(`-c search_path=${database.schema}`);
  return `${database.url}${database.url.includes("?") ? "&" : "?"}options=${options}`;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `refgraph` CLI on the database, in a folder with no .env. */
export function runCli(database: TestDatabase, ...args: string[]): Promise<CliRun> {
  return runCliWithEnv(database, {}, ...args);
}

/** runCli with more of the environment (REF_GRAMMAR, …) beside PATH and the database's DATABASE_URL. */
export function runCliWithEnv(database: TestDatabase, env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: tmpdir(), env: { PATH: process.env.PATH ?? "", DATABASE_URL: processDatabaseUrl(database), ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A migrated test database for the file's tests, dropped after them. */
export function useTestStore(): { database: TestDatabase; store: Store } {
  const context = {} as { database: TestDatabase; store: Store };
  beforeAll(async () => {
    context.database = await createTestDatabase();
    context.store = await openStore(context.database.url, { entities, schema: context.database.schema });
  });
  afterAll(async () => {
    await context.store.close();
    await context.database.drop();
  });
  return context;
}
