import { randomUUID } from "node:crypto";
import { DataSource, EntityManager } from "typeorm";
import { maySend } from "../chats/messaging-window";
import { ChatService } from "../chats/chat.service";
import { parameterMarker } from "../db/bulk-insert";
import { isPostgres } from "../db/data-source";
import { retryWhenBusy } from "../db/busy";
import { revisionSql } from "../db/revision";
import { Keyset, Page, PageArgs, paginate } from "../graphql/connection";
import { badUserInput, notFound, RefgraphError } from "../errors";
import { PostproxyClient } from "../postproxy/postproxy.client";
import { ReferralService } from "../referrals/referral.service";
import { Greeting, GreetingStatus, GreetingTag } from "./greeting.entity";
import { afterAttempt } from "./outbox";

const ENDED = "m.status IN ('sent', 'delivered', 'read', 'failed')";

/**
 * Settles PENDING greetings whose Postproxy message has reached its end, as `message.sent` (then delivered, read)
 * or `message.failed` recorded it: PUBLISHED, or FAILED with Postproxy's reason. Only the given messages when
 * `messageIds` is set (ingestion, an attempt), else every PENDING greeting (the worker's sweep, which also covers a
 * webhook that committed while the greeting's attempt was still recording its message id). Their referrals are
 * then restamped, so campaignStats' copy counts what was published.
 */
export async function settleGreetings(runner: DataSource | EntityManager, messageIds?: string[]): Promise<void> {
  if (runner instanceof DataSource) {
    const ids =
      messageIds ??
      (await runner.query(`SELECT m.id FROM greeting JOIN message m ON m.id = greeting.postproxy_message_id WHERE greeting.status = '${GreetingStatus.PENDING}' AND ${ENDED}`)).map(
        (row: { id: string }) => row.id,
      );
    // On SQLite this connection serves every read and must never hold a transaction open; as the restamp follows the
    // settle, a crash between the two leaves only this process's copy behind, and a restart reads it afresh.
    return isPostgres(runner) ? runner.transaction((manager) => settle(manager, ids)) : settle(runner, ids);
  }
  return settle(runner, messageIds ?? []);
}

async function settle(runner: DataSource | EntityManager, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  const connection = runner instanceof DataSource ? runner : runner.connection;
  const marker = parameterMarker(connection);
  const ids = messageIds.map((_, i) => marker(i + 1)).join(", ");
  await runner.query(
    `UPDATE greeting SET
       status = CASE WHEN m.status = 'failed' THEN '${GreetingStatus.FAILED}' ELSE '${GreetingStatus.PUBLISHED}' END,
       error = CASE WHEN m.status = 'failed' THEN COALESCE(m.error_message, 'Postproxy reported that the message failed') ELSE greeting.error END
     FROM message m WHERE m.id = greeting.postproxy_message_id AND greeting.status = '${GreetingStatus.PENDING}' AND ${ENDED} AND m.id IN (${ids})`,
    messageIds,
  );
  await runner.query(
    `UPDATE referral SET revision = ${revisionSql(connection)} WHERE id IN (SELECT referral_id FROM greeting WHERE postproxy_message_id IN (${ids}))`,
    messageIds,
  );
}

/**
 * Restamps the referrals of the chats' greetings that are or may become PUBLISHED, after messages in those chats:
 * an inbound one may be a reply to a greeting (campaignStats' greetingReplies), an outbound one may be a greeting's
 * message. Restamping not only PUBLISHED ones means a greeting settled by a transaction this one cannot see yet is
 * covered too: its row was committed before it was sent, so long before any reply.
 */
export async function restampGreetedReferrals(manager: EntityManager, chatIds: string[], revision: number): Promise<void> {
  if (chatIds.length === 0) return;
  const marker = parameterMarker(manager.connection);
  await manager.query(
    `UPDATE referral SET revision = ${revision} WHERE id IN (SELECT referral_id FROM greeting
       WHERE chat_id IN (${chatIds.map((_, i) => marker(i + 1)).join(", ")}) AND status NOT IN ('${GreetingStatus.FAILED}', '${GreetingStatus.SKIPPED}'))`,
    chatIds,
  );
}

export interface GreetingListFilter {
  status?: GreetingStatus;
  chatId?: string;
  /** Greetings of referrals with this ref. */
  ref?: string;
}

// Ties in time are ordered by id, so pages never skip or repeat a greeting.
const newestFirst: Keyset = [
  { sql: "greeting.created_at", of: (g: Greeting) => g.createdAt.getTime(), type: "number" },
  { sql: "greeting.id", of: (g: Greeting) => g.id, type: "string" },
];

export interface SendGreetingRequest {
  chatId: string;
  body: string;
  idempotencyKey?: string;
  tag?: GreetingTag;
}

export const MAX_BODY_LENGTH = 1000;
/** How long a claimed attempt may take before another may take it over: well over the client's 10 s timeout. */
const LEASE_MS = 60_000;
/** Greetings one turn of the worker attempts, one after another. */
const RETRY_BATCH = 50;
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
    await retryWhenBusy(() =>
      this.db.query(
        `INSERT INTO greeting (id, chat_id, referral_id, idempotency_key, body, tag, status, attempts, created_at)
         VALUES (${[1, 2, 3, 4, 5, 6, 7].map(marker).join(", ")}, 0, ${marker(8)})
         ON CONFLICT (chat_id, idempotency_key) DO NOTHING`,
        [id, chatId, referral?.id ?? null, key, body, tag ?? null, GreetingStatus.QUEUED, now.getTime()],
      ),
    );
    // Whichever call stored its row first owns the greeting; the others answer with it and send nothing.
    const stored = await this.db.getRepository(Greeting).findOneByOrFail({ chatId, idempotencyKey: key });
    return stored.id === id ? this.attempt(id, now) : stored;
  }

  /**
   * One attempt at a greeting that is due: claims it for a lease (SENDING, with next_attempt_at at the lease's
   * end), calls Postproxy, and records the outcome (outbox.ts) unless the lease was lost. A SENDING greeting whose
   * lease ran out was abandoned by a crash or a restart: it is due again, and as every attempt carries the same
   * Idempotency-Key, Postproxy still sends it at most once.
   */
  async attempt(id: string, now: Date): Promise<Greeting> {
    const greetings = this.db.getRepository(Greeting);
    const lease = now.getTime() + LEASE_MS;
    const claim = await retryWhenBusy(() =>
      greetings
        .createQueryBuilder()
        .update()
        .set({ status: GreetingStatus.SENDING, attempts: () => "attempts + 1", nextAttemptAt: () => String(lease) })
        .where("id = :id AND status IN (:...due) AND COALESCE(next_attempt_at, 0) <= :now", { id, due: [GreetingStatus.QUEUED, GreetingStatus.SENDING], now: now.getTime() })
        .execute(),
    );
    const greeting = await greetings.findOneByOrFail({ id });
    if (claim.affected !== 1 || !this.postproxy) return greeting;
    const outcome = await this.postproxy.sendMessage({ chatId: greeting.chatId, body: greeting.body, tag: greeting.tag ?? undefined, idempotencyKey: greeting.id });
    const result = afterAttempt(outcome, greeting.attempts, now);
    await retryWhenBusy(() =>
      greetings
        .createQueryBuilder()
        .update()
        .set(result)
        .where("id = :id AND status = :sending AND next_attempt_at = :lease", { id, sending: GreetingStatus.SENDING, lease })
        .execute(),
    );
    if (result.postproxyMessageId) await retryWhenBusy(() => settleGreetings(this.db, [result.postproxyMessageId as string]));
    return greetings.findOneByOrFail({ id });
  }

  /** Newest first. */
  list(filter: GreetingListFilter, page: PageArgs): Promise<Page<Greeting>> {
    const query = this.db.getRepository(Greeting).createQueryBuilder("greeting");
    if (filter.status !== undefined) query.andWhere("greeting.status = :status", { status: filter.status });
    if (filter.chatId !== undefined) query.andWhere("greeting.chat_id = :chatId", { chatId: filter.chatId });
    if (filter.ref !== undefined) query.andWhere("greeting.referral_id IN (SELECT r.id FROM referral r WHERE r.ref = :ref)", { ref: filter.ref });
    return paginate(query, newestFirst, page);
  }

  /** The worker's turn: settles PENDING greetings, then attempts the ones due (QUEUED, or SENDING past its lease). */
  async retryDue(now: Date): Promise<void> {
    await retryWhenBusy(() => settleGreetings(this.db));
    const due: { id: string }[] = await this.db
      .getRepository(Greeting)
      .createQueryBuilder("greeting")
      .select("greeting.id", "id")
      .where("greeting.status IN (:...due) AND greeting.next_attempt_at <= :now", { due: [GreetingStatus.QUEUED, GreetingStatus.SENDING], now: now.getTime() })
      .orderBy("greeting.next_attempt_at")
      .limit(RETRY_BATCH)
      .getRawMany();
    for (const { id } of due) await this.attempt(id, now);
  }
}
