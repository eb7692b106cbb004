import { Writable } from "node:stream";
import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

// Refusals are the client's mistake or an attack, not refgraph's failure: a flood of them must not flood the log
// at warn or error level (nor write stacks), which operators alert on.

const lines: { level: number; msg: string }[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});
const WARN = 40;

let server: TestServer;
beforeAll(async () => {
  server = await startServer(
    { LOG_LEVEL: "info", GRAPHQL_MAX_COST: "5000", GRAPHQL_COST_BUDGET: "5000", GRAPHQL_COST_RESTORE_PER_SECOND: "1", RATE_LIMIT_PER_ADDRESS: "1" },
    { logStream },
  );
});
afterAll(() => server.close());

async function inTurn<T>(count: number, send: () => Promise<T>): Promise<T[]> {
  const answers: T[] = [];
  for (let i = 0; i < count; i++) answers.push(await send());
  return answers;
}

const post = (body: string | Buffer, headers: Record<string, string>) => fetch(`${server.url}/graphql`, { method: "POST", body, headers }).then((r) => r.status);

test("every limit and every refusal before execution is logged below warn level", async () => {
  const fanOut = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Chat { ...F${i + 1} ...F${i + 1} }`).join("\n");
  const refused = [
    await server.graphql(`${fanOut}\nfragment F30 on Chat { id }\n{ chats { edges { node { ...F0 } } } }`),
    await server.graphql(`{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: __typename`).join(" ")} }`),
    await server.graphql(`# ${"x".repeat(100_000)}\n{ chats { totalCount } }`),
    await server.graphql("{ chats { edges { node { referrals { edges { node { chat { referrals { edges { node { chat { id } } } } } } } } } } } }"),
    await server.graphql("query($first: Int) { chats(first: $first) { totalCount } }", { first: "ten" }),
    await server.graphql("query A { chats { totalCount } } query B { chats { totalCount } }"),
    await server.graphql("{ campaignStats(range: LAST_90D, interval: HOUR, first: 46) { rows { key { ref } } } }"),
    // Cost 1,002 five times in turn from a budget of 5,000 restoring 1 a second: the fifth is over (unless 10 s pass).
    ...(await inTurn(5, () => server.graphql("{ chats(first: 100) { edges { node { id platform profileId createdAt lastInboundAt participant { externalId name username } } } } }"))),
    await server.graphql("{ chats { totalCount } }", undefined, null),
    await server.graphql("{ chats { totalCount } }", undefined, "rg_unknown"),
    await server.graphql("{ chatz }"),
  ];
  expect(refused.map((answer) => answer.status)).toEqual([400, 400, 400, 400, 400, 400, 400, 200, 200, 200, 200, 429, 401, 429, 400]);
  expect(
    await Promise.all([
      post("{", { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` }),
      // Bytes, so that fetch sends no Content-Type.
      post(Buffer.from("{}"), { authorization: `Bearer ${ADMIN_KEY}` }),
      fetch(`${server.url}/nowhere`).then((r) => r.status),
      fetch(`${server.url}/graphql`, { method: "DELETE" }).then((r) => r.status),
    ]),
  ).toEqual([400, 415, 404, 405]);

  expect(lines.length).toBeGreaterThan(0);
  expect(lines.filter((line) => line.level >= WARN)).toEqual([]);
});
