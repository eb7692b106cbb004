import { createHash } from "node:crypto";
import { runCli, useTestStore } from "../helpers/processes";

const context = useTestStore();
const refgraph = (...args: string[]) => runCli(context.database, ...args);

const rowsNamed = (name: string) => context.store.reader.query(`SELECT * FROM api_key WHERE name = '${name}'`);

test("keys create prints the new key as its one and only line", async () => {
  const run = await refgraph("keys", "create", "--name", "dashboard", "--scope", "read");
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^rg_[A-Za-z0-9_-]{43}\n$/);
  expect(run.stderr).toBe("");
});

test("the key is stored only as its SHA-256 hex digest, never in clear", async () => {
  const key = (await refgraph("keys", "create", "--name", "stored", "--scope", "write")).stdout.trim();
  const rows = await rowsNamed("stored");
  expect(rows).toHaveLength(1);
  expect(rows[0].key_hash).toBe(createHash("sha256").update(key).digest("hex"));
  expect(rows[0].scope).toBe("write");
  for (const value of Object.values(rows[0])) expect(String(value)).not.toContain(key.slice("rg_".length));
});

test("keys list shows each key's name, scope and status, but never the key or its hash", async () => {
  const key = (await refgraph("keys", "create", "--name", "listed", "--scope", "read")).stdout.trim();
  const [{ key_hash: hash }] = await rowsNamed("listed");
  const run = await refgraph("keys", "list");
  expect(run.code).toBe(0);
  const line = run.stdout.split("\n").find((entry) => entry.startsWith("listed\t"));
  expect(line?.split("\t")).toEqual(["listed", "read", expect.stringMatching(/^\d{4}-\d\d-\d\dT/), "active"]);
  expect(run.stdout).not.toContain(key.slice("rg_".length));
  expect(run.stdout).not.toContain(hash);
});

test("creating a key under a name already taken fails with exit code 2 and says why on stderr", async () => {
  await refgraph("keys", "create", "--name", "twice", "--scope", "read");
  const run = await refgraph("keys", "create", "--name", "twice", "--scope", "write");
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toContain("a key named 'twice' already exists");
  expect(await rowsNamed("twice")).toEqual([expect.objectContaining({ scope: "read" })]);
});

test("an unknown scope fails with exit code 2, names the scope given, and creates nothing", async () => {
  const run = await refgraph("keys", "create", "--name", "boss", "--scope", "superuser");
  expect(run.code).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(/--scope read\|write \(got superuser\)/);
  expect(await rowsNamed("boss")).toEqual([]);
});

test("keys revoke marks the key revoked, and list then shows it revoked", async () => {
  await refgraph("keys", "create", "--name", "leaked", "--scope", "write");
  const revoke = await refgraph("keys", "revoke", "leaked");
  expect(revoke).toEqual({ code: 0, stdout: "revoked leaked\n", stderr: "" });
  const line = (await refgraph("keys", "list")).stdout.split("\n").find((entry) => entry.startsWith("leaked\t"));
  expect(line?.split("\t")[3]).toMatch(/^revoked \d{4}-\d\d-\d\dT/);
  const [row] = await rowsNamed("leaked");
  expect(row.revoked_at).not.toBeNull();
});

test("revoking a name that has no active key fails with exit code 2", async () => {
  const unknown = await refgraph("keys", "revoke", "nobody");
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("no active key named 'nobody'");

  await refgraph("keys", "create", "--name", "once", "--scope", "read");
  expect((await refgraph("keys", "revoke", "once")).code).toBe(0);
  const again = await refgraph("keys", "revoke", "once");
  expect(again.code).toBe(2);
  expect(again.stderr).toContain("no active key named 'once'");
});
