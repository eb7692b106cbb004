import { once } from "node:events";
import { connect, Socket } from "node:net";
import { codeOfClientStatus } from "../../src/server/error-answers";
import { ADMIN_KEY, startServer, TestServer } from "../helpers/server";

/** An answer's status, the headers named, and its body parsed as JSON. */
async function answer(response: Response, ...headers: string[]) {
  return {
    status: response.status,
    headers: Object.fromEntries(headers.map((name) => [name, response.headers.get(name)])),
    body: await response.json(),
  };
}

const errorBody = (code: string) => ({ error: expect.any(String), code });

describe("Fastify's own answers carry { error, code }", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test("an unknown path answers 404 NOT_FOUND", async () => {
    expect(await answer(await fetch(`${server.url}/nowhere?x=1`))).toEqual({ status: 404, headers: {}, body: errorBody("NOT_FOUND") });
  });

  test("a known path with a method it does not take answers 405 METHOD_NOT_ALLOWED with an Allow header", async () => {
    const put = await answer(await fetch(`${server.url}/webhooks/postproxy`, { method: "PUT" }), "allow");
    expect(put).toEqual({ status: 405, headers: { allow: "POST" }, body: errorBody("METHOD_NOT_ALLOWED") });
    const del = await answer(await fetch(`${server.url}/graphql`, { method: "DELETE" }), "allow");
    expect(del).toEqual({ status: 405, headers: { allow: "GET, HEAD, OPTIONS, POST" }, body: errorBody("METHOD_NOT_ALLOWED") });
    const post = await answer(await fetch(`${server.url}/healthz`, { method: "POST" }), "allow");
    expect(post).toEqual({ status: 405, headers: { allow: "GET, HEAD" }, body: errorBody("METHOD_NOT_ALLOWED") });

    // GraphQL still answers GET and POST, in its own shape.
    const headers = { authorization: `Bearer ${ADMIN_KEY}`, "apollo-require-preflight": "true" };
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers });
    expect(await answer(get)).toMatchObject({ status: 200, headers: {}, body: { data: { __typename: "Query" } } });
    expect(await server.graphql("{ __typename }")).toMatchObject({ status: 200, body: { data: { __typename: "Query" } } });
    const invalid = await server.graphql("{ nope }");
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  test("bodies /graphql refuses: over its limit 413 PAYLOAD_TOO_LARGE, no Content-Type 415, not JSON or empty 400 BAD_REQUEST", async () => {
    const post = async (body: string | Blob, headers: Record<string, string> = { "content-type": "application/json" }) =>
      answer(await fetch(`${server.url}/graphql`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers }, body }));
    expect(await post(JSON.stringify({ query: `{ __typename }${" ".repeat(1024 * 1024)}` }))).toEqual({
      status: 413,
      headers: {},
      body: errorBody("PAYLOAD_TOO_LARGE"),
    });
    // A Blob body makes fetch send no Content-Type at all.
    expect(await post(new Blob(['{"query":"{ __typename }"}']), {})).toEqual({ status: 415, headers: {}, body: errorBody("UNSUPPORTED_MEDIA_TYPE") });
    for (const body of ['{"query":', ""]) expect(await post(body)).toEqual({ status: 400, headers: {}, body: errorBody("BAD_REQUEST") });
  });

  test("headers over Node's 16 KiB answer 431 REQUEST_HEADER_FIELDS_TOO_LARGE", async () => {
    const response = await fetch(`${server.url}/healthz`, { headers: { "x-padding": "a".repeat(20 * 1024) } });
    expect(await answer(response)).toEqual({ status: 431, headers: {}, body: errorBody("REQUEST_HEADER_FIELDS_TOO_LARGE") });
  });

  test("bytes that are not HTTP answer 400 BAD_REQUEST on the raw socket", async () => {
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    socket.end("NOT HTTP AT ALL\r\n\r\n");
    const [head, body] = (await readAll(socket)).split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(body)).toEqual(errorBody("BAD_REQUEST"));
  });
});

test("a request over a rate limit answers 429 RATE_LIMITED with Retry-After", async () => {
  const server = await startServer({ RATE_LIMIT_PER_ADDRESS: "1" });
  try {
    expect((await server.graphql("{ __typename }", undefined, null)).status).toBe(401);
    const over = await answer(await fetch(`${server.url}/exports/referrals.csv`), "retry-after");
    expect(over).toEqual({ status: 429, headers: { "retry-after": expect.stringMatching(/^\d+$/) }, body: errorBody("RATE_LIMITED") });
  } finally {
    await server.close();
  }
});

test("any other 4xx Fastify raises answers BAD_REQUEST; the statuses refgraph knows keep their code", () => {
  expect(codeOfClientStatus(406)).toBe("BAD_REQUEST");
  expect(codeOfClientStatus(404)).toBe("NOT_FOUND");
  expect(codeOfClientStatus(429)).toBe("RATE_LIMITED");
});

/** Everything the server writes on the socket until it closes it. */
async function readAll(socket: Socket): Promise<string> {
  let text = "";
  socket.on("data", (chunk) => (text += chunk));
  await once(socket, "close");
  return text;
}

test("while the server closes, the request in flight is answered with Connection: close and its connection ends, so close() never waits on it", async () => {
  const server = await startServer();
  try {
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    const received = readAll(socket);
    // A delivery whose body has not all arrived keeps the connection busy, so closing leaves it open.
    const arrived = once(server.app.server, "request");
    socket.write("POST /webhooks/postproxy HTTP/1.1\r\nHost: refgraph\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{");
    await arrived;
    const closed = server.app.close();
    while (server.app.server.listening) await new Promise((resolve) => setImmediate(resolve));
    // The rest of that body, then a second request on the same connection, now that the server is closing: the
    // server ends the connection after the first answer (the second, had it been answered, would be a 503).
    socket.write("}GET /healthz HTTP/1.1\r\nHost: refgraph\r\n\r\n");
    const answers = (await received).split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(1);
    const [head, body] = answers[0].split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 401 /); // unsigned: the request in flight is answered as usual
    expect(head.toLowerCase()).toContain("connection: close");
    expect(JSON.parse(body).code).toBe("INVALID_SIGNATURE");
    await closed;
  } finally {
    await server.store.close();
    await server.database.drop();
  }
});
