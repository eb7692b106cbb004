import { sendFailure, SendOutcome, sendOutcome } from "./send-outcome";

export const DEFAULT_POSTPROXY_BASE_URL = "https://api.postproxy.dev";
const TIMEOUT_MS = 10_000;

export interface OutgoingMessage {
  chatId: string;
  body: string;
  /** HUMAN_AGENT: a human's reply up to 7 days after the person's last message. */
  tag?: "HUMAN_AGENT";
  /** The same key for every attempt of one message, so Postproxy sends it at most once. */
  idempotencyKey: string;
}

export interface PostproxyClientOptions {
  baseUrl: string;
  apiKey: string;
  /** How long one attempt may take, answer included (default 10 s). */
  timeoutMs?: number;
}

/** Sends messages through Postproxy's REST API; every failure comes back as an outcome, never as a throw. */
export class PostproxyClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: PostproxyClientOptions) {
    this.timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  }

  async sendMessage({ chatId, body, tag, idempotencyKey }: OutgoingMessage): Promise<SendOutcome> {
    const url = `${this.options.baseUrl.replace(/\/+$/, "")}/api/chats/${encodeURIComponent(chatId)}/messages`;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${this.options.apiKey}`, "content-type": "application/json", "idempotency-key": idempotencyKey },
        body: JSON.stringify(tag ? { body, tag } : { body }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      return sendOutcome(response.status, text, response.headers.get("retry-after"), Date.now());
    } catch (error) {
      if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError"))
        return sendFailure("TIMEOUT", `Postproxy did not answer within ${this.timeoutMs / 1000} s`);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return sendFailure("CONNECTION_FAILED", `the connection to Postproxy failed (${cause?.code ?? cause?.message ?? String(error)})`);
    }
  }
}
