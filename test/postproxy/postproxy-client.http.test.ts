import { once } from "node:events";
import { createServer } from "node:net";
import { FakePostproxy } from "../../src/dev/fake-postproxy";
import { PostproxyClient } from "../../src/postproxy/postproxy.client";
import { ADMIN_KEY, SECRET, startServer, TestServer } from "../helpers/server";

// The client against the fake Postproxy over real HTTP: every answer and network failure maps to one outcome.

const API_KEY = "pp_test_key_0123456789";
let fake: FakePostproxy;
let baseUrl: string;
let refgraph: TestServer;

beforeAll(async () => {
  refgraph = await startServer();
  fake = new FakePostproxy({ apiKey: API_KEY, webhookUrl: `${refgraph.url}/webhooks/postproxy`, webhookSecret: SECRET });
  baseUrl = await fake.start();
});
afterAll(async () => {
  await fake.stop();
  await refgraph.close();
});

const client = (options: { apiKey?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
  new PostproxyClient({ baseUrl: options.baseUrl ?? baseUrl, apiKey: options.apiKey ?? API_KEY, timeoutMs: options.timeoutMs });
let keys = 0;
const send = (chatId: string, options: Parameters<typeof client>[0] & { key?: string; tag?: "HUMAN_AGENT" } = {}) =>
  client(options).sendMessage({ chatId, body: `Hello ${chatId}`, tag: options.tag, idempotencyKey: options.key ?? `key_${++keys}` });

test("an accepted send answers the pending Message; Postproxy saw the key, the API key and the body", async () => {
  const result = await send("ch_ok", { key: "greeting_1", tag: "HUMAN_AGENT" });
  expect(result).toEqual({ ok: true, message: { id: expect.stringMatching(/^msg_fake_/), status: "pending" } });
  expect(fake.requests.at(-1)).toEqual({ chatId: "ch_ok", idempotencyKey: "greeting_1", body: { body: "Hello ch_ok", tag: "HUMAN_AGENT" }, answer: 202 });
});

test("sending again with the same Idempotency-Key answers the same message and sends nothing more", async () => {
  const first = await send("ch_twice", { key: "same_key" });
  const second = await send("ch_twice", { key: "same_key" });
  expect(first.ok && second.ok && second.message.id === first.message.id).toBe(true);
  expect([...fake.messages.values()].filter((m) => m.chat_id === "ch_twice")).toHaveLength(1);
});

test("a second request with a key still in flight gets CONFLICT; the first is accepted", async () => {
  let release!: () => void;
  fake.failNext({ held: new Promise<void>((resolve) => (release = resolve)) });
  const arrived = once(fake, "request");
  const slow = send("ch_race", { key: "racing" });
  await arrived;
  const clash = await send("ch_race", { key: "racing" });
  release();
  expect((await slow).ok).toBe(true);
  expect(clash).toMatchObject({ ok: false, kind: "CONFLICT", transient: true });
});

test("a wrong API key is UNAUTHORIZED, not worth retrying", async () => {
  expect(await send("ch_ok", { apiKey: "wrong" })).toMatchObject({ ok: false, kind: "UNAUTHORIZED", transient: false, error: expect.stringContaining("Invalid API key") });
});

test("an unknown chat is NOT_FOUND", async () => {
  fake.unknownChats.add("ch_gone");
  expect(await send("ch_gone")).toMatchObject({ ok: false, kind: "NOT_FOUND", transient: false });
});

test("422 is REJECTED with Postproxy's reasons", async () => {
  fake.failNext({ status: 422, errors: ["Outside the 24 hour messaging window"] });
  expect(await send("ch_late")).toMatchObject({ ok: false, kind: "REJECTED", transient: false, error: expect.stringContaining("Outside the 24 hour messaging window") });
});

test("429 is RATE_LIMITED with its Retry-After", async () => {
  fake.failNext({ status: 429, retryAfterSeconds: 7 });
  expect(await send("ch_busy")).toMatchObject({ ok: false, kind: "RATE_LIMITED", transient: true, retryAfterMs: 7_000 });
});

test("500 is a SERVER_ERROR worth retrying, and the retry with the same key succeeds", async () => {
  fake.failNext({ status: 500 });
  expect(await send("ch_flaky", { key: "flaky" })).toMatchObject({ ok: false, kind: "SERVER_ERROR", transient: true });
  expect(await send("ch_flaky", { key: "flaky" })).toMatchObject({ ok: true });
});

test("an answer slower than the timeout is a TIMEOUT", async () => {
  let release!: () => void;
  fake.failNext({ held: new Promise<void>((resolve) => (release = resolve)) });
  expect(await send("ch_slow", { timeoutMs: 200 })).toMatchObject({ ok: false, kind: "TIMEOUT", transient: true, error: expect.stringContaining("0.2 s") });
  release();
});

test("a connection dropped without an answer is CONNECTION_FAILED", async () => {
  fake.failNext({ drop: true });
  expect(await send("ch_dropped")).toMatchObject({ ok: false, kind: "CONNECTION_FAILED", transient: true });
  expect(fake.requests.at(-1)?.answer).toBe("dropped");
});

test("a Postproxy that cannot be reached is CONNECTION_FAILED", async () => {
  const closed = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  expect(await send("ch_ok", { baseUrl: `http://127.0.0.1:${closed}` })).toMatchObject({ ok: false, kind: "CONNECTION_FAILED", error: expect.stringContaining("ECONNREFUSED") });
});

test("after accepting, the fake delivers signed message.sent and message.failed webhooks that refgraph stores", async () => {
  fake.failingChats.set("ch_blocked", "The user has blocked messages from this account");
  const sent = await send("ch_delivered");
  const failed = await send("ch_blocked");
  await fake.settled();
  const ids = [sent, failed].map((result) => (result.ok ? result.message.id : null));
  expect(fake.deliveries.filter((d) => ids.includes(d.messageId))).toEqual([
    { type: "message.sent", messageId: ids[0], status: 200 },
    { type: "message.failed", messageId: ids[1], status: 200 },
  ]);
  const { body } = await refgraph.graphql(`{ webhookEvents(first: 50) { edges { node { type status } } } }`, {}, ADMIN_KEY);
  const stored = body.data.webhookEvents.edges.map((edge: any) => edge.node);
  expect(stored).toEqual(expect.arrayContaining([{ type: "message.sent", status: "PROCESSED" }, { type: "message.failed", status: "PROCESSED" }]));
});
