import sqlite3 from "sqlite3";
import { DataSource } from "typeorm";
import { ApiKeyService } from "../../src/auth/api-key.service";
import { dataSourceOptions } from "../../src/db/data-source";
import { entities } from "../../src/entities";
import { useTestStore } from "../helpers/processes";

const context = useTestStore();
let readOnly: DataSource;

// A connection to the test database that refuses every write, standing in for the server's reader.
beforeAll(async () => {
  const options = dataSourceOptions(context.database.url, { entities, schema: context.database.schema });
  readOnly = await new DataSource(
    options.type === "sqlite"
      ? { ...options, flags: sqlite3.OPEN_READONLY }
      : { ...options, extra: { ...options.extra, options: `${options.extra.options ?? ""} -c default_transaction_read_only=on` } },
  ).initialize();
});
afterAll(() => readOnly.destroy());

test("the stand-in reader refuses writes", async () => {
  await expect(readOnly.query("DELETE FROM api_key")).rejects.toThrow(/readonly|read-only/);
});

test("keys are created and revoked on the writer; lookups and the list read from the reader", async () => {
  const keys = new ApiKeyService(context.store.writer, readOnly, undefined);
  const now = new Date("2026-12-01T10:00:00Z");
  const key = await keys.create("dashboard", "read", now);
  expect(await keys.exists("dashboard")).toBe(true);
  expect(await keys.authenticate(`Bearer ${key}`)).toEqual({ name: "dashboard", scope: "read" });

  expect(await keys.revoke("dashboard", new Date(now.getTime() + 1000))).toBe(true);
  expect(await keys.authenticate(`Bearer ${key}`)).toBeNull();
  expect(await keys.revoke("dashboard", now)).toBe(false);
  expect((await keys.list()).map(({ name, revokedAt }) => ({ name, revokedAt }))).toEqual([{ name: "dashboard", revokedAt: new Date(now.getTime() + 1000) }]);
});
