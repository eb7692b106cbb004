import { randomUUID } from "node:crypto";
import { DataSource, QueryRunner } from "typeorm";
import { reportAffected } from "../analytics/copy-changes";
import { maySend } from "../chats/messaging-window";
import { ChatService } from "../chats/chat.service";
import { parameterList, parameterMarker } from "../db/bulk-insert";
import { isPostgres } from "../db/data-source";
import { retryWhenBusy, writeTransaction } from "../db/busy";
import { Settled, WriteBatcher } from "../db/write-batcher";
import { Keyset, Page, PageArgs, paginate } from "../graphql/connection";
import { badUserInput, notFound, RefgraphError } from "../errors";
import { PostproxyClient } from "../postproxy/postproxy.client";
import { ReferralService } from "../referrals/referral.service";
import { Greeting, GreetingStatus, GreetingTag } from "./greeting.entity";
import type { GreetingFilter } from "./greeting-filter";
import { afterAttempt, AttemptResult, sendsPaused, sendsPausedUntil } from "./retry-policy";
import { settleEndedGreetings, settleStatuses } from "./settlement";

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
const MAX_KEY_LENGTH = 200;
/** Outcomes written in one transaction at most. */
const OUTCOME_BATCH = 100;

/** A greeting claimed for one attempt, until `lease` (its next_attempt_at while SENDING). */
export interface ClaimedGreeting {
  id: string;
  chatId: string;
  body: string;
  tag: GreetingTag | null;
  attempts: number;
  lease: number;
}

interface Outcome {
  claim: ClaimedGreeting;
  result: AttemptResult;
}

/**
 * The greeting outbox. A greeting is recorded before any call to Postproxy, and each attempt first claims it
 * (SENDING with a lease), so no two attempts run at once; the greeting's id is the Idempotency-Key of every
 * attempt, so Postproxy sends it at most once.
 *
 * Its writes are transactions on the writer (writeTransaction), outcomes batched (WriteBatcher). A 429 from
 * Postproxy pauses every send of this instance (not of others on the same database) until Retry-After has passed.
 */
export class GreetingService {
  private pausedUntil: Date | null = null;
  private readonly outcomes = new WriteBatcher<Outcome, void>((batch) => this.recordOutcomes(batch), OUTCOME_BATCH);

  constructor(
    private readonly writer: DataSource,
    private readonly reader: DataSource,
    private readonly postproxy: PostproxyClient | null,
    private readonly chats: ChatService,
    private readonly referrals: ReferralService,
  ) {}

  get canSend(): boolean {
    return this.postproxy !== null;
  }

  sendsPaused(now: Date): boolean {
    return sendsPaused(now, this.pausedUntil);
  }

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
    // While sends are paused it waits QUEUED for the worker; else it is stored already claimed, and sent at once.
    const paused = this.sendsPaused(now);
    const claim: ClaimedGreeting = { id: randomUUID(), chatId, body, tag: tag ?? null, attempts: paused ? 0 : 1, lease: now.getTime() + LEASE_MS };
    await retryWhenBusy(() =>
      writeTransaction(this.writer, (manager) =>
        manager.query(
          `INSERT INTO greeting (id, chat_id, referral_id, idempotency_key, body, tag, status, attempts, next_attempt_at, created_at)
           VALUES (${parameterList(this.writer, 10)})
           ON CONFLICT (chat_id, idempotency_key) DO NOTHING`,
          [claim.id, chatId, referral?.id ?? null, key, body, tag ?? null, paused ? GreetingStatus.QUEUED : GreetingStatus.SENDING, claim.attempts, paused ? now.getTime() : claim.lease, now.getTime()],
        ),
      ),
    );
    // Whichever call stored its row first owns the greeting; the others answer with it and send nothing.
    const greetings = this.reader.getRepository(Greeting);
    const stored = await greetings.findOneByOrFail({ chatId, idempotencyKey: key });
    if (stored.id !== claim.id || paused) return stored;
    await this.attempt(claim, now);
    return greetings.findOneByOrFail({ id: claim.id });
  }

  /**
   * Claims up to `limit` greetings that are due (QUEUED, or SENDING past its lease: abandoned by a crash or a
   * restart; as every attempt carries the same Idempotency-Key, Postproxy still sends it at most once), oldest due
   * first, in one statement. On PostgreSQL SKIP LOCKED lets instances claim side by side, never the same greeting.
   */
  async claimDue(now: Date, limit: number): Promise<ClaimedGreeting[]> {
    const lease = now.getTime() + LEASE_MS;
    const marker = parameterMarker(this.writer);
    const skipLocked = isPostgres(this.writer) ? "FOR UPDATE SKIP LOCKED" : "";
    // Starting with WITH, not UPDATE, also makes TypeORM's SQLite driver return the rows RETURNING gives.
    const sql = `WITH due AS (
        SELECT id FROM greeting WHERE status IN ('${GreetingStatus.QUEUED}', '${GreetingStatus.SENDING}') AND next_attempt_at <= ${marker(1)}
        ORDER BY next_attempt_at LIMIT ${marker(2)} ${skipLocked})
      UPDATE greeting SET status = '${GreetingStatus.SENDING}', attempts = attempts + 1, next_attempt_at = ${marker(3)}
      WHERE id IN (SELECT id FROM due)
      RETURNING id, chat_id, body, tag, attempts`;
    const rows: { id: string; chat_id: string; body: string; tag: GreetingTag | null; attempts: number }[] = await retryWhenBusy(() =>
      writeTransaction(this.writer, async (manager) => (await (manager.queryRunner as QueryRunner).query(sql, [now.getTime(), limit, lease], true)).records),
    );
    return rows.map((row) => ({ id: row.id, chatId: row.chat_id, body: row.body, tag: row.tag, attempts: Number(row.attempts), lease }));
  }

  /** Sends a claimed greeting and records the outcome (retry-policy.ts) unless the lease was lost; a 429 pauses every send. */
  async attempt(claim: ClaimedGreeting, now: Date): Promise<void> {
    if (!this.postproxy) return;
    const outcome = await this.postproxy.sendMessage({ chatId: claim.chatId, body: claim.body, tag: claim.tag ?? undefined, idempotencyKey: claim.id });
    if (!outcome.ok && outcome.kind === "RATE_LIMITED") {
      const until = sendsPausedUntil(now, outcome.retryAfterMs);
      if (!this.pausedUntil || until > this.pausedUntil) this.pausedUntil = until;
    }
    await this.outcomes.submit({ claim, result: afterAttempt(outcome, claim.attempts, now) });
  }

  /** Settles PENDING greetings whose message has ended (the worker's sweep). */
  settlePending(): Promise<void> {
    return retryWhenBusy(() => settleEndedGreetings(this.writer));
  }

  /** Resolves once every outcome submitted so far is written. */
  drain(): Promise<void> {
    return this.outcomes.drain();
  }

  /** Many attempts' outcomes in one transaction: referrals first (see settleStatuses), then greetings. */
  private async recordOutcomes(batch: Outcome[]): Promise<Settled<void>[]> {
    const connection = this.writer;
    const accepted = batch.filter(({ result }) => result.postproxyMessageId !== null);
    const cast = (i: number, type: string) => `CAST(${parameterMarker(connection)(i)} AS ${type})`;
    const rows = batch.map((_, row) => {
      const at = row * 7;
      return `(${cast(at + 1, "text")}, ${cast(at + 2, "text")}, ${cast(at + 3, "text")}, ${cast(at + 4, "text")}, ${cast(at + 5, "bigint")}, ${cast(at + 6, "bigint")}, ${cast(at + 7, "bigint")})`;
    });
    const values = batch.flatMap(({ claim, result }) => [
      claim.id,
      result.status,
      result.error,
      result.postproxyMessageId,
      result.sentAt?.getTime() ?? null,
      result.nextAttemptAt?.getTime() ?? null,
      claim.lease,
    ]);
    await retryWhenBusy(() =>
      writeTransaction(this.writer, async (manager) => {
        await reportAffected(manager, { ofGreetings: accepted.map(({ claim }) => claim.id) });
        // Only while the attempt still holds its lease: one that outlived it was taken over.
        await manager.query(
          `UPDATE greeting SET status = v.column2, error = v.column3, postproxy_message_id = v.column4, sent_at = v.column5, next_attempt_at = v.column6
           FROM (VALUES ${rows.join(", ")}) AS v
           WHERE greeting.id = v.column1 AND greeting.status = '${GreetingStatus.SENDING}' AND greeting.next_attempt_at = v.column7`,
          values,
        );
        await settleStatuses(manager, accepted.map(({ result }) => result.postproxyMessageId as string));
      }),
    );
    return batch.map(() => ({ ok: true, value: undefined }));
  }

  /** Newest first. */
  list(filter: GreetingFilter, page: PageArgs): Promise<Page<Greeting>> {
    const query = this.reader.getRepository(Greeting).createQueryBuilder("greeting");
    if (filter.status !== undefined) query.andWhere("greeting.status = :status", { status: filter.status });
    if (filter.chatId !== undefined) query.andWhere("greeting.chat_id = :chatId", { chatId: filter.chatId });
    if (filter.ref !== undefined) query.andWhere("greeting.referral_id IN (SELECT r.id FROM referral r WHERE r.ref = :ref)", { ref: filter.ref });
    return paginate(query, newestFirst, page);
  }
}
