import { runCli } from "../helpers/processes";
import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

const QUERY = `{ webhookEvents(first: 1) { totalCount } }`;
const MUTATION = `mutation { replayWebhookEvent(id: "x") { id } }`;

/** Runs `refgraph <args>` against the server's database and returns its standard output. */
async function cli(server: TestServer, ...args: string[]): Promise<string> {
  const run = await runCli(server.database, ...args);
  if (run.code !== 0) throw new Error(`refgraph ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout.trim();
}

const code = (response: { body: any }) => response.body.errors?.[0]?.extensions?.code;

describe("with REFGRAPH_ADMIN_KEY set", () => {
  let server: TestServer;
  const keys = { read: "", write: "", revoked: "" };
  beforeAll(async () => {
    server = await startServer();
    keys.read = await cli(server, "keys", "create", "--name", "reader", "--scope", "read");
    keys.write = await cli(server, "keys", "create", "--name", "writer", "--scope", "write");
    keys.revoked = await cli(server, "keys", "create", "--name", "gone", "--scope", "write");
  });
  afterAll(() => server.close());

  test("keys created through the CLI land in the server's own database", async () => {
    const rows = await server.store.reader.query(`SELECT name FROM api_key ORDER BY name`);
    expect(rows.map((row: { name: string }) => row.name)).toEqual(["gone", "reader", "writer"]);
  });

  test("a request without an Authorization header is refused with UNAUTHENTICATED and HTTP 401", async () => {
    const response = await server.graphql(QUERY, undefined, null);
    expect(response.status).toBe(401);
    expect(code(response)).toBe("UNAUTHENTICATED");
    expect(response.body.data).toBeUndefined();
  });

  test("an unknown key is refused with UNAUTHENTICATED, whether or not it looks like an issued key", async () => {
    for (const key of ["rg_not-a-real-key", "no-such-admin-key-0123456789"]) {
      const response = await server.graphql(QUERY, undefined, key);
      expect(response.status).toBe(401);
      expect(code(response)).toBe("UNAUTHENTICATED");
    }
  });

  test("an Authorization header that is not a Bearer key is refused with UNAUTHENTICATED", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${ADMIN_KEY}` },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(response.status).toBe(401);
    expect(code({ body: await response.json() })).toBe("UNAUTHENTICATED");
  });

  test("introspection without a key is refused with UNAUTHENTICATED", async () => {
    const response = await server.graphql(`{ __schema { queryType { name } } }`, undefined, null);
    expect(response.status).toBe(401);
    expect(code(response)).toBe("UNAUTHENTICATED");
    expect(response.body.data).toBeUndefined();
  });

  test("the admin key can query and run mutations", async () => {
    const query = await server.graphql(QUERY, undefined, ADMIN_KEY);
    expect(query.body).toMatchObject({ data: { webhookEvents: { totalCount: 0 } } });
    expect(query.body.errors).toBeUndefined();
    const mutation = await server.graphql(MUTATION, undefined, ADMIN_KEY);
    expect(code(mutation)).toBe("NOT_FOUND");
  });

  test("a read key can run queries", async () => {
    const response = await server.graphql(QUERY, undefined, keys.read);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ data: { webhookEvents: { totalCount: 0 } } });
    expect(response.body.errors).toBeUndefined();
  });

  test("a read key is refused a mutation with FORBIDDEN and HTTP 403, before the mutation runs", async () => {
    const response = await server.graphql(MUTATION, undefined, keys.read);
    expect(response.status).toBe(403);
    expect(code(response)).toBe("FORBIDDEN");
    expect(response.body.errors[0].message).toMatch(/'reader' has scope read/);
  });

  test("a write key passes auth on a mutation and reaches the resolver, which answers NOT_FOUND for a missing event", async () => {
    const response = await server.graphql(MUTATION, undefined, keys.write);
    expect(code(response)).toBe("NOT_FOUND");
    const query = await server.graphql(QUERY, undefined, keys.write);
    expect(query.body.data.webhookEvents.totalCount).toBe(0);
  });

  test("a key revoked through the CLI is refused with UNAUTHENTICATED at once", async () => {
    expect(code(await server.graphql(QUERY, undefined, keys.revoked))).toBeUndefined();
    await cli(server, "keys", "revoke", "gone");
    const response = await server.graphql(QUERY, undefined, keys.revoked);
    expect(response.status).toBe(401);
    expect(code(response)).toBe("UNAUTHENTICATED");
  });
});

describe("in open mode (REFGRAPH_ADMIN_KEY unset)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ REFGRAPH_ADMIN_KEY: "" });
  });
  afterAll(() => server.close());

  test("a request without an Authorization header can query and run mutations", async () => {
    const query = await server.graphql(QUERY, undefined, null);
    expect(query.body).toMatchObject({ data: { webhookEvents: { totalCount: 0 } } });
    expect(query.body.errors).toBeUndefined();
    const mutation = await server.graphql(MUTATION, undefined, null);
    expect(code(mutation)).toBe("NOT_FOUND");
  });

  test("a request with an unknown key is still refused with UNAUTHENTICATED", async () => {
    for (const key of ["rg_not-a-real-key", ADMIN_KEY]) {
      const response = await server.graphql(QUERY, undefined, key);
      expect(response.status).toBe(401);
      expect(code(response)).toBe("UNAUTHENTICATED");
    }
  });
});
