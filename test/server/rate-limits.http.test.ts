import { signatureHeader } from "../../src/webhooks/signature";
import { referralEvent } from "../helpers/events";
import { runCli } from "../helpers/processes";
import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

const QUERY = "{ __typename }";
const rateLimited = { error: expect.stringMatching(/^Too many requests; retry after \d+ seconds\.$/), code: "RATE_LIMITED" };

/** A new read key, created the way an operator does. */
async function readKey(server: TestServer, name: string): Promise<string> {
  const run = await runCli(server.database, "keys", "create", "--name", name, "--scope", "read");
  if (run.code !== 0) throw new Error(`keys create failed: ${run.stderr}`);
  return run.stdout.trim();
}

/** GETs a path with these headers: status, the rate limit headers and the body (JSON when it is). */
async function get(server: TestServer, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + path, { headers });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    limit: response.headers.get("x-ratelimit-limit"),
    body: response.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : text,
  };
}

const statuses = (answers: { status: number }[]) => answers.map((answer) => answer.status);

/** Sends requests one after another, so each is counted before the next. */
async function inTurn<T>(count: number, send: (i: number) => Promise<T>): Promise<T[]> {
  const answers: T[] = [];
  for (let i = 0; i < count; i++) answers.push(await send(i));
  return answers;
}

describe("per API key on /graphql and /exports", () => {
  let server: TestServer;
  const keys = { dashboard: "", bi: "", exports: "" };
  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_KEY: "3", RATE_LIMIT_PER_ADDRESS: "2" });
    keys.dashboard = await readKey(server, "dashboard");
    keys.bi = await readKey(server, "bi");
    keys.exports = await readKey(server, "exports");
  });
  afterAll(() => server.close());

  test("each key is counted apart, authenticated once per request; over the limit: 429 RATE_LIMITED with Retry-After", async () => {
    const before = server.queries.count;
    const dashboard = await inTurn(4, () => server.graphql(QUERY, undefined, keys.dashboard));
    // One SQL statement per request under the limit (the key's lookup, shared with GraphQL); none for the one over it.
    expect(server.queries.count - before).toBe(3);
    expect(statuses(dashboard)).toEqual([200, 200, 200, 429]);
    expect(dashboard[3].body).toEqual(rateLimited);

    const bi = await inTurn(3, () => server.graphql(QUERY, undefined, keys.bi));
    expect(statuses(bi)).toEqual([200, 200, 200]);
    const admin = await server.graphql(QUERY, undefined, ADMIN_KEY);
    expect(admin.status).toBe(200);

    const over = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${keys.dashboard}` },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(over.headers.get("retry-after"))).toBeLessThanOrEqual(3600);
    expect(over.headers.get("x-ratelimit-limit")).toBe("3");
    expect(over.headers.get("x-ratelimit-remaining")).toBe("0");
  });

  test("exports count under their key like GraphQL; over the limit: 429 RATE_LIMITED", async () => {
    const auth = { authorization: `Bearer ${keys.exports}` };
    const answers = await inTurn(4, () => get(server, "/exports/referrals.csv", auth));
    expect(statuses(answers)).toEqual([200, 200, 200, 429]);
    expect(answers[3]).toMatchObject({ limit: "3", body: rateLimited });
    expect(Number(answers[3].retryAfter)).toBeGreaterThan(0);
  });

  test("requests without a valid key are counted per address, at the lower rate", async () => {
    const noKey = await inTurn(3, () => get(server, "/exports/referrals.csv"));
    expect(statuses(noKey)).toEqual([401, 401, 429]);
    expect(noKey[2]).toMatchObject({ limit: "2", body: rateLimited });
    const unknownKey = await server.graphql(QUERY, undefined, "rg_not-a-real-key");
    expect(unknownKey).toEqual({ status: 429, body: rateLimited });
    // A valid key from the same address is still counted under the key, and health checks are never limited.
    expect((await server.graphql(QUERY, undefined, ADMIN_KEY)).status).toBe(200);
    const health = await inTurn(6, (i) => get(server, i % 2 ? "/healthz" : "/readyz"));
    expect(statuses(health)).toEqual([200, 200, 200, 200, 200, 200]);
  });
});

describe("webhooks", () => {
  test("badly signed deliveries are counted per address; signed ones from that address keep answering 200", async () => {
    const server = await startServer({ RATE_LIMIT_PER_ADDRESS: "2" });
    try {
      const unsigned = (i: number) => server.postRaw(JSON.stringify(referralEvent({ chat: `ch_bad_${i}`, ref: "summer" })), {});
      const wrongSecret = (i: number) => {
        const body = JSON.stringify(referralEvent({ chat: `ch_wrong_${i}`, ref: "summer" }));
        return server.postRaw(body, { "x-postproxy-signature": signatureHeader("whsec_not_the_secret", body, Math.floor(Date.now() / 1000)) });
      };
      const bad = await inTurn(2, unsigned);
      expect(bad.map((answer) => answer.body.code)).toEqual(["INVALID_SIGNATURE", "INVALID_SIGNATURE"]);
      expect(await wrongSecret(0)).toEqual({ status: 429, body: rateLimited });

      const signed = await inTurn(10, (i) => server.deliver(referralEvent({ chat: `ch_good_${i}`, ref: "summer" })));
      expect(statuses(signed)).toEqual(Array(10).fill(200));
      expect(await unsigned(3)).toEqual({ status: 429, body: rateLimited });
    } finally {
      await server.close();
    }
  });

  test("without a webhook secret (development), webhooks are not limited, though the address is over its limit", async () => {
    const server = await startServer({ POSTPROXY_WEBHOOK_SECRET: "", RATE_LIMIT_PER_ADDRESS: "1" });
    try {
      expect(statuses(await inTurn(2, () => server.graphql(QUERY, undefined, null)))).toEqual([401, 429]);
      const answers = await inTurn(4, (i) => server.postRaw(JSON.stringify(referralEvent({ chat: `ch_dev_${i}`, ref: "summer" })), {}));
      expect(statuses(answers)).toEqual([200, 200, 200, 200]);
    } finally {
      await server.close();
    }
  });
});

describe("TRUST_PROXY", () => {
  const fromClient = (server: TestServer, client: string) => get(server, "/exports/referrals.csv", { "x-forwarded-for": client });

  test("off (the default): X-Forwarded-For is ignored, every request counts under the peer's address", async () => {
    const server = await startServer({ RATE_LIMIT_PER_ADDRESS: "2" });
    try {
      const answers = await inTurn(3, (i) => fromClient(server, `203.0.113.${i}`));
      expect(statuses(answers)).toEqual([401, 401, 429]);
    } finally {
      await server.close();
    }
  });

  test("on: the client address comes from X-Forwarded-For, so each client is counted apart", async () => {
    const server = await startServer({ RATE_LIMIT_PER_ADDRESS: "2", TRUST_PROXY: "127.0.0.1" });
    try {
      const first = await inTurn(3, () => fromClient(server, "203.0.113.7"));
      expect(statuses(first)).toEqual([401, 401, 429]);
      expect((await fromClient(server, "203.0.113.8")).status).toBe(401);
      // Prepending to X-Forwarded-For changes nothing: the nearest address refgraph does not trust is the client.
      expect((await fromClient(server, "203.0.113.9, 203.0.113.7")).status).toBe(429);
    } finally {
      await server.close();
    }
  });
});
