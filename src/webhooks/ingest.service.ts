import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import { mergeChat } from "../chats/chat-state";
import { Chat } from "../chats/chat.entity";
import { mergeMessage } from "../chats/message-state";
import { Message } from "../chats/message.entity";
import { isPostgres } from "../db/data-source";
import { WriteBatcher } from "../db/write-batcher";
import { Referral } from "../referrals/referral.entity";
import { fillReferral } from "../referrals/referral-order";
import { Envelope, Interpretation, interpretEvent, parseEnvelope, ReferralFacts, storableBody } from "./envelope";
import { WebhookEvent, WebhookEventStatus } from "./webhook-event.entity";

export interface Delivery {
  envelope: Envelope;
  rawBody: string;
  deliveryId: string | null;
  receivedAt: Date;
  /** Set when replaying a FAILED event: its stored duplicate count, kept across the replay. */
  replayOf?: WebhookEvent;
}

export interface IngestOutcome {
  status: WebhookEventStatus;
  duplicate: boolean;
}

export interface IngestOptions {
  storeMessageBodies: boolean;
  onFailure: (eventId: string, error: unknown) => void;
}

const MAX_BATCH = 256;

/** Turns accepted webhook deliveries into inbox rows and their effects, in batched transactions. */
export class IngestService {
  private readonly batcher = new WriteBatcher<Delivery, IngestOutcome>((batch) => this.commit(batch), MAX_BATCH);

  constructor(
    private readonly db: DataSource,
    private readonly options: IngestOptions,
  ) {}

  /** Resolves after the delivery's transaction commits; rejects only when nothing could be stored. */
  ingest(delivery: Delivery): Promise<IngestOutcome> {
    return this.batcher.submit(delivery);
  }

  /** Applies a FAILED event again from its stored body (after the cause is fixed). */
  async replay(event: WebhookEvent): Promise<IngestOutcome> {
    const parsed = parseEnvelope(event.rawBody);
    if (!parsed.ok) throw new Error(`stored body of ${event.id} no longer parses: ${parsed.reason}`);
    return this.ingest({ envelope: parsed.envelope, rawBody: event.rawBody, deliveryId: event.deliveryId, receivedAt: event.receivedAt, replayOf: event });
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async commit(batch: Delivery[]): Promise<IngestOutcome[]> {
    try {
      return await this.db.transaction((manager) => this.apply(manager, batch));
    } catch (error) {
      if (batch.length === 1) return [await this.recordFailure(batch[0], error)];
      // One event that cannot be applied must not take the rest of its batch down with it.
      const outcomes: IngestOutcome[] = [];
      for (const delivery of batch) outcomes.push(...(await this.commit([delivery])));
      return outcomes;
    }
  }

  private async apply(manager: EntityManager, batch: Delivery[]): Promise<IngestOutcome[]> {
    const interpretations = batch.map((d) => interpretEvent(d.envelope, d.receivedAt, this.options.storeMessageBodies));
    await this.lockKeys(manager, batch, interpretations);
    const replayed = batch.filter((d) => d.replayOf).map((d) => d.envelope.id);
    if (replayed.length > 0)
      await manager.createQueryBuilder().delete().from(WebhookEvent).where("id IN (:...replayed)", { replayed }).andWhere("status = :failed", { failed: WebhookEventStatus.FAILED }).execute();

    const ids = [...new Set(batch.map((d) => d.envelope.id))];
    const stored = new Map(
      (await manager.createQueryBuilder(WebhookEvent, "e").select(["e.id", "e.status"]).where("e.id IN (:...ids)", { ids }).getMany()).map((e) => [e.id, e.status]),
    );
    const outcomes: IngestOutcome[] = [];
    const fresh: { delivery: Delivery; interpretation: Interpretation }[] = [];
    const duplicates = new Map<string, number>();
    batch.forEach((delivery, i) => {
      const id = delivery.envelope.id;
      const seen = stored.get(id);
      if (seen) {
        duplicates.set(id, (duplicates.get(id) ?? 0) + 1);
        outcomes.push({ status: seen, duplicate: true });
      } else {
        stored.set(id, interpretations[i].status);
        fresh.push({ delivery, interpretation: interpretations[i] });
        outcomes.push({ status: interpretations[i].status, duplicate: false });
      }
    });

    if (fresh.length > 0) {
      await insertQuery(manager, WebhookEvent, fresh.map(({ delivery, interpretation }) => this.inboxRow(delivery, interpretation))).execute();
      await this.applyEffects(manager, fresh.map((f) => f.interpretation));
    }
    // After the inserts: a duplicate may repeat an event first seen earlier in this same batch.
    for (const [id, count] of duplicates)
      await manager.createQueryBuilder().update(WebhookEvent).set({ duplicates: () => `duplicates + ${count}` }).where("id = :id", { id }).execute();
    return outcomes;
  }

  private inboxRow(delivery: Delivery, interpretation: Interpretation): WebhookEvent {
    return Object.assign(new WebhookEvent(), {
      id: delivery.envelope.id,
      type: delivery.envelope.type,
      deliveryId: delivery.deliveryId,
      rawBody: storableBody(delivery.envelope, delivery.rawBody, this.options.storeMessageBodies),
      receivedAt: delivery.receivedAt,
      status: interpretation.status,
      error: interpretation.error,
      duplicates: delivery.replayOf?.duplicates ?? 0,
    });
  }

  private async applyEffects(manager: EntityManager, interpretations: Interpretation[]): Promise<void> {
    const chats = interpretations.flatMap((i) => (i.chat ? [i.chat] : []));
    const messages = interpretations.flatMap((i) => (i.message ? [i.message] : []));
    await mergeInto(manager, Chat, chats, mergeChat);
    await mergeInto(manager, Message, messages, mergeMessage);
    await insertReferrals(manager, chats.flatMap((c) => (c.referral ? [c.referral] : [])));
  }

  /**
   * On PostgreSQL several instances may ingest at once: each batch first takes transaction-scoped advisory locks on
   * every event, chat and message it touches, in one global order (so no deadlock), making its reads and merges
   * as safe as on SQLite, where one process is the only writer.
   */
  private async lockKeys(manager: EntityManager, batch: Delivery[], interpretations: Interpretation[]): Promise<void> {
    if (!isPostgres(manager.connection)) return;
    const keys = new Set<string>();
    batch.forEach((d) => keys.add(`event:${d.envelope.id}`));
    interpretations.forEach((i) => {
      if (i.chat) keys.add(`chat:${i.chat.id}`);
      if (i.message) keys.add(`message:${i.message.id}`);
    });
    await manager.query("SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n) ORDER BY n", [
      [...keys].sort(),
    ]);
  }

  private async recordFailure(delivery: Delivery, error: unknown): Promise<IngestOutcome> {
    this.options.onFailure(delivery.envelope.id, error);
    const reason = `applying the event failed: ${error instanceof Error ? error.message : String(error)}`;
    const row = this.inboxRow(delivery, { status: WebhookEventStatus.FAILED, error: reason });
    await this.db.transaction(async (manager) => {
      if (delivery.replayOf) await manager.update(WebhookEvent, { id: row.id }, { error: reason });
      else await insertQuery(manager, WebhookEvent, [row]).orIgnore().execute();
    });
    return { status: WebhookEventStatus.FAILED, duplicate: false };
  }
}

const insertQuery = <E extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<E>, rows: E[]) =>
  manager.createQueryBuilder().insert().into(entity).values(rows as never).updateEntity(false);

/**
 * The same (chat, ref, time) carried by a referral event and by a message event is one referral: the first event
 * to carry it names it, and details only one of them had (source, type, ad) fill the gaps, in any arrival order.
 */
async function insertReferrals(manager: EntityManager, facts: ReferralFacts[]): Promise<void> {
  if (facts.length === 0) return;
  const byKey = new Map<string, ReferralFacts>();
  for (const fact of facts) {
    const key = `${fact.chatId}\u0000${fact.ref}\u0000${fact.receivedAt.getTime()}`;
    byKey.set(key, fillReferral(byKey.get(key), fact));
  }
  const [insert, parameters] = insertQuery(manager, Referral, [...byKey.values()].map((f) => Object.assign(new Referral(), f))).getQueryAndParameters();
  const fill = ["source", "type", "ad_id", "ads_context"].map((column) => `${column} = COALESCE(referral.${column}, excluded.${column})`);
  await manager.query(`${insert} ON CONFLICT (chat_id, ref, received_at) DO UPDATE SET ${fill.join(", ")}`, parameters);
}

/** Reads the rows these facts touch, folds the facts in with `merge`, and writes the results back in one upsert. */
async function mergeInto<E extends ObjectLiteral & { id: string }, F extends { id: string }>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  facts: F[],
  merge: (current: E | null, facts: F) => E,
): Promise<void> {
  if (facts.length === 0) return;
  const ids = [...new Set(facts.map((f) => f.id))];
  const rows = new Map((await manager.createQueryBuilder(entity, "row").where("row.id IN (:...ids)", { ids }).getMany()).map((row) => [row.id, row]));
  for (const fact of facts) rows.set(fact.id, merge(rows.get(fact.id) ?? null, fact));
  const columns = manager.connection.getMetadata(entity).columns.map((c) => c.databaseName).filter((name) => name !== "id");
  await insertQuery(manager, entity, [...rows.values()]).orUpdate(columns, ["id"]).execute();
}
