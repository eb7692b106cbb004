import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { signatureHeader } from "../webhooks/signature";

// A stand-in for Postproxy's send-message API, for tests and the demo (facts: shared/postproxy-api.md). It answers
// as Postproxy does (202 with a pending Message; 401, 404, 409, 422, 429 as documented), keeps sends idempotent by
// Idempotency-Key, and then delivers a signed `message.sent` or `message.failed` webhook to refgraph. It can be told
// to fail the next requests in any of the ways Postproxy or the network can.

/** What the next request gets instead of the normal answer. */
export type ScriptedAnswer =
  | { status: 500 | 502 | 503 }
  | { status: 429; retryAfterSeconds?: number }
  | { status: 422; errors: string[] }
  /** Answers normally, but only once `held` settles: the test decides when. */
  | { held: Promise<unknown> }
  /** Closes the connection without answering. */
  | { drop: true };

export interface FakePostproxyOptions {
  /** The only API key accepted; others get 401. */
  apiKey: string;
  /** Where to deliver the message.sent / message.failed webhooks, and the secret to sign them with. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** How long after accepting a message its webhook is delivered (default 20 ms). */
  deliveryDelayMs?: number;
  /** When set, a send is answered only after its webhook was delivered and this settled: Postproxy's webhook may overtake its 202. */
  answerAfterWebhook?: Promise<unknown>;
}

/** One accepted send: the Message as answered, and what the webhook later said. */
export interface FakeMessage {
  id: string;
  chat_id: string;
  body: string;
  tag: string | null;
  status: "pending" | "published" | "failed";
  error_message: string | null;
  idempotencyKey: string;
}

export interface RecordedRequest {
  chatId: string;
  idempotencyKey: string | null;
  body: unknown;
  /** What was answered: a status, or "dropped". */
  answer: number | "dropped";
}

/** Emits "request" with each RecordedRequest as it arrives, before it is answered. */
export class FakePostproxy extends EventEmitter {
  /** Every request to the send route, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Accepted sends by Idempotency-Key: a second send with the same key is answered with the same message. */
  readonly messages = new Map<string, FakeMessage>();
  /** Chats Postproxy does not know: sends to them get 404. */
  readonly unknownChats = new Set<string>();
  /** Sends to these chats are accepted, and later fail with this reason (message.failed). */
  readonly failingChats = new Map<string, string>();
  /** Webhook deliveries made, with refgraph's answer status (0 when it could not be reached). */
  readonly deliveries: { type: string; messageId: string; status: number }[] = [];
  /** The most send requests it held unanswered at once. */
  mostAtOnce = 0;
  private open = 0;
  private readonly script: ScriptedAnswer[] = [];
  private readonly inFlight = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private server: Server | null = null;

  /** The options may change while it runs (a test learns refgraph's URL after starting both). */
  constructor(readonly options: FakePostproxyOptions) {
    super();
  }

  /** The next requests get these answers, one each, in order. */
  failNext(...answers: ScriptedAnswer[]): void {
    this.script.push(...answers);
  }

  /** Listens on a free port of 127.0.0.1; returns the base URL to give refgraph as POSTPROXY_BASE_URL. */
  async start(): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Waits for the webhooks already scheduled, then stops listening. */
  async stop(): Promise<void> {
    await this.settled();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once every scheduled webhook delivery has been made. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const match = request.method === "POST" ? /^\/api\/chats\/([^/]+)\/messages$/.exec(request.url ?? "") : null;
    const text = await readBody(request);
    if (!match) return send(response, 404, { error: "Not found" });
    const chatId = decodeURIComponent(match[1]);
    const key = header(request, "idempotency-key");
    const record: RecordedRequest = { chatId, idempotencyKey: key, body: parse(text), answer: 0 };
    this.requests.push(record);
    this.open += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.open);
    this.emit("request", record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.open -= 1;
      record.answer = status;
      send(response, status, body, headers);
    };

    const scripted = this.script.shift();
    if (scripted && "drop" in scripted) {
      this.open -= 1;
      record.answer = "dropped";
      request.socket.destroy();
      return;
    }
    if (key && this.inFlight.has(key)) return answer(409, { error: "A request with this Idempotency-Key is in progress" });
    if (key) this.inFlight.add(key);
    try {
      if (scripted && "held" in scripted) await scripted.held;
      if (scripted && "status" in scripted) {
        if (scripted.status === 422) return answer(422, { errors: scripted.errors });
        if (scripted.status === 429)
          return answer(429, { error: "Rate limit exceeded" }, scripted.retryAfterSeconds === undefined ? {} : { "retry-after": String(scripted.retryAfterSeconds) });
        return answer(scripted.status, { error: "Internal server error" });
      }
      if (header(request, "authorization") !== `Bearer ${this.options.apiKey}`) return answer(401, { error: "Invalid API key" });
      if (this.unknownChats.has(chatId)) return answer(404, { error: "Not found" });
      const body = record.body as { body?: unknown; tag?: unknown } | null;
      if (!body || typeof body.body !== "string" || body.body === "") return answer(422, { errors: ["Body can't be blank"] });
      const known = key ? this.messages.get(key) : undefined;
      if (known) return answer(202, messageJson(known));
      const message: FakeMessage = {
        id: `msg_fake_${randomUUID()}`,
        chat_id: chatId,
        body: body.body,
        tag: typeof body.tag === "string" ? body.tag : null,
        status: "pending",
        error_message: null,
        idempotencyKey: key ?? randomUUID(),
      };
      this.messages.set(message.idempotencyKey, message);
      const accepted = messageJson(message);
      const delivery = this.schedule(message);
      if (this.options.answerAfterWebhook) await Promise.all([delivery, this.options.answerAfterWebhook]);
      answer(202, accepted);
    } finally {
      if (key) this.inFlight.delete(key);
    }
  }

  /** Later, as Postproxy does: the outcome of the send, as a signed webhook. */
  private schedule(message: FakeMessage): Promise<void> {
    const { webhookUrl, webhookSecret, deliveryDelayMs = 20 } = this.options;
    if (!webhookUrl) return Promise.resolve();
    const delivery = new Promise<void>((resolve) => setTimeout(resolve, deliveryDelayMs)).then(async () => {
      const failure = this.failingChats.get(message.chat_id);
      Object.assign(message, failure ? { status: "failed", error_message: failure } : { status: "published" });
      const type = failure ? "message.failed" : "message.sent";
      const now = new Date().toISOString();
      const object = { ...messageJson(message), external_id: failure ? null : `ext_${message.id}`, external_posted_at: failure ? null : now };
      const rawBody = JSON.stringify({ id: `evt_fake_${randomUUID()}`, object: "event", type, created_at: now, data: { object } });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "Postproxy-Webhooks/1.0",
        "x-postproxy-event": type,
        "x-postproxy-delivery": `dlv_fake_${randomUUID()}`,
      };
      if (webhookSecret) headers["x-postproxy-signature"] = signatureHeader(webhookSecret, rawBody, Math.floor(Date.now() / 1000));
      const status = await fetch(webhookUrl, { method: "POST", headers, body: rawBody }).then((res) => res.status, () => 0);
      this.deliveries.push({ type, messageId: message.id, status });
    });
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
    return delivery;
  }
}

function messageJson(message: FakeMessage) {
  const { idempotencyKey: _key, ...fields } = message;
  return { ...fields, direction: "outbound", external_id: null, created_at: new Date().toISOString() };
}

function header(request: IncomingMessage, name: string): string | null {
  const value = request.headers[name];
  return typeof value === "string" ? value : null;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}
