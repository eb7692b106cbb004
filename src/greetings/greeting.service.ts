import { randomUUID } from "node:crypto";
import { DataSource } from "typeorm";
import { maySend } from "../chats/messaging-window";
import { ChatService } from "../chats/chat.service";
import { parameterMarker } from "../db/bulk-insert";
import { badUserInput, notFound, RefgraphError } from "../errors";
import { PostproxyClient } from "../postproxy/postproxy.client";
import { ReferralService } from "../referrals/referral.service";
import { Greeting, GreetingStatus, GreetingTag } from "./greeting.entity";
import { afterAttempt } from "./outbox";

export interface SendGreetingRequest {
  chatId: string;
  body: string;
  idempotencyKey?: string;
  tag?: GreetingTag;
}

export const MAX_BODY_LENGTH = 1000;
const MAX_KEY_LENGTH = 200;

/**
 * The greeting outbox. A greeting is recorded (QUEUED) before any call to Postproxy, and each attempt first claims
 * it (QUEUED → SENDING in one conditional UPDATE), so no two attempts run at once; the greeting's id is the
 * Idempotency-Key of every attempt, so Postproxy sends it at most once.
 *
 * Its writes are single statements outside ingestion's batched transactions: on SQLite they go through the read
 * connection, as a statement on the writer could land inside a batch that later rolls back.
 */
export class GreetingService {
  constructor(
    private readonly db: DataSource,
    private readonly postproxy: PostproxyClient | null,
    private readonly chats: ChatService,
    private readonly referrals: ReferralService,
  ) {}

  async send(request: SendGreetingRequest, now: Date): Promise<Greeting> {
    if (!this.postproxy) throw new RefgraphError("POSTPROXY_NOT_CONFIGURED", "POSTPROXY_API_KEY is not set: refgraph cannot send through Postproxy.");
    const { chatId, body, idempotencyKey, tag } = request;
    if (body.trim().length === 0 || body.length > MAX_BODY_LENGTH) throw badUserInput("input.body", `must be 1 to ${MAX_BODY_LENGTH} characters, not blank`);
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_KEY_LENGTH))
      throw badUserInput("input.idempotencyKey", `must be 1 to ${MAX_KEY_LENGTH} characters`);
    const chat = await this.chats.get(chatId);
    if (!chat) throw notFound(`Chat '${chatId}'`);
    const allowed = maySend(chat.referralReceivedAt, chat.lastInboundAt, tag === GreetingTag.HUMAN_AGENT, now);
    if (!allowed.ok)
      throw new RefgraphError(
        "MESSAGING_WINDOW_CLOSED",
        allowed.expiresAt
          ? `The messaging window of chat '${chatId}' closed at ${allowed.expiresAt.toISOString()}.`
          : `Chat '${chatId}' has no referral or message that opened a messaging window.`,
        { expiresAt: allowed.expiresAt?.toISOString() ?? null },
      );

    const [referral] = chat.referralRef && chat.referralReceivedAt ? await this.referrals.byPoints([{ chatId, ref: chat.referralRef, receivedAt: chat.referralReceivedAt }]) : [null];
    // By default one greeting per (chat, latest referral): the same call again returns it and sends nothing.
    const key = idempotencyKey ?? `referral:${referral?.id ?? "none"}`;
    const id = randomUUID();
    const marker = parameterMarker(this.db);
    await this.db.query(
      `INSERT INTO greeting (id, chat_id, referral_id, idempotency_key, body, tag, status, attempts, created_at)
       VALUES (${[1, 2, 3, 4, 5, 6, 7].map(marker).join(", ")}, 0, ${marker(8)})
       ON CONFLICT (chat_id, idempotency_key) DO NOTHING`,
      [id, chatId, referral?.id ?? null, key, body, tag ?? null, GreetingStatus.QUEUED, now.getTime()],
    );
    // Whichever call stored its row first owns the greeting; the others answer with it and send nothing.
    const stored = await this.db.getRepository(Greeting).findOneByOrFail({ chatId, idempotencyKey: key });
    return stored.id === id ? this.attempt(id, now) : stored;
  }

  /** One attempt at a QUEUED greeting: claims it, calls Postproxy, records the outcome (outbox.ts). */
  async attempt(id: string, now: Date): Promise<Greeting> {
    const greetings = this.db.getRepository(Greeting);
    const claim = await greetings.update({ id, status: GreetingStatus.QUEUED }, { status: GreetingStatus.SENDING, attempts: () => "attempts + 1" });
    const greeting = await greetings.findOneByOrFail({ id });
    if (claim.affected !== 1 || !this.postproxy) return greeting;
    const outcome = await this.postproxy.sendMessage({ chatId: greeting.chatId, body: greeting.body, tag: greeting.tag ?? undefined, idempotencyKey: greeting.id });
    await greetings.update({ id, status: GreetingStatus.SENDING }, afterAttempt(outcome, greeting.attempts, now));
    return greetings.findOneByOrFail({ id });
  }
}
